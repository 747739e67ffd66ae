/* array.c - growing a caller's array by doubling (see array.h). */
#include "core/array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int array_grow(void **arr, size_t n, size_t *cap, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 16;
	void *p;

	if (n < *cap)
		return 0;
	if (ncap < *cap || !size || ncap > SIZE_MAX / size)
		return -1;
	p = realloc(*arr, ncap * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

int array_push(void **arr, size_t *n, size_t *cap, const void *elem, size_t size)
{
	if (array_grow(arr, *n, cap, size) < 0)
		return -1;
	memcpy((char *)*arr + *n * size, elem, size);
	(*n)++;
	return 0;
}
