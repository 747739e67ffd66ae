/* front_h2.c - HTTP/2 on downstream connections (nghttp2), over TLS
 * (ALPN h2) or cleartext with prior knowledge.
 *
 * Each stream becomes an exchange (front/xchg.h) on a pooled upstream
 * HTTP/1.1 connection, exactly like an HTTP/1.1 request. Flow control is
 * end to end: the session never updates windows by itself; a stream's
 * DATA is acknowledged (nghttp2_session_consume) only when its exchange
 * took the bytes, so a slow upstream stops the client. In the other
 * direction a stream's response bytes wait in a bounded buffer that the
 * DATA source drains; a full buffer pauses the exchange. The streams'
 * time limits (send_timeout, body_timeout) are front_h2_watch.c's. */
#define LOG_SUBSYS "h2"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/secure.h"
#include "core/num.h"
#include "http/parse.h"
#include "front/admin.h"
#include "front/alog.h"
#include "front/conn.h"
#include "front/front.h"
#include "front/front_ctx.h"
#include "front/metrics.h"
#include "front/pipeline.h"
#include "front/target.h"
#include "front/snap.h"
#include "front/xchg.h"
#include "front/xchg_head.h"

#include "front/front_h2_int.h"



/* ---- streams ---- */
static struct h2_stream *h2_stream_new(struct h2_session *s, int32_t id)
{
	struct h2_stream *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->id = id;
	st->s = s;
	buf_init(&st->arena, h2_set(s)->limits.max_head);
	buf_init(&st->body, H2_WINDOW + 16384);
	buf_init(&st->resp, H2_STREAM_BUF);
	if (buf_reserve(&st->arena, h2_set(s)->limits.max_head) < 0) {
		free(st);
		return NULL;
	}
	st->next = s->streams;
	s->streams = st;
	s->nstreams++;
	return st;
}

/* Writes the access-log line of the stream's finished exchange: `why`
 * NULL when every byte went out, else the reason the rest did not (the
 * bytes still buffered are taken off the count). */
void front_h2_log_done(struct h2_stream *st, const char *why)
{
	struct xchg *x = st->xdone;

	if (!x)
		return;
	st->xdone = NULL;
	if (why && st->resp.len) {
		x->bytes_out -= st->resp.len < x->bytes_out ? st->resp.len : x->bytes_out;
		x->error = why;
	}
	xchg_free(x);
}

static void h2_stream_free(struct h2_stream *st)
{
	struct h2_session *s = st->s;
	struct h2_stream **pp = &s->streams;

	while (*pp && *pp != st)
		pp = &(*pp)->next;
	if (*pp)
		*pp = st->next;
	s->nstreams--;
	if (st->x)
		xchg_free(front_h2_take_x(st));
	front_h2_log_done(st, "client_closed");
	if (st->waiting) {
		st->waiting = false;
		s->nwait--;
	}
	if (st->hold)
		snap_hold_put(st->hold);
	s->resp_total -= st->resp.len;
	s->rescan = true;
	if (st->admin)
		admin_h2_detach(st->admin);
	free(st->abody);
	free(st->trailers);
	if (st->set_cookie)
		secure_wipe(st->set_cookie, strlen(st->set_cookie));
	free(st->set_cookie);
	buf_free(&st->arena);
	buf_free(&st->body);
	worker_buf_give(s->c->w, &st->resp);
	free(st);
}

static void h2_kick_fire(struct loop_timer *t)
{
	struct h2_session *s = t->data;
	struct conn *c = s->c;

	conn_enter(c);
	front_h2_pump(c);
	if (!c->dead)
		conn_update_io(c);
	conn_leave(c);
}

#define H2_LINES_MAX 32

/* Header lines "Name: value\r\n" (an admin response's extras, forwarded
 * trailers) as name/value pairs, names lower-cased into `lower` (which
 * must outlive nv), values trimmed. Lines without a colon or with a name
 * of 64 bytes or more are skipped. Returns how many pairs were filled
 * (at most `max`, at most H2_LINES_MAX). */
