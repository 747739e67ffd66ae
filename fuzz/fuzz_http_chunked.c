/* fuzz_http_chunked.c - the chunked decoder on any bytes, fed in pieces
 * whose sizes the first byte picks; the decoded body must not depend on
 * how the input was split. The trailers it keeps then go through the
 * filter that forwards them upstream (xchg_head_trailers, on a login
 * route): what comes out is whole input lines, in order, and none names
 * a credential, an identity the hub asserts, a forwarding field or the
 * request id, in any case or with '_' for '-'. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy.h"
#include "front/target.h"
#include "front/xchg_head.h"
#include "http/chunked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field name `n` (len bytes) read as a CGI-style gateway reads it. */
static void fold(const char *n, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		out[i] = n[i] == '_' ? '-' : (char)tolower((unsigned char)n[i]);
	out[len] = 0;
}

static bool forbidden(const struct route *r, const char *name)
{
	static const char *const whole[] = { "cookie", "authorization", "forwarded",
					     "x-real-ip", "x-request-id" };
	char id[ACCESS_HDR_MAX + 1];

	for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
		if (!strcmp(name, whole[i]))
			return true;
	if (!strncmp(name, "x-postern-", 10) || !strncmp(name, "x-forwarded-", 12))
		return true;
	for (unsigned k = 0; k < ACCESS_ID_MAX; k++) {
		const char *h = access_id_header(&r->access, (enum access_id)k);
		size_t hl = strlen(h);

		fold(h, hl < ACCESS_HDR_MAX ? hl : ACCESS_HDR_MAX, id);
		if (!strcmp(name, id))
			return true;
	}
	return false;
}

static void check_trailers(const struct buf *t)
{
	static struct route r = { .access = { .login = true } };
	struct buf out;
	const char *in = (const char *)buf_head(t), *in_end = in + t->len;
	const char *p, *end;

	buf_init(&out, HTTP_TRAILERS_MAX);
	if (xchg_head_trailers(&out, &r, t, "X-Request-Id") < 0)
		abort();
	p = out.len ? (const char *)buf_head(&out) : in;
	end = p + out.len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol + 1 - p) : (size_t)(end - p);
		const char *colon = memchr(p, ':', n);
		char name[HTTP_TRAILERS_MAX + 1];

		if (!colon)
			abort();
		fold(p, (size_t)(colon - p), name);
		if (forbidden(&r, name))
			abort();
		/* The next whole line of the input that is this line. */
		while (in < in_end) {
			const char *ie = memchr(in, '\n', (size_t)(in_end - in));
			size_t in_n = ie ? (size_t)(ie + 1 - in) : (size_t)(in_end - in);
			bool same = in_n == n && !memcmp(in, p, n);

			in += in_n;
			if (same)
				break;
			if (in >= in_end)
				abort();
		}
		p += n;
	}
	buf_free(&out);
}

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
	if (http_chunked_done(&c) && c.trailers.len)	/* as xchg_req_end calls it */
		check_trailers(&c.trailers);
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
