/* fuzz_h2_headers.c - an HTTP/2 request's header list through the front's
 * own nghttp2 callbacks (front/front_h2.c, included to reach them) and on
 * to the HTTP/1.1 head the exchange would send upstream (xchg_head_build).
 *
 * An in-memory nghttp2 client HPACK-encodes the input's fields as given
 * (names not lower-cased, never indexed) and talks to a server session
 * built with the front's callbacks; the request pipeline is replaced by a
 * stub that checks what reached it. Invariants: nothing crashes or leaks;
 * a request that RFC 9113 calls malformed (a pseudo-header missing,
 * repeated, unknown or after a regular field; an upper-case or empty name;
 * CR, LF or NUL in a value; a connection-specific field; te other than
 * "trailers" in any case (a token, RFC 9110 section 10.1.4); a bad or
 * repeated content-length; no authority; a second host, or a host that
 * differs from :authority other than in case) never reaches the pipeline; one
 * that does carries the input's single :method and :path, its :authority
 * (or first host), no CR/LF/NUL anywhere, and
 * once its path is normalised (as the pipeline does) its upstream head
 * parses back as exactly that request with one Host and no extra line.
 *
 * Input: byte 0 = flags (bit 0: the request has a 5-byte body), then
 * fields as [name length][name][value length][value], lengths one byte. */
#include <assert.h>

#include "../src/front/front_h2.c"
#include "http/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_FIELDS 64

static struct loop *fz_loop;
static struct worker fz_w;
static struct front_ctx fz_fc;
static struct front_ops fz_ops;
static struct conn fz_c;
static struct route fz_route;
static struct buf fz_head;
/* The settings the streams read (their header arena: max_header_bytes). */
static struct front_snap fz_snap = {
	.set.limits = { .max_head = 64 << 10, .max_headers = HTTP_MAX_HEADERS },
};
static struct snap_hold fz_hold = { .snap = &fz_snap };

/* What the input asks for, and what a valid request must look like. */
static struct {
	nghttp2_nv nv[FZ_FIELDS];
	size_t n;
	bool malformed;
	struct str method, path, authority, host;
	unsigned decided;
} fz;

static bool fz_is(const nghttp2_nv *nv, const char *name)
{
	return str_eq(str_make((const char *)nv->name, nv->namelen), str_cstr(name));
}

static bool fz_bad_bytes(struct str s)
{
	return memchr(s.p, '\r', s.len) || memchr(s.p, '\n', s.len) || memchr(s.p, 0, s.len);
}

static bool fz_conn_specific(struct str n)
{
	static const char *const hop[] = { "connection", "keep-alive", "proxy-connection",
					   "transfer-encoding", "upgrade" };
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (str_eq_ci(n, str_cstr(hop[i])))
			return true;
	return false;
}

/* Counts one pseudo-header `nv` into its slot; returns false when it is
 * unknown or repeated. */
static bool fz_pseudo(const nghttp2_nv *nv, unsigned cnt[4])
{
	static const char *const ps[] = { ":method", ":path", ":authority", ":scheme" };
	struct str v = str_make((const char *)nv->value, nv->valuelen);

	for (unsigned k = 0; k < 4; k++)
		if (fz_is(nv, ps[k])) {
			if (k == 0)
				fz.method = v;
			else if (k == 1)
				fz.path = v;
			else if (k == 2)
				fz.authority = v;
			return ++cnt[k] == 1;
		}
	return false;
}

