/* test_http.c - the HTTP/1.1 head parser and the chunked codec. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"

#include "http/chunked.h"
#include "http/parse.h"
#include "http/target.h"

static const struct http_limits lim = {
	.max_line = 8192, .max_head = 16384, .max_headers = 50,
	.max_body = 0,
};

static int req(const char *s, struct http_msg *m)
{
	size_t scan = 0;
	return http_parse_request(m, s, strlen(s), &lim, &scan);
}

static int req_err(const char *s)
{
	struct http_msg m;
	return req(s, &m);
}

TEST(request_simple)
{
	struct http_msg m;
	const char *s = "GET /a?b=1 HTTP/1.1\r\nHost: Example.com:8080\r\n"
			"X-Y:  z  \r\n\r\nBODY";
	CHECK_EQ_INT(req(s, &m), (int)strlen(s) - 4);
	CHECK(m.meth == HTTP_M_GET);
	CHECK(str_eq(m.path, STR_LIT("/a?b=1")));
	CHECK(str_eq(m.host, STR_LIT("Example.com:8080")));
	CHECK_EQ_INT(m.minor, 1);
	CHECK_EQ_INT(m.nhdr, 2);
	CHECK(str_eq(m.hdr[1].value, STR_LIT("z")));
	CHECK(m.body == HTTP_BODY_NONE);
	CHECK(!(m.flags & HTTP_F_CLOSE));
}

TEST(request_incremental)
{
	const char *s = "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n";
	struct http_msg m;
	size_t scan = 0, n = strlen(s);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ_INT(http_parse_request(&m, s, i, &lim, &scan), 0);
	CHECK_EQ_INT(http_parse_request(&m, s, n, &lim, &scan), (int)n);
	CHECK(m.body == HTTP_BODY_LENGTH);
	CHECK_EQ_U64(m.content_length, 10);
}

TEST(request_framing)
{
	struct http_msg m;
	CHECK(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", &m) > 0);
	CHECK(m.body == HTTP_BODY_CHUNKED);
	CHECK(req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", &m) > 0);
	CHECK(m.body == HTTP_BODY_NONE);
	CHECK(req("GET / HTTP/1.0\r\n\r\n", &m) > 0);
	CHECK(m.flags & HTTP_F_CLOSE);
	CHECK(req("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &m) > 0);
	CHECK(!(m.flags & HTTP_F_CLOSE));
	CHECK(req("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", &m) > 0);
	CHECK(m.flags & HTTP_F_CLOSE);
	CHECK(req("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
		  "Upgrade: websocket\r\n\r\n", &m) > 0);
	CHECK(m.flags & HTTP_F_UPGRADE);
	CHECK(str_eq(m.upgrade, STR_LIT("websocket")));
	CHECK(req("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
		  "Content-Length: 5\r\n\r\n", &m) > 0);
	CHECK(m.flags & HTTP_F_CONTINUE);
	/* Leading empty lines are skipped (RFC 9112 2.2). */
	CHECK(req("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", &m) > 0);
	CHECK(m.meth == HTTP_M_GET);
	CHECK(req("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", &m) > 0);
}

TEST(request_absolute_form)
{
	struct http_msg m;
	CHECK(req("GET http://a.example/x HTTP/1.1\r\nHost: A.example\r\n\r\n", &m) > 0);
	CHECK(str_eq(m.host, STR_LIT("a.example")));
	CHECK(str_eq(m.path, STR_LIT("/x")));
	CHECK(req("GET http://a.example HTTP/1.1\r\nHost: a.example\r\n\r\n", &m) > 0);
	CHECK(str_eq(m.path, STR_LIT("/")));
	CHECK_EQ_INT(req_err("GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n"),
		     -HTTP_E_HOST_MISMATCH);
	CHECK_EQ_INT(req_err("GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n"), -HTTP_E_TARGET);
}