static size_t h2_nv_lines(const char *p, size_t len, nghttp2_nv *nv,
			  char lower[][64], size_t max)
{
	const char *end = p + len;
	size_t n = 0;

	while (p < end && n < max && n < H2_LINES_MAX) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2), *colon;
		if (!eol)
			break;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon && (size_t)(colon - p) < 64) {
			size_t nl = (size_t)(colon - p);
			struct str v = str_trim_ows(str_make(colon + 1, (size_t)(eol - colon - 1)));
			for (size_t k = 0; k < nl; k++)
				lower[n][k] = str_lower_ascii(p[k]);
			nv[n] = (nghttp2_nv){ (uint8_t *)lower[n], (uint8_t *)v.p, nl, v.len,
					      NGHTTP2_NV_FLAG_NONE };
			n++;
		}
		p = eol + 2;
	}
	return n;
}

/* Queues the stream's trailers as a HEADERS frame with END_STREAM. Called
 * from the DATA source as it reports the body's end (which nghttp2
 * allows). Returns 0, or -1 when they could not be queued. */
static int h2_send_trailers(struct h2_stream *st)
{
	nghttp2_nv nv[H2_LINES_MAX];
	char lower[H2_LINES_MAX][64];
	size_t n = h2_nv_lines(st->trailers, st->trailers_len, nv, lower, H2_LINES_MAX);

	return nghttp2_submit_trailer(st->s->ng, st->id, nv, n) == 0 ? 0 : -1;
}

static ssize_t h2_read_body(nghttp2_session *ng, int32_t id, uint8_t *out,
			    size_t len, uint32_t *flags, nghttp2_data_source *src,
			    void *user)
{
	struct h2_stream *st = src->ptr;
	size_t n;

	(void)ng, (void)id, (void)user;
	if (st->errbody) {
		n = st->errlen - st->erroff < len ? st->errlen - st->erroff : len;
		memcpy(out, st->errbody + st->erroff, n);
		st->erroff += n;
		h2_stream_touch(st);
		if (st->erroff == st->errlen) {
			*flags |= NGHTTP2_DATA_FLAG_EOF;
			st->out_open = false;
		}
		return (ssize_t)n;
	}
	n = st->resp.len < len ? st->resp.len : len;
	if (n == 0 && !st->resp_eof) {
		st->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	if (n) {
		memcpy(out, buf_head(&st->resp), n);
		buf_consume(&st->resp, n);
		st->s->resp_total -= n;
		st->s->rescan = true;
		/* An empty buffer goes back to the worker's cache. */
		if (st->resp.len == 0)
			worker_buf_give(st->s->c->w, &st->resp);
	}
	h2_stream_touch(st);
	if (st->resp.len == 0 && st->resp_eof) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		st->out_open = false;
		front_h2_log_done(st, NULL);
		/* The trailers' HEADERS frame ends the stream instead. */
		if (st->trailers && h2_send_trailers(st) == 0)
			*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	}
	return (ssize_t)n;
}

static void h2_error_agent(struct h2_stream *st, int status, const char *agent);

void front_h2_error(struct h2_stream *st, int status)
{
	h2_error_agent(st, status, NULL);
}

static void h2_error_agent(struct h2_stream *st, int status, const char *agent)
{
	char code[8];
	nghttp2_nv nv[] = {
		{ (uint8_t *)":status", (uint8_t *)code, 7, 3, NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"content-type", (uint8_t *)"text/plain; charset=utf-8", 12, 25,
		  NGHTTP2_NV_FLAG_NONE },
	};
	nghttp2_data_provider dp = { .source.ptr = st, .read_callback = h2_read_body };

	errpage_body(st->errpage, sizeof(st->errpage), status, agent);
	snprintf(code, sizeof(code), "%d", status);
	st->errbody = st->errpage;
	st->errlen = strlen(st->errpage);
	st->out_open = true;
	h2_stream_touch(st);
	nghttp2_submit_response(st->s->ng, st->id, nv, 2, &dp);
}

static bool h2_resp_skip(const struct http_msg *m, struct str n)
{
	return xchg_resp_skip(m, n) || str_eq_ci(n, STR_LIT("host"));
}