/* Decides from the input alone whether the request is malformed. */
static void fz_model(void)
{
	unsigned cnt[4] = { 0 }, ncl = 0, nhost = 0;
	bool regular = false;

	for (size_t i = 0; i < fz.n; i++) {
		const nghttp2_nv *nv = &fz.nv[i];
		struct str n = str_make((const char *)nv->name, nv->namelen);
		struct str v = str_make((const char *)nv->value, nv->valuelen);

		if (fz_bad_bytes(v) || !n.len)
			fz.malformed = true;
		for (size_t k = n.len && n.p[0] == ':' ? 1 : 0; k < n.len; k++)
			if (!http_tchar((unsigned char)n.p[k]) || (n.p[k] >= 'A' && n.p[k] <= 'Z'))
				fz.malformed = true;
		if (n.len && n.p[0] == ':') {
			if (regular || !fz_pseudo(nv, cnt))
				fz.malformed = true;
			continue;
		}
		regular = true;
		if (fz_conn_specific(n) || (fz_is(nv, "te") && !str_eq_ci(v, STR_LIT("trailers"))))
			fz.malformed = true;
		if (fz_is(nv, "content-length")) {
			uint64_t cl;
			if (ncl++ || num_parse_u64(v.p, v.len, 0, HTTP_LEN_MAX, &cl) < 0)
				fz.malformed = true;
		}
		if (fz_is(nv, "host") && !nhost++)
			fz.host = v;
	}
	if (cnt[0] != 1 || cnt[1] != 1 || cnt[3] != 1 || (!fz.authority.len && !fz.host.len))
		fz.malformed = true;
	if (nhost > 1 || (nhost && fz.authority.len && !str_eq_ci(fz.authority, fz.host)))
		fz.malformed = true;
}

/* The upstream head of the request must parse back as the same request:
 * its method and path, one Host (the routed authority), no extra field. */
static void fz_check_head(const struct http_msg *m, bool has_cl)
{
	static const struct http_limits lim = {
		.max_line = 1 << 16, .max_head = 1 << 20, .max_headers = HTTP_MAX_HEADERS,
		.max_body = HTTP_LEN_MAX,
	};
	static struct http_msg back;
	struct xchg_req rq = {
		.msg = m, .scheme_host = m->host, .peer = &fz_c.peer, .peer_ip = fz_c.ip,
		.https = true, .body = has_cl ? HTTP_BODY_LENGTH : HTTP_BODY_CHUNKED,
		.body_len = m->content_length,
	};
	size_t scan = 0, hosts = 0;
	int r;

	buf_reset(&fz_head);
	r = xchg_head_build(&fz_head, &fz_route, &rq, "x-request-id", "fuzz");
	if (r == -ENOBUFS)
		return;
	assert(r == 0);
	memset(&back, 0, sizeof(back));
	r = http_parse_request(&back, (const char *)buf_head(&fz_head), fz_head.len, &lim, &scan);
	if (r == -HTTP_E_HDR_COUNT)
		return;	/* more fields than an h1 parse allows: not an injection */
	assert(r > 0 && (size_t)r == fz_head.len);
	assert(str_eq(back.method, m->method) && str_eq(back.path, m->path));
	assert(str_eq(back.host, m->host));
	for (unsigned i = 0; i < back.nhdr; i++) {
		hosts += str_eq_ci(back.hdr[i].name, STR_LIT("host"));
		assert(!fz_conn_specific(back.hdr[i].name) ||
		       (!has_cl && str_eq_ci(back.hdr[i].name, STR_LIT("transfer-encoding"))));
	}
	assert(hosts == 1);
}

/* The pipeline's stand-in: checks the request, answers 204. */
static void fz_decide(const struct pipeline_in *in, struct pipeline_out *out)
{
	struct http_msg *m = in->m;

	memset(out, 0, sizeof(*out));
	out->act = PIPELINE_ANSWER;
	out->status = 204;
	out->type = "text/plain";
	out->body = "";
	fz.decided++;
	assert(!fz.malformed);
	assert(str_eq(m->method, fz.method) && str_eq(m->path, fz.path));
	assert(str_eq(m->host, fz.authority.len ? fz.authority : fz.host));
	assert(m->host.len && !fz_bad_bytes(m->host) && !fz_bad_bytes(m->path));
	for (unsigned i = 0; i < m->nhdr; i++) {
		struct str n = m->hdr[i].name;
		assert(n.len && n.p[0] != ':' && !fz_conn_specific(n));
		assert(!fz_bad_bytes(n) && !fz_bad_bytes(m->hdr[i].value));
		for (size_t k = 0; k < n.len; k++)
			assert(!(n.p[k] >= 'A' && n.p[k] <= 'Z'));
	}
	if (http_target_normalize((char *)m->path.p, &m->path.len) < 0) {
		out->status = 400;	/* as the pipeline refuses it */
		return;
	}
	fz_check_head(m, in->length_known);
}

