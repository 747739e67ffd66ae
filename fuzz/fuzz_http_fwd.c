/* fuzz_http_fwd.c - a forward-auth call's X-Forwarded-* description
 * (http/fwd.c) on any request head: when accepted, the host is one plain
 * authority, the URI a normalised origin-form target that normalising
 * again leaves alone, and the method a token. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/fwd.h"
#include "http/parse.h"
#include "http/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct http_limits lim = {
	.max_line = 8192, .max_head = 65536, .max_headers = HTTP_MAX_HEADERS, .max_body = 1 << 20,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_msg *m = calloc(1, sizeof(*m));
	struct http_fwd *f = calloc(1, sizeof(*f));
	char again[HTTP_FWD_URI_MAX + 1];
	size_t scan = 0, n;

	if (!m || !f)
		goto out;
	if (http_parse_request(m, (const char *)data, size, &lim, &scan) <= 0 ||
	    http_fwd_parse(m, f) < 0)
		goto out;
	assert(f->uri_len >= 1 && f->uri_len <= HTTP_FWD_URI_MAX && f->uri[0] == '/');
	assert(strlen(f->uri) == f->uri_len);
	for (size_t i = 0; i < f->uri_len; i++)
		assert((unsigned char)f->uri[i] > 0x20 && (unsigned char)f->uri[i] < 0x7f);
	memcpy(again, f->uri, f->uri_len);
	n = f->uri_len;
	assert(http_target_normalize(again, &n) == 0 && n == f->uri_len &&
	       !memcmp(again, f->uri, n));
	assert(f->host.len >= 1 && f->host.len <= HTTP_FWD_HOST_MAX);
	for (size_t i = 0; i < f->host.len; i++)
		assert(f->host.p[i] != ',' && f->host.p[i] != ' ' && f->host.p[i] != '@' &&
		       f->host.p[i] != '/');
	assert(f->method.len >= 1 && f->method.len <= 32);
out:
	free(m);
	free(f);
	return 0;
}