static int h2_x_head(struct xchg *x, const struct http_msg *m)
{
	struct h2_stream *st = x->down;
	nghttp2_nv nv[HTTP_MAX_HEADERS + 3];
	char lower[HTTP_MAX_HEADERS][64], code[8], hsts[48];
	size_t n = 0;
	nghttp2_data_provider dp = { .source.ptr = st, .read_callback = h2_read_body };

	if (x->tunnel)
		return -1;	/* no Upgrade over h2 */
	snprintf(code, sizeof(code), "%d", m->status);
	nv[n++] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)code, 7, strlen(code), 0 };
	for (unsigned i = 0; i < m->nhdr && n < HTTP_MAX_HEADERS; i++) {
		const struct http_header *h = &m->hdr[i];
		if (h2_resp_skip(m, h->name) || h->name.len >= sizeof(lower[0]))
			continue;
		for (size_t k = 0; k < h->name.len; k++)
			lower[n][k] = str_lower_ascii(h->name.p[k]);
		nv[n] = (nghttp2_nv){ (uint8_t *)lower[n], (uint8_t *)h->value.p, h->name.len,
				      h->value.len, NGHTTP2_NV_FLAG_NONE };
		n++;
	}
	if (st->s->c->kind == LISTEN_HTTPS && x->route && x->route->hsts_max_age &&
	    http_msg_find(m, STR_LIT("strict-transport-security")) < 0) {
		int l = snprintf(hsts, sizeof(hsts), "max-age=%u", x->route->hsts_max_age);
		nv[n++] = (nghttp2_nv){ (uint8_t *)"strict-transport-security", (uint8_t *)hsts,
					25, (size_t)l, NGHTTP2_NV_FLAG_NONE };
	}
	if (x->set_cookie)
		nv[n++] = (nghttp2_nv){ (uint8_t *)"set-cookie", (uint8_t *)x->set_cookie, 10,
					strlen(x->set_cookie), NGHTTP2_NV_FLAG_NO_INDEX };
	/* nghttp2 copies names and values while submitting. */
	if (nghttp2_submit_response(st->s->ng, st->id, nv, n,
				    m->body == HTTP_BODY_NONE ? NULL : &dp) != 0)
		return -1;
	if (m->body == HTTP_BODY_NONE)
		st->resp_eof = true;
	else
		st->out_open = true;
	h2_stream_touch(st);
	h2_kick(st->s);
	return 0;
}

static size_t h2_x_data(struct xchg *x, const char *p, size_t n)
{
	struct h2_stream *st = x->down;
	size_t room = front_h2_room(st), take = n < room ? n : room;

	if (take == 0)
		return 0;
	if (st->resp.len == 0)
		h2_stream_touch(st);
	worker_buf_take(st->s->c->w, &st->resp);
	if (buf_append(&st->resp, p, take) < 0)
		return 0;
	st->s->resp_total += take;
	if (st->deferred && take) {
		st->deferred = false;
		nghttp2_session_resume_data(st->s->ng, st->id);
	}
	h2_kick(st->s);
	return take;
}

static void h2_x_end(struct xchg *x, const struct buf *trailers)
{
	struct h2_stream *st = x->down;

	/* The exchange's copy dies with it: keep one for the DATA source.
	 * Without memory the response ends without them. */
	if (trailers && trailers->len && !st->trailers &&
	    (st->trailers = malloc(trailers->len))) {
		memcpy(st->trailers, buf_head(trailers), trailers->len);
		st->trailers_len = trailers->len;
	}
	if (st->resp.len == 0)
		h2_stream_touch(st);
	st->resp_eof = true;
	front_h2_take_x(st);
	if (st->deferred) {
		st->deferred = false;
		nghttp2_session_resume_data(st->s->ng, st->id);
	}
	h2_kick(st->s);
	if (st->resp.len) {
		st->xdone = x;	/* logged once the client has the rest */
		return;
	}
	xchg_free(x);
}

static void h2_x_fail(struct xchg *x, int status)
{
	struct h2_stream *st = x->down;
	bool head = x->head_done;
	char agent[64] = "";

	if (x->agent_offline)
		snprintf(agent, sizeof(agent), "%s", x->route->target.agent);
	front_h2_take_x(st);
	xchg_free(x);
	if (!head)
		h2_error_agent(st, status, agent[0] ? agent : NULL);
	else
		nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id,
					  NGHTTP2_INTERNAL_ERROR);
	h2_kick(st->s);
}

/* Pushes buffered request DATA to the exchange; acknowledges what it
 * took so the client may send more. */
