/* array.c - growing a caller's array by doubling (see array.h). */
#include "core/array.h"

#include <stdint.h>
#include <stdlib.h>

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
