/* fuzz_http_request.c - the request head parser on any bytes, whole and
 * split in two at every offset the first byte picks, which must agree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct http_limits lim = {
	.max_line = 4096, .max_head = 8192, .max_headers = 64, .max_body = 0,
};

static void check_views(const struct http_msg *m, const char *p, size_t len)
{
	for (unsigned i = 0; i < m->nhdr; i++) {
		if (m->hdr[i].name.p < p || m->hdr[i].name.p + m->hdr[i].name.len > p + len)
			abort();
		if (m->hdr[i].value.len &&
		    (m->hdr[i].value.p < p || m->hdr[i].value.p + m->hdr[i].value.len > p + len))
			abort();
	}
	if (m->head_len > len || m->nhdr > lim.max_headers)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_msg m1, m2;
	size_t scan = 0, split;
	const char *p = (const char *)data;
	int r1, r2;

	if (size < 1)
		return 0;
	split = data[0] % size;
	p++;
	size--;
	r1 = http_parse_request(&m1, p, size, &lim, &scan);
	if (r1 > 0)
		check_views(&m1, p, size);
	scan = 0;
	r2 = http_parse_request(&m2, p, split, &lim, &scan);
	if (r2 == 0)
		r2 = http_parse_request(&m2, p, size, &lim, &scan);
	/* Feeding in two steps must reach the same verdict. */
	if ((r1 > 0) != (r2 > 0) || (r1 > 0 && r1 != r2))
		abort();
	if (r1 > 0 && (m1.body != m2.body || m1.content_length != m2.content_length))
		abort();
	if (r1 > 0) {
		http_msg_hop_by_hop(&m1, STR_LIT("x-a"));
		http_msg_find(&m1, STR_LIT("host"));
	}
	return 0;
}