void front_h2_push_body(struct h2_stream *st)
{
	size_t t;

	if (!st->x || st->req_end_sent)
		return;
	if (st->body.len) {
		t = xchg_req_body(st->x, (const char *)buf_head(&st->body), st->body.len);
		buf_consume(&st->body, t);
		if (t)
			st->body_at = h2_now(st->s);
		nghttp2_session_consume(st->s->ng, st->id, t);
	}
	if (st->req_end && st->body.len == 0) {
		st->req_end_sent = true;
		xchg_req_end(st->x, NULL);
	}
}

static void h2_x_req_resume(struct xchg *x)
{
	struct h2_stream *st = x->down;

	front_h2_push_body(st);
	h2_kick(st->s);
}

static size_t h2_x_room(const struct xchg *x)
{
	return front_h2_room(x->down);
}

const struct xchg_ops front_h2_xchg_ops = {
	.head = h2_x_head,
	.data = h2_x_data,
	.end = h2_x_end,
	.fail = h2_x_fail,
	.req_resume = h2_x_req_resume,
	.room = h2_x_room,
};

/* ---- requests ---- */

static int h2_on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
	struct h2_session *s = user;

	(void)ng;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (!h2_stream_new(s, f->hd.stream_id))
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	nghttp2_session_set_stream_user_data(ng, f->hd.stream_id,
					     s->streams);
	return 0;
}

static struct str h2_keep(struct h2_stream *st, const uint8_t *p, size_t n)
{
	const char *at = (const char *)buf_tail(&st->arena);

	if (buf_tailroom(&st->arena) < n) {
		st->too_big = true;
		return STR_NULL;
	}
	memcpy(buf_tail(&st->arena), p, n);
	buf_commit(&st->arena, n);
	return str_make(at, n);
}

static int h2_on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
			size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags,
			void *user)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	struct str n = str_make((const char *)name, nlen);
	struct str v;

	(void)flags, (void)user;
	if (!st || f->hd.type != NGHTTP2_HEADERS)
		return 0;
	v = h2_keep(st, value, vlen);
	if (st->bad || st->too_big)
		return 0;
	if (nlen && name[0] == ':') {
		if (str_eq(n, STR_LIT(":method")))
			st->msg.method = v;
		else if (str_eq(n, STR_LIT(":path")))
			st->msg.path = v;
		else if (str_eq(n, STR_LIT(":authority")))
			st->msg.host = v;
		else if (str_eq(n, STR_LIT(":scheme")))
			st->scheme = v;
		return 0;
	}
	if (str_eq(n, STR_LIT("host"))) {
		/* RFC 9113 section 8.3.1: a host field beside :authority (which
		 * nghttp2 has already given us: pseudo-fields come first, and it
		 * resets a stream with a second host) names the same authority.
		 * A different one makes the request say two things: malformed,
		 * never guessed at. */
		if (st->msg.host.len && !str_eq_ci(st->msg.host, v))
			st->bad = true;
		else if (!st->msg.host.len)
			st->msg.host = v;
		return 0;
	}
	if (str_eq(n, STR_LIT("content-length"))) {
		if (st->cl_seen || num_parse_u64(v.p, v.len, 0, HTTP_LEN_MAX,
						 &st->msg.content_length) < 0)
			st->bad = true;
		st->cl_seen = true;
	}
	if (st->msg.nhdr >= h2_set(st->s)->limits.max_headers ||
	    st->msg.nhdr >= HTTP_MAX_HEADERS) {
		st->too_big = true;
		return 0;
	}
	st->msg.hdr[st->msg.nhdr].name = h2_keep(st, name, nlen);
	st->msg.hdr[st->msg.nhdr].value = v;
	st->msg.nhdr++;
	return 0;
}

static bool h2_method_known(struct str m, enum http_method *out)
{
	static const struct { const char *n; enum http_method m; } t[] = {
		{ "GET", HTTP_M_GET }, { "HEAD", HTTP_M_HEAD }, { "POST", HTTP_M_POST },
		{ "PUT", HTTP_M_PUT }, { "DELETE", HTTP_M_DELETE },
		{ "OPTIONS", HTTP_M_OPTIONS }, { "PATCH", HTTP_M_PATCH },
		{ "TRACE", HTTP_M_TRACE }, { "CONNECT", HTTP_M_CONNECT },
	};
	*out = HTTP_M_OTHER;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (str_eq(m, str_cstr(t[i].n)))
			*out = t[i].m;
	for (size_t i = 0; i < m.len; i++)
		if (!http_tchar((unsigned char)m.p[i]))
			return false;
	return m.len > 0;
}