/* Every rejection the smuggling suite sends, as a parser result. */
TEST(request_rejections)
{
	static const struct {
		const char *in;
		int err;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n", HTTP_E_CTL },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", HTTP_E_BARE_CR },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\nY: b\r\n\r\n", HTTP_E_BARE_LF },
		{ "GET / HTTP/1.1\nHost: h\n\n", HTTP_E_BARE_LF },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", HTTP_E_OBS_FOLD },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX : a\r\n\r\n", HTTP_E_HDR_NAME },
		{ "GET / HTTP/1.1\r\nHost: h\r\nX(y): a\r\n\r\n", HTTP_E_HDR_NAME },
		{ "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_E_SYNTAX },
		{ "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_E_SYNTAX },
		{ "GET / HTTP/2.0\r\nHost: h\r\n\r\n", HTTP_E_VERSION },
		{ "GET / http/1.1\r\nHost: h\r\n\r\n", HTTP_E_SYNTAX },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", HTTP_E_CL_TE },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
		  "Content-Length: 3\r\n\r\n", HTTP_E_CL_DUP },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
		  "Content-Length: 4\r\n\r\n", HTTP_E_CL_DUP },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\n", HTTP_E_CL_BAD },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\n", HTTP_E_CL_BAD },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x3\r\n\r\n", HTTP_E_CL_BAD },
		{ "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n",
		  HTTP_E_CL_BAD },
		{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
		  HTTP_E_TE_BAD },
		{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", HTTP_E_TE_BAD },
		{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
		  HTTP_E_TE_BAD },
		{ "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n",
		  HTTP_E_TE_CODING },
		{ "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_E_TE_BAD },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", HTTP_E_HOST_DUP },
		{ "GET / HTTP/1.1\r\n\r\n", HTTP_E_HOST_MISSING },
		{ "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", HTTP_E_HOST_BAD },
		{ "GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", HTTP_E_HOST_BAD },
		{ "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", HTTP_E_METHOD },
		{ "GET * HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET },
		{ "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_E_TARGET },
		{ "GET / HTTP/1.1\r\nHost: a\r\nExpect: fast\r\n\r\n", HTTP_E_EXPECT },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s = cases[i].in;
		/* The NUL case has an embedded NUL: measure to the blank line. */
		size_t n = strlen(s);
		struct http_msg m;
		size_t scan = 0;
		if (strstr(s, "a\0b") == s)
			n = 0;
		if (i == 0)
			n = sizeof("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n") - 1;
		int r = http_parse_request(&m, s, n, &lim, &scan);
		if (r != -cases[i].err)
			UNIT_FAIL("case %zu: got %d (%s) want %d (%s)", i, r,
				  http_err_name(r), -cases[i].err,
				  http_err_name(cases[i].err));
	}
}

TEST(request_limits)
{
	char big[20000];
	struct http_msg m;
	size_t scan = 0;

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	CHECK_EQ_INT(http_parse_request(&m, big, 9000, &lim, &scan), -HTTP_E_LINE_LONG);
	/* Too many fields. */
	char many[4096];
	size_t o = (size_t)snprintf(many, sizeof(many), "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 0; i < 60; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, "X%d: v\r\n", i);
	o += (size_t)snprintf(many + o, sizeof(many) - o, "\r\n");
	scan = 0;
	CHECK_EQ_INT(http_parse_request(&m, many, o, &lim, &scan), -HTTP_E_HDR_COUNT);
	/* Head larger than max_head without an end. */
	o = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	while (o + 10 < sizeof(big)) {
		memcpy(big + o, "X: vvvv\r\n", 9);
		o += 9;
	}
	scan = 0;
	CHECK_EQ_INT(http_parse_request(&m, big, o, &lim, &scan), -HTTP_E_HEAD_LARGE);
	CHECK_EQ_INT(http_err_status(-HTTP_E_LINE_LONG), 414);
	CHECK_EQ_INT(http_err_status(-HTTP_E_HDR_COUNT), 431);
	CHECK_EQ_INT(http_err_status(-HTTP_E_CL_TE), 400);
}

static int resp(const char *s, enum http_method meth, struct http_msg *m)
{
	size_t scan = 0;
	return http_parse_response(m, s, strlen(s), &lim, &scan, meth);
}

TEST(response)
{
	struct http_msg m;
	CHECK(resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", HTTP_M_GET, &m) > 0);
	CHECK_EQ_INT(m.status, 200);
	CHECK(m.body == HTTP_BODY_LENGTH);
	CHECK(resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", HTTP_M_HEAD, &m) > 0);
	CHECK(m.body == HTTP_BODY_NONE);
	CHECK(resp("HTTP/1.1 204 No Content\r\n\r\n", HTTP_M_GET, &m) > 0);
	CHECK(m.body == HTTP_BODY_NONE);
	CHECK(resp("HTTP/1.1 200 OK\r\n\r\n", HTTP_M_GET, &m) > 0);
	CHECK(m.body == HTTP_BODY_CLOSE);
	CHECK(resp("HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_M_GET, &m) > 0);
	CHECK(m.body == HTTP_BODY_CHUNKED);
	CHECK(resp("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
		   "Upgrade: websocket\r\n\r\n", HTTP_M_GET, &m) > 0);
	CHECK(m.flags & HTTP_F_UPGRADE);
	CHECK_EQ_INT(resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
			  HTTP_M_GET, &m), -HTTP_E_CL_TE);
	CHECK_EQ_INT(resp("HTTP/1.1 2000 OK\r\n\r\n", HTTP_M_GET, &m), -HTTP_E_SYNTAX);
	CHECK_EQ_INT(resp("HTTP/1.1 099 OK\r\n\r\n", HTTP_M_GET, &m), -HTTP_E_STATUS);
	CHECK_EQ_INT(resp("HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n", HTTP_M_GET, &m), -HTTP_E_OBS_FOLD);
	CHECK_EQ_INT(resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
			  HTTP_M_GET, &m), -HTTP_E_CL_DUP);
}

TEST(hop_by_hop)
{
	struct http_msg m;
	CHECK(req("GET / HTTP/1.1\r\nHost: h\r\nConnection: close, X-Secret\r\n\r\n", &m) > 0);
	CHECK(http_msg_hop_by_hop(&m, STR_LIT("x-secret")));
	CHECK(http_msg_hop_by_hop(&m, STR_LIT("Keep-Alive")));
	CHECK(http_msg_hop_by_hop(&m, STR_LIT("TE")));
	CHECK(!http_msg_hop_by_hop(&m, STR_LIT("X-Other")));
}

/* Decodes all of `in` feeding `step` bytes at a time into out. */
static ssize_t dechunk(const char *in, size_t len, size_t step, char *out,
		       size_t *outlen, struct http_chunked *c)
{
	size_t i = 0;
	*outlen = 0;
	http_chunked_init(c, true);
	while (i < len && !http_chunked_done(c)) {
		size_t n = len - i < step ? len - i : step;
		size_t used = 0;
		while (used < n && !http_chunked_done(c)) {
			struct str d;
			ssize_t r = http_chunked_feed(c, in + i + used, n - used, &d);
			if (r < 0)
				return r;
			if (d.len)
				memcpy(out + *outlen, d.p, d.len);
			*outlen += d.len;
			used += (size_t)r;
		}
		i += used;
	}
	return (ssize_t)i;
}

TEST(chunked_decode)
{
	const char *s = "5\r\nhello\r\n1;ext=\"v\"\r\n \r\nA\r\n0123456789\r\n"
			"0\r\nX-Sum: 1\r\nContent-Length: 9\r\n\r\nNEXT";
	char out[64];
	size_t outlen;
	struct http_chunked c = { 0 };
	for (size_t step = 1; step < 40; step += 7) {
		ssize_t r = dechunk(s, strlen(s), step, out, &outlen, &c);
		CHECK_EQ_INT(r, (long)strlen(s) - 4);
		CHECK(http_chunked_done(&c));
		CHECK_EQ_INT(outlen, 16);
		CHECK_EQ_MEM(out, "hello 0123456789", 16);
		/* Content-Length in a trailer is dropped, X-Sum kept. */
		CHECK_EQ_INT(c.trailers.len, 10);
		CHECK_EQ_MEM(buf_head(&c.trailers), "X-Sum: 1\r\n", 10);
	}
	http_chunked_free(&c);
}

TEST(chunked_reject)
{
	static const char *bad[] = {
		"-5\r\nhello\r\n0\r\n\r\n",
		"0x5\r\nhello\r\n0\r\n\r\n",
		" 5\r\nhello\r\n0\r\n\r\n",
		"5 \r\nhello\r\n0\r\n\r\n",
		"5\nhello\r\n0\r\n\r\n",
		"5\r\nhelloX\r\n0\r\n\r\n",
		"5\r\nhello\n0\r\n\r\n",
		"\r\n",
		"fffffffffffffffff\r\n",
		"00000000000000001\r\n",
		"5;a\0b\r\nhello\r\n0\r\n\r\n",
		"0\r\nX : y\r\n\r\n",
		"0\r\n y\r\n\r\n",
		"0\r\n\rx",
	};
	char out[64];
	size_t outlen;
	struct http_chunked c = { 0 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]);
		if (i == 10)
			n = sizeof("5;a\0b\r\nhello\r\n0\r\n\r\n") - 1;
		ssize_t r = dechunk(bad[i], n, 3, out, &outlen, &c);
		if (r >= 0)
			UNIT_FAIL("case %zu accepted", i);
	}
	http_chunked_free(&c);
}

TEST(chunk_header)
{
	char h[20];
	CHECK_EQ_INT(http_chunk_header(h, 0), 3);
	CHECK_EQ_MEM(h, "0\r\n", 3);
	CHECK_EQ_INT(http_chunk_header(h, 0x1a2b), 6);
	CHECK_EQ_MEM(h, "1a2b\r\n", 6);
}

/* Normalises s; returns the result, or "400" when it was refused. */
static const char *norm(const char *s)
{
	static char b[512];
	size_t n = strlen(s);

	memcpy(b, s, n);
	if (http_target_normalize(b, &n) < 0)
		return "400";
	b[n] = '\0';
	return b;
}

TEST(target_normalize)
{
	/* RFC 3986 s5.4 examples, as paths */
	CHECK_EQ_STR(norm("/a/b/c/./../../g"), "/a/g");
	CHECK_EQ_STR(norm("/mid/content=5/../6"), "/mid/6");
	CHECK_EQ_STR(norm("/a/b/.."), "/a/");
	CHECK_EQ_STR(norm("/a/b/."), "/a/b/");
	CHECK_EQ_STR(norm("/../../x"), "/x");
	CHECK_EQ_STR(norm("/.."), "/");
	CHECK_EQ_STR(norm("/"), "/");
	CHECK_EQ_STR(norm("/app/../secret"), "/secret");
	/* encoded dots are dots; encoded unreserved bytes are decoded */
	CHECK_EQ_STR(norm("/app/%2e%2e/secret"), "/secret");
	CHECK_EQ_STR(norm("/app/%2E./secret"), "/secret");
	CHECK_EQ_STR(norm("/%61pp/%7euser"), "/app/~user");
	/* other escapes stay, upper-cased; '//' merges; the query is kept */
	CHECK_EQ_STR(norm("/a%2fb//c/?x=/../y#"), "400");
	CHECK_EQ_STR(norm("/a%2fb//c/?x=/../y"), "/a%2Fb/c/?x=/../y");
	CHECK_EQ_STR(norm("//app"), "/app");
	CHECK_EQ_STR(norm("/a;v=1/b"), "/a;v=1/b");
	CHECK_EQ_STR(norm("*"), "*");
	/* refused */
	CHECK_EQ_STR(norm("/frag#x"), "400");
	CHECK_EQ_STR(norm("/a\\..\\b"), "400");
	CHECK_EQ_STR(norm("/a/..%2fsecret"), "400");
	CHECK_EQ_STR(norm("/a/%2e%2e%2Fsecret"), "400");
	CHECK_EQ_STR(norm("/a/..%5csecret"), "400");
	CHECK_EQ_STR(norm("/app/..;/secret"), "400");
	CHECK_EQ_STR(norm("/app/.;x/secret"), "400");
	CHECK_EQ_STR(norm("/a%00b"), "400");
	CHECK_EQ_STR(norm("/a%zzb"), "400");
	CHECK_EQ_STR(norm("/a%2"), "400");
}

int main(void)
{
	RUN(request_simple);
	RUN(request_incremental);
	RUN(request_framing);
	RUN(request_absolute_form);
	RUN(request_rejections);
	RUN(request_limits);
	RUN(response);
	RUN(hop_by_hop);
	RUN(chunked_decode);
	RUN(chunked_reject);
	RUN(chunk_header);
	RUN(target_normalize);
	return unit_done();
}
