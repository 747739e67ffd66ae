/* fuzz_http_response.c - the upstream response head parser on any bytes;
 * the first byte picks the request method the response answers. */
#include <stdint.h>
#include <stdlib.h>

#include "http/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct http_limits lim = {
	.max_line = 4096, .max_head = 8192, .max_headers = 64, .max_body = 0,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_msg m;
	size_t scan = 0;
	enum http_method meth;
	int r;

	if (size < 1)
		return 0;
	meth = (enum http_method)(data[0] % HTTP_M_MAX);
	r = http_parse_response(&m, (const char *)data + 1, size - 1, &lim,
				&scan, meth);
	if (r > 0) {
		if ((size_t)r > size - 1 || m.status < 100 || m.status > 999)
			abort();
		if (meth == HTTP_M_HEAD && m.body != HTTP_BODY_NONE)
			abort();
	}
	return 0;
}