/* An origin-form :path an HTTP/1.1 request line can carry: '/' then
 * visible ASCII only, as the h1 parser's target rule (nghttp2 lets bytes
 * above 0x7e through, which would reach the upstream's request line). */
static bool h2_path_ok(struct str p)
{
	if (!p.len || p.p[0] != '/')
		return false;
	for (size_t i = 0; i < p.len; i++)
		if ((unsigned char)p.p[i] <= 0x20 || (unsigned char)p.p[i] >= 0x7f)
			return false;
	return true;
}

/* The admin response, back from the control thread. */
static void h2_admin_reply(struct admin_call *a)
{
	struct h2_stream *st = a->h2st;
	struct api_resp *r = &a->resp;
	nghttp2_nv nv[H2_LINES_MAX + 3];
	char code[8], lower[H2_LINES_MAX][64];
	size_t n = 1;
	bool ctype = false;
	nghttp2_data_provider dp = { .source.ptr = st, .read_callback = h2_read_body };

	st->admin = NULL;
	snprintf(code, sizeof(code), "%d", r->status);
	nv[0] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)code, 7, strlen(code), 0 };
	/* Extra header lines, names lower-cased for h2. */
	if (r->headers.len)
		n += h2_nv_lines((const char *)buf_head(&r->headers), r->headers.len, nv + 1,
				 lower, H2_LINES_MAX - 1);
	for (size_t i = 1; i < n; i++)
		if (str_eq(str_make((const char *)nv[i].name, nv[i].namelen),
			   STR_LIT("content-type")))
			ctype = true;
	if (!ctype)
		nv[n++] = (nghttp2_nv){ (uint8_t *)"content-type", (uint8_t *)"application/json",
					12, 16, 0 };
	st->abody = r->body.len && !a->head_req ? malloc(r->body.len) : NULL;
	if (st->abody)
		memcpy(st->abody, buf_head(&r->body), r->body.len);
	st->errbody = st->abody ? st->abody : "";
	st->errlen = st->abody ? r->body.len : 0;
	st->out_open = st->errlen > 0;
	h2_stream_touch(st);
	nghttp2_submit_response(st->s->ng, st->id, nv, n, st->errlen ? &dp : NULL);
	h2_kick(st->s);
}

