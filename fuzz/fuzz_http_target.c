/* fuzz_http_target.c - request-target normalisation on any bytes: the
 * result is never longer than the input, starts with '/', holds no dot
 * segment and no "//" in its path, and normalising it again changes
 * nothing. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p = malloc(size + 1), *again;
	size_t n = size, n2, plen;

	if (!p)
		return 0;
	memcpy(p, data, size);
	if (http_target_normalize(p, &n) == 0 && size && p[0] == '/') {
		const char *q = memchr(p, '?', n);
		plen = q ? (size_t)(q - p) : n;
		assert(n <= size && plen >= 1 && p[0] == '/');
		for (size_t i = 0; i + 1 < plen; i++)
			assert(!(p[i] == '/' && p[i + 1] == '/'));
		for (size_t i = 0; i < plen; i++) {
			size_t e = i + 1;
			if (p[i] != '/')
				continue;
			while (e < plen && p[e] != '/')
				e++;
			assert(!(e - i == 2 && p[i + 1] == '.'));
			assert(!(e - i == 3 && p[i + 1] == '.' && p[i + 2] == '.'));
		}
		again = malloc(n + 1);
		assert(again);
		memcpy(again, p, n);
		n2 = n;
		assert(http_target_normalize(again, &n2) == 0);
		assert(n2 == n && memcmp(again, p, n) == 0);
		free(again);
	}
	free(p);
	return 0;
}