static void fz_init(void)
{
	fz_loop = loop_new();
	assert(fz_loop);
	fz_ops.decide = fz_decide;
	fz_fc.ops = &fz_ops;
	fz_w.fc = &fz_fc;
	fz_w.loop = fz_loop;
	fz_w.hold = &fz_hold;
	fz_c.w = &fz_w;
	fz_c.kind = LISTEN_HTTPS;
	memcpy(fz_c.ip, "192.0.2.7", 10);
	buf_init(&fz_head, 1 << 20);
}

/* A server session with the front's request callbacks (front_h2_start's,
 * without a connection to write to). */
static struct h2_session *fz_server(void)
{
	struct h2_session *s = calloc(1, sizeof(*s));

	assert(s && h2_session_ng(s) == 0);
	s->c = &fz_c;
	loop_timer_init(&s->kick, h2_kick_fire, s);
	loop_timer_init(&s->watch, front_h2_watch_fire, s);
	return s;
}

static ssize_t fz_body(nghttp2_session *ng, int32_t id, uint8_t *out, size_t len,
		       uint32_t *flags, nghttp2_data_source *src, void *user)
{
	(void)ng, (void)id, (void)src, (void)user;
	*flags |= NGHTTP2_DATA_FLAG_EOF;
	if (len < 5)
		return 0;
	memcpy(out, "hello", 5);
	return 5;
}

/* Moves every pending byte from `from` to `to`; returns how many. */
static size_t fz_move(nghttp2_session *from, nghttp2_session *to)
{
	const uint8_t *p;
	ssize_t n;
	size_t total = 0;

	while ((n = nghttp2_session_mem_send(from, &p)) > 0) {
		total += (size_t)n;
		if (nghttp2_session_mem_recv(to, p, (size_t)n) < 0)
			return 0;
	}
	return total;
}

static void fz_parse_input(const uint8_t *data, size_t size)
{
	size_t at = 1;

	while (fz.n < FZ_FIELDS && at < size) {
		size_t nl = data[at++], vl;
		if (at + nl >= size)
			break;
		vl = data[at + nl];
		if (at + nl + 1 + vl > size)
			break;
		fz.nv[fz.n++] = (nghttp2_nv){
			(uint8_t *)(data + at), (uint8_t *)(data + at + nl + 1), nl, vl,
			NGHTTP2_NV_FLAG_NO_INDEX | NGHTTP2_NV_FLAG_NO_COPY_NAME |
				NGHTTP2_NV_FLAG_NO_COPY_VALUE };
		at += nl + 1 + vl;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nghttp2_session_callbacks *cb;
	nghttp2_session *cl;
	nghttp2_data_provider dp = { .read_callback = fz_body };
	struct h2_session *s;

	if (size < 1)
		return 0;
	if (!fz_loop)
		fz_init();
	memset(&fz, 0, sizeof(fz));
	fz_parse_input(data, size);
	fz_model();
	assert(nghttp2_session_callbacks_new(&cb) == 0);
	assert(nghttp2_session_client_new(&cl, cb, NULL) == 0);
	nghttp2_session_callbacks_del(cb);
	s = fz_server();
	nghttp2_submit_settings(cl, NGHTTP2_FLAG_NONE, NULL, 0);
	nghttp2_submit_request(cl, NULL, fz.nv, fz.n, (data[0] & 1) ? &dp : NULL, NULL);
	for (int round = 0; round < 8; round++) {
		size_t moved = fz_move(cl, s->ng);
		if (moved + fz_move(s->ng, cl) == 0)
			break;
	}
	assert(fz.decided <= 1);
	while (s->streams)
		h2_stream_free(s->streams);
	nghttp2_session_del(s->ng);
	free(s);
	nghttp2_session_del(cl);
	return 0;
}