/* An answer of the hub's own, as the pipeline decided it. */
static void h2_answer(struct h2_stream *st, const struct pipeline_out *o)
{
	const struct http_msg *m = &st->msg;
	struct conn *c = st->s->c;
	char code[8], len[24];
	nghttp2_nv nv[12];
	struct str idn[4], idv[4];
	char lower[4][ACCESS_HDR_MAX + 1];
	size_t n = 0, blen = m->meth == HTTP_M_HEAD ? 0 : o->blen;
	nghttp2_data_provider dp = { .source.ptr = st, .read_callback = h2_read_body };

	if (o->log)
		alog_hub_reply(c->w, c->ip, m->host, m->method, m->path, o->status,
			       o->type ? blen : 0);
	if (!o->type) {
		h2_error_agent(st, o->status, o->agent);
		return;
	}
	snprintf(code, sizeof(code), "%d", o->status);
	snprintf(len, sizeof(len), "%zu", o->blen);
#define H2_NV(name, value, vlen) \
	(nghttp2_nv){ (uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1, (vlen), \
		      NGHTTP2_NV_FLAG_NONE }
	nv[n++] = H2_NV(":status", code, strlen(code));
	if (o->location[0])
		nv[n++] = H2_NV("location", o->location, strlen(o->location));
	if (o->www_auth)
		nv[n++] = H2_NV("www-authenticate", o->www_auth, strlen(o->www_auth));
	if (o->set_cookie[0])	/* a forward-auth 200 re-issuing a session cookie */
		nv[n++] = (nghttp2_nv){ (uint8_t *)"set-cookie", (uint8_t *)o->set_cookie, 10,
					strlen(o->set_cookie), NGHTTP2_NV_FLAG_NO_INDEX };
	nv[n++] = H2_NV("content-type", o->type, strlen(o->type));
	nv[n++] = H2_NV("content-length", len, strlen(len));
	nv[n++] = H2_NV("cache-control", "no-store", 8);
#undef H2_NV
	/* HTTP/2 field names are lower case (RFC 9113 s8.2.1). */
	for (unsigned i = 0, k = pipeline_id_fields(o, idn, idv); i < k; i++) {
		size_t l = idn[i].len < ACCESS_HDR_MAX ? idn[i].len : ACCESS_HDR_MAX;
		for (size_t j = 0; j < l; j++)
			lower[i][j] = str_lower_ascii(idn[i].p[j]);
		nv[n++] = (nghttp2_nv){ (uint8_t *)lower[i], (uint8_t *)idv[i].p, l, idv[i].len,
					NGHTTP2_NV_FLAG_NONE };
	}
	st->abody = blen ? malloc(blen) : NULL;
	if (st->abody)
		memcpy(st->abody, o->body, blen);
	st->errbody = st->abody ? st->abody : "";
	st->errlen = st->abody ? blen : 0;
	st->out_open = st->errlen > 0;
	h2_stream_touch(st);
	nghttp2_submit_response(st->s->ng, st->id, nv, n, st->errlen ? &dp : NULL);
}

static void h2_admin_start(struct h2_session *s, struct h2_stream *st, bool end_stream)
{
	st->admin = admin_new_h2(s->c->w, &st->msg, s->c->ip, s->c->kind, st, h2_admin_reply);
	if (!st->admin) {
		front_h2_error(st, 503);
		return;
	}
	st->req_end = end_stream;
	if (end_stream)
		admin_submit_call(st->admin);
}

/* Forwards the stream to the route the pipeline chose. */
static void h2_proxy(struct h2_session *s, struct h2_stream *st,
		     const struct pipeline_out *o, bool end_stream)
{
	const struct route *route = o->route;
	struct conn *c = s->c;
	struct http_msg *m = &st->msg;
	struct xchg_req rq = {
		.msg = m, .scheme_host = m->host, .peer = &c->peer, .peer_ip = c->ip,
		.https = c->kind == LISTEN_HTTPS,
		.trusted_peer = front_settings_trusted(h2_set(s), &c->peer),
		.body = end_stream ? HTTP_BODY_NONE
			: st->cl_seen ? (m->content_length ? HTTP_BODY_LENGTH : HTTP_BODY_NONE)
				      : HTTP_BODY_CHUNKED,
		.body_len = m->content_length,
		.who = o->who,
		.drop_auth = o->drop_auth,
		.set_cookie = o->set_cookie,
	};

	front_h2_proxy(st, route, &rq);
	if (rq.body == HTTP_BODY_NONE)
		st->req_end = st->req_end_sent = true;
}

/* Validates the pseudo-head and runs the pipeline. */
static void h2_start(struct h2_session *s, struct h2_stream *st, bool end_stream)
{
	struct conn *c = s->c;
	struct http_msg *m = &st->msg;
	struct pipeline_in in = {
		.w = c->w, .kind = c->kind, .peer = &c->peer, .ip = c->ip, .m = m,
		.length_known = st->cl_seen,
	};
	struct pipeline_out out;

	if (st->too_big) {	/* as the h1 parser answers a head too large */
		metrics_count(c->w->metrics, METRICS_REQ_MALFORMED);
		front_h2_error(st, 431);
		return;
	}
	if (!st->bad && h2_method_known(m->method, &m->meth) && m->meth == HTTP_M_CONNECT) {
		/* Not a forward proxy: the h1 parser's answer (HTTP_E_METHOD). */
		metrics_count(c->w->metrics, METRICS_REQ_MALFORMED);
		front_h2_error(st, 405);
		return;
	}
	if (st->bad || !h2_method_known(m->method, &m->meth) ||
	    !h2_path_ok(m->path) || !m->host.len) {
		metrics_count(c->w->metrics, METRICS_REQ_MALFORMED);
		front_h2_error(st, 400);
		return;
	}
	for (size_t i = 0; i < m->host.len; i++)
		if (!http_tchar((unsigned char)m->host.p[i]) && !strchr(":[]", m->host.p[i])) {
			front_h2_error(st, 400);
			return;
		}
	m->minor = 1;
	c->w->fc->ops->decide(&in, &out);
	switch (out.act) {
	case PIPELINE_ADMIN:
		h2_admin_start(s, st, end_stream);
		break;
	case PIPELINE_PROXY:
		h2_proxy(s, st, &out, end_stream);
		break;
	case PIPELINE_ANSWER:
		h2_answer(st, &out);
		break;
	}
	pipeline_out_free(&out);
}

static int h2_on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
	struct h2_session *s = user;
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	bool end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	if (f->hd.type == NGHTTP2_WINDOW_UPDATE || f->hd.type == NGHTTP2_SETTINGS)
		s->rescan = true;
	if (!st)
		return 0;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
		st->body_at = h2_now(s);
		h2_start(s, st, end);
		return 0;
	}
	if ((f->hd.type == NGHTTP2_DATA || f->hd.type == NGHTTP2_HEADERS) && end) {
		st->req_end = true;
		if (st->admin && !st->admin->submitted)
			admin_submit_call(st->admin);
		front_h2_push_body(st);
	}
	return 0;
}

