/* fuzz_http_target.c - request-target normalisation on any bytes: the
 * result is never longer than the input, starts with '/', holds no dot
 * segment and no "//" in its path, and normalising it again changes
 * nothing. Prefix matching of the result as a backend that decodes
 * encoded slashes reads it agrees with a model: decode "%2F" and "%5C",
 * merge the slashes, then match as the route rule does. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The model: the path (before '?') with "%2F"/"%5C" decoded and runs of
 * '/' merged, the query as it is. */
static size_t model_decode(const char *p, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i < n && p[i] != '?'; i++) {
		char c = p[i];

		if (c == '%' && i + 2 < n &&
		    ((p[i + 1] == '2' && p[i + 2] == 'F') || (p[i + 1] == '5' && p[i + 2] == 'C'))) {
			c = '/';
			i += 2;
		}
		if (c == '/' && o && out[o - 1] == '/')
			continue;
		out[o++] = c;
	}
	memcpy(out + o, p + i, n - i);
	return o + (n - i);
}

static void check_prefixes(const char *p, size_t n)
{
	static const char *const prefixes[] = { "/", "/admin", "/a/b", "/a" };
	char *d = malloc(n + 1);
	struct str path = str_make(p, n), dec;

	assert(d);
	dec = str_make(d, model_decode(p, n, d));
	for (size_t k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
		size_t plen = strlen(prefixes[k]);
		bool raw = http_path_prefix_match(path, prefixes[k], plen);
		bool decoded = http_path_prefix_match_decoded(path, prefixes[k], plen);

		assert(decoded == http_path_prefix_match(dec, prefixes[k], plen));
		assert(!raw || decoded);
		assert(raw == decoded || http_path_has_encoded_slash(path));
	}
	free(d);
}

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
		check_prefixes(p, n);
	}
	free(p);
	return 0;
}
