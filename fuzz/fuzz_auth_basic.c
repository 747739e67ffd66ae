/* fuzz_auth_basic.c - an Authorization field as a client sends it, into
 * the route token reader (auth_basic.h: Bearer and Basic), then the
 * bypass path rule (http_path_prefix_match) with the input split into a
 * prefix and a path. A token found must start with the route token
 * prefix and lie inside the input or the decode buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_basic.h"
#include "http/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(struct str t, const char *base, size_t len)
{
	return t.p >= base && t.p + t.len <= base + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size), tok;
	char buf[AUTH_BASIC_MAX];
	int rc = auth_basic_token(in, buf, &tok);

	if (rc > 0 && (!str_has_prefix(tok, STR_LIT(AUTH_ROUTE_TOKEN_PREFIX)) ||
		       !(inside(tok, in.p, in.len) || inside(tok, buf, sizeof(buf)))))
		abort();
	if (rc <= 0 && tok.len)
		abort();
	if (size) {
		size_t cut = data[0] % size;
		struct str path = str_make((const char *)data + cut, size - cut);
		bool m = http_path_prefix_match(path, (const char *)data, cut);
		/* A match never reads past the path and covers the prefix. */
		if (m && path.len < cut)
			abort();
	}
	return 0;
}