static int h2_on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p,
		      size_t len, void *user)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);

	(void)flags, (void)user;
	if (st && st->admin && !st->admin->submitted) {
		st->body_at = h2_now(st->s);
		nghttp2_session_consume(ng, id, len);
		if (buf_append(&st->admin->body, p, len) < 0) {
			admin_h2_detach(st->admin);
			st->admin = NULL;
			front_h2_error(st, 413);
		}
		return 0;
	}
	if (!st || !st->x || st->req_end_sent) {
		nghttp2_session_consume(ng, id, len);
		return 0;
	}
	/* The window bounds what may be buffered here. */
	if (buf_append(&st->body, p, len) < 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	st->body_at = h2_now(st->s);
	front_h2_push_body(st);
	return 0;
}

static int h2_on_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(ng, id);

	(void)user, (void)code;
	if (!st)
		return 0;
	/* A stream that closes with its exchange in flight was reset by the
	 * client (with any code, NO_ERROR too; the hub's own resets free the
	 * exchange first): past a few per connection, the access log gets a
	 * count instead of a line each. */
	if (st->x && ++st->s->resets > H2_RESETS_LOGGED)
		st->x->log_quiet = true;
	h2_stream_free(st);
	return 0;
}

/* ---- the session ---- */

/* The server session of `s` with the request callbacks (also what
 * fuzz/fuzz_h2_headers.c drives). Returns 0, or -ENOMEM. */
static int h2_session_ng(struct h2_session *s)
{
	nghttp2_session_callbacks *cb;
	nghttp2_option *opt;
	int r;

	if (nghttp2_session_callbacks_new(&cb) != 0)
		return -ENOMEM;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, h2_on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, h2_on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, h2_on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2_on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2_on_close);
	if (nghttp2_option_new(&opt) != 0) {
		nghttp2_session_callbacks_del(cb);
		return -ENOMEM;
	}
	nghttp2_option_set_no_auto_window_update(opt, 1);
	r = nghttp2_session_server_new2(&s->ng, cb, s, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	return r == 0 ? 0 : -ENOMEM;
}

int front_h2_start(struct conn *c)
{
	struct h2_session *s = calloc(1, sizeof(*s));
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 0 },	/* below */
	};

	if (!s || h2_session_ng(s) < 0) {
		free(s);
		return -ENOMEM;
	}
	s->c = c;
	loop_timer_init(&s->kick, h2_kick_fire, s);
	loop_timer_init(&s->watch, front_h2_watch_fire, s);
	c->proto = &front_h2_proto;
	c->h2s = s;
	c->st = CONN_RESP;
	/* What each stream's arena holds: the header list a client may send
	 * (HPACK counts 32 bytes more per field than the arena keeps). */
	iv[2].value = (uint32_t)h2_set(s)->limits.max_head;
	nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
	/* Let the connection-level window match what we will buffer. */
	nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0, 4 * H2_WINDOW);
	front_h2_pump(c);
	return 0;
}

/* Feeds buffered input to the session. */
static void h2_recv(struct h2_session *s);

