/* fuzz_http_chunked.c - the chunked decoder on any bytes, fed in pieces
 * whose sizes the first byte picks; the decoded body must not depend on
 * how the input was split. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/chunked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns the consumed count or -1, with a hash of the body in *sum. */
static long decode(const char *p, size_t len, size_t step, uint64_t *sum,
		   uint64_t *n)
{
	struct http_chunked c = { 0 };
	size_t i = 0;

	http_chunked_init(&c, true);
	*sum = 1469598103934665603ULL;
	*n = 0;
	while (i < len && !http_chunked_done(&c)) {
		size_t avail = len - i < step ? len - i : step;
		struct str d;
		ssize_t r = http_chunked_feed(&c, p + i, avail, &d);
		if (r < 0) {
			http_chunked_free(&c);
			return -1;
		}
		if (r == 0 || (size_t)r > avail)
			abort();
		for (size_t k = 0; k < d.len; k++)
			*sum = (*sum ^ (uint8_t)d.p[k]) * 1099511628211ULL;
		*n += d.len;
		i += (size_t)r;
	}
	if (c.trailers.len > HTTP_TRAILERS_MAX)
		abort();
	http_chunked_free(&c);
	return (long)i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t s1, s2, n1, n2;
	long r1, r2;
	size_t step;

	if (size < 1)
		return 0;
	step = (size_t)(data[0] % 17) + 1;
	r1 = decode((const char *)data + 1, size - 1, size, &s1, &n1);
	r2 = decode((const char *)data + 1, size - 1, step, &s2, &n2);
	if (r1 != r2 || (r1 >= 0 && (s1 != s2 || n1 != n2)))
		abort();
	return 0;
}
