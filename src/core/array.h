/* array.h - growing a caller's array by doubling.
 *
 * The one way to append to a realloc'd array of fixed-size elements: the
 * caller keeps the pointer, its count n and its capacity. */
#ifndef POSTERN_CORE_ARRAY_H
#define POSTERN_CORE_ARRAY_H

#include <stddef.h>

/* Makes *arr (elements of `size` bytes, n in use, *cap allocated) hold at
 * least one more: leaves it when n < *cap, else doubles it (16 at first).
 * Returns 0, or -1 (out of memory or the size overflows) with *arr and
 * *cap unchanged. */
int array_grow(void **arr, size_t n, size_t *cap, size_t size);

/* Appends a copy of *elem (`size` bytes) to *arr, grown as by array_grow,
 * and counts it in *n; `elem` must not point into *arr (growing may move
 * it). Returns 0, or -1 (out of memory) with nothing changed. ARRAY_PUSH
 * takes the array, its count and capacity by name. */
int array_push(void **arr, size_t *n, size_t *cap, const void *elem, size_t size);
#define ARRAY_PUSH(arr, n, cap, elem) \
	array_push((void **)&(arr), &(n), &(cap), (elem), sizeof(*(arr)))

#endif