static void front_h2_input(struct conn *c)
{
	if (c->h2s)
		h2_recv(c->h2s);
}

static void h2_recv(struct h2_session *s)
{
	struct conn *c = s->c;
	ssize_t r;

	if (!c->in.len)
		return;
	r = nghttp2_session_mem_recv(s->ng, buf_head(&c->in), c->in.len);
	if (r < 0) {
		log_debug("%s: h2: %s", c->ip, nghttp2_strerror((int)r));
		conn_close(c);
		return;
	}
	buf_consume(&c->in, (size_t)r);
}

/* Serializes pending frames into c->out until it is full. Returns -1
 * when the session failed (the connection is closed). */
static int h2_fill(struct h2_session *s)
{
	struct conn *c = s->c;
	bool was_empty = c->out.len == 0;

	worker_buf_take(c->w, &c->out);
	while (c->out.len < CONN_BUF && !c->dead) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(s->ng, &data);
		if (n < 0) {
			conn_close(c);
			return -1;
		}
		if (n == 0)
			break;
		buf_append(&c->out, data, (size_t)n);
		front_h2_resume(s);
	}
	/* Output the socket has yet to take: send_timeout counts from now. */
	if (was_empty && c->out.len)
		c->progress_at = loop_now(c->w->loop);
	front_h2_resume(s);
	return c->dead ? -1 : 0;
}

void front_h2_pump(struct conn *c)
{
	struct h2_session *s = c->h2s;

	if (!s || c->dead)
		return;
	h2_recv(s);
	if (c->dead)
		return;
	front_h2_dequeue(s);
	/* Fill and flush until the socket pushes back (then a write event
	 * continues) or the session has nothing more to send. */
	bool more = false;

	for (int round = 0; round < 16; round++) {
		if (c->dead || h2_fill(s) < 0)
			return;
		conn_flush(c);
		more = false;
		if (c->dead || c->broken || c->out.len || !nghttp2_session_want_write(s->ng))
			break;
		more = true;
	}
	if (c->dead)
		return;
	if (s->nstreams && !loop_timer_armed(&s->watch))
		loop_timer_arm(c->w->loop, &s->watch, front_h2_watch_first(s));
	if (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng) &&
	    c->out.len == 0) {
		conn_close(c);
		return;
	}
	/* A failed write armed the timer to close the connection: keep it
	 * (disarming it left a dead client's streams waiting forever for a
	 * window update). */
	if (c->broken)
		return;
	if (s->nstreams == 0 && !loop_timer_armed(&c->timer))
		conn_arm_idle(c);
	else if (s->nstreams)
		loop_timer_disarm(c->w->loop, &c->timer);
	if (more)
		h2_kick(s);	/* a long burst: continue on the next turn */
}

static void front_h2_timeout(struct conn *c)
{
	struct h2_session *s = c->h2s;

	if (!s || s->nstreams == 0 || c->broken) {
		conn_close(c);
		return;
	}
	conn_arm_idle(c);
}

static void front_h2_drain(struct conn *c)
{
	struct h2_session *s = c->h2s;

	if (!s || s->goaway)
		return;
	s->goaway = true;
	nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE,
			      nghttp2_session_get_last_proc_stream_id(s->ng),
			      NGHTTP2_NO_ERROR, NULL, 0);
	front_h2_pump(c);
}

static void front_h2_free(struct conn *c)
{
	struct h2_session *s = c->h2s;

	if (!s)
		return;
	s->freeing = true;
	loop_timer_disarm(c->w->loop, &s->kick);
	loop_timer_disarm(c->w->loop, &s->watch);
	while (s->streams)
		h2_stream_free(s->streams);
	if (s->resets > H2_RESETS_LOGGED)
		log_info("%s: h2: %u streams in flight reset by the client; the access log "
			 "has the first %d", c->ip, s->resets, H2_RESETS_LOGGED);
	nghttp2_session_del(s->ng);
	free(s);
	c->h2s = NULL;
}

const struct conn_proto front_h2_proto = {
	.input = front_h2_input,
	.pump = front_h2_pump,
	.drain = front_h2_drain,
	.timeout = front_h2_timeout,
	.closing = front_h2_free,
	.eof_closes = true,
};
