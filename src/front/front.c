/* front.c - HTTP/1.1 framing around the request pipeline (pipeline.c). */
#define LOG_SUBSYS "front"
#include "front/front.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "http/parse.h"
#include "front/admin.h"
#include "front/alog.h"
#include "front/conn.h"
#include "front/front_ctx.h"
#include "front/metrics.h"
#include "front/pipeline.h"
#include "front/target.h"
#include "front/snap.h"
#include "front/xchg.h"

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

static const struct front_settings *front_set(const struct conn *c)
{
	return &c->w->hold->snap->set;
}

/* Consumes the head; a request with a body cannot be kept alive without
 * reading it, so such a connection closes after the answer. */
static void front_reply_done(struct conn *c, const struct http_msg *m, int head)
{
	buf_consume(&c->in, (size_t)head);
	c->scan = 0;
	if (m->body != HTTP_BODY_NONE)
		c->keepalive = false;
	c->st = CONN_RESP;
	conn_request_done(c);
}

/* An answer of the hub's own (404, metrics, redirect, refusal). */
static void front_answer(struct conn *c, const struct http_msg *m, int head,
			 const struct pipeline_out *o)
{
	bool keep = c->keepalive && !o->close && m->body == HTTP_BODY_NONE && !c->w->draining;
	char loc[1300] = "", wwwa[128] = "", ids[4400] = "", setc[300] = "";
	struct str idn[4], idv[4];
	size_t idl = 0;

	if (o->log)
		alog_hub_reply(c->w, c->ip, m->host, m->method, m->path, o->status,
			       o->type && m->meth != HTTP_M_HEAD ? o->blen : 0);
	if (!o->type) {
		conn_error_agent(c, o->status, o->agent);
		return;
	}
	if (o->location[0])
		snprintf(loc, sizeof(loc), "Location: %s\r\n", o->location);
	if (o->www_auth)
		snprintf(wwwa, sizeof(wwwa), "WWW-Authenticate: %s\r\n", o->www_auth);
	/* A forward-auth 200 re-issues a session cookie due for it (the
	 * proxy in front copies it to its response: docs/auth.md). */
	if (o->set_cookie[0])
		snprintf(setc, sizeof(setc), "Set-Cookie: %s\r\n", o->set_cookie);
	for (unsigned i = 0, n = pipeline_id_fields(o, idn, idv); i < n && idl < sizeof(ids); i++)
		idl += (size_t)snprintf(ids + idl, sizeof(ids) - idl, "%.*s: %.*s\r\n",
					(int)idn[i].len, idn[i].p, (int)idv[i].len, idv[i].p);
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		   "Cache-Control: no-store\r\n%s%s%s%s%s\r\n",
		   o->status, errpage_status_text(o->status), o->type, o->blen, loc, wwwa, setc, ids,
		   keep ? "" : "Connection: close\r\n");
	if (m->meth != HTTP_M_HEAD)
		buf_append(&c->out, o->body, o->blen);
	c->keepalive = keep;
	front_reply_done(c, m, head);
}

/* "Upgrade: h2c" is a hop-by-hop switch to cleartext HTTP/2 for this
 * connection, not something to tunnel to an upstream. */
static bool front_upgrade(const struct http_msg *m)
{
	return (m->flags & HTTP_F_UPGRADE) && !(m->upgrade.len >= 3 &&
		str_eq_ci(str_make(m->upgrade.p, 3), STR_LIT("h2c")));
}

static void front_proxy(struct conn *c, const struct pipeline_out *o,
			const struct http_msg *m, int head)
{
	const struct route *route = o->route;
	const struct front_settings *s = front_set(c);
	struct xchg_req rq = {
		.msg = m, .scheme_host = m->host, .peer = &c->peer,
		.peer_ip = c->ip, .https = c->kind == LISTEN_HTTPS,
		.trusted_peer = front_settings_trusted(s, &c->peer),
		.body = m->body, .body_len = m->content_length,
		.upgrade = front_upgrade(m),
		.who = o->who,
		.drop_auth = o->drop_auth,
		.set_cookie = o->set_cookie,
	};
	int st;

	c->body = m->body;
	c->left = m->content_length;
	c->body_total = 0;
	http_chunked_init(&c->dech, true);
	c->x = xchg_start(c->w, c->w->hold, route, &rq, &conn_xchg_ops, c, &st);
	if (!c->x) {
		conn_error(c, st);
		return;
	}
	buf_consume(&c->in, (size_t)head);
	c->scan = 0;
	if (m->body == HTTP_BODY_NONE) {
		c->st = CONN_RESP;
		loop_timer_disarm(c->w->loop, &c->timer);
		return;
	}
	c->st = CONN_BODY;
	if ((m->flags & HTTP_F_CONTINUE) && c->in.len == 0) {
		buf_append(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		conn_flush(c);
	}
	loop_timer_arm(c->w->loop, &c->timer, s->body_timeout);
}

/* Runs the pipeline and frames its decision. */
static void front_dispatch(struct conn *c, struct http_msg *m, int head)
{
	struct pipeline_in in = {
		.w = c->w, .kind = c->kind, .peer = &c->peer, .ip = c->ip, .m = m,
		.length_known = m->body == HTTP_BODY_LENGTH,
	};
	struct pipeline_out out;

	c->w->fc->ops->decide(&in, &out);
	switch (out.act) {
	case PIPELINE_ADMIN:
		admin_start(c, m, head);
		break;
	case PIPELINE_PROXY:
		front_proxy(c, &out, m, head);
		break;
	case PIPELINE_ANSWER:
		front_answer(c, m, head, &out);
		break;
	}
	pipeline_out_free(&out);
}

void front_head(struct conn *c)
{
	struct http_msg m;
	struct http_limits lim = front_set(c)->limits;
	int r;

	if (c->in.len >= sizeof(H2_PREFACE) - 1 && c->kind != LISTEN_CONTROL &&
	    !memcmp(buf_head(&c->in), H2_PREFACE, sizeof(H2_PREFACE) - 1)) {
		if (front_h2_start(c) < 0)
			conn_close(c);
		return;
	}
	lim.max_body = 0;	/* checked by the caller: 413, not 400 */
	r = http_parse_request(&m, (const char *)buf_head(&c->in), c->in.len, &lim, &c->scan);
	if (r == 0)
		return;
	if (r < 0) {
		metrics_count(c->w->metrics, METRICS_REQ_MALFORMED);
		log_debug("%s: rejected request: %s", c->ip, http_err_name(r));
		metrics_observe(c->w->metrics, METRICS_NO_ROUTE, http_err_status(r), 0, 0, 0);
		alog_hub_reply(c->w, c->ip, STR_LIT(""), STR_LIT(""), STR_LIT(""),
			       http_err_status(r), 0);
		conn_error(c, http_err_status(r));
		return;
	}
	c->minor = m.minor;
	c->keepalive = !(m.flags & HTTP_F_CLOSE);
	front_dispatch(c, &m, r);
}

size_t front_body(struct conn *c, const char *p, size_t n)
{
	if (c->admin_body)
		return admin_body(c, p, n);
	return c->x ? xchg_req_body(c->x, p, n) : n;
}

void front_body_end(struct conn *c, const struct buf *trailers)
{
	if (c->admin_body) {
		admin_body_end(c);
		return;
	}
	c->st = CONN_RESP;
	loop_timer_disarm(c->w->loop, &c->timer);
	if (c->x)
		xchg_req_end(c->x, trailers);
}
