/* front.c - the request pipeline for HTTP/1.1 requests. */
#define LOG_SUBSYS "front"
#include "hub/front.h"

#include <stdio.h>
#include <string.h>

#include "acme/acme_chall.h"
#include "core/log.h"
#include "http/parse.h"
#include "hub/admin.h"
#include "hub/alog.h"
#include "hub/conn.h"
#include "hub/hub.h"
#include "hub/metrics.h"
#include "hub/route.h"
#include "hub/snap.h"
#include "hub/xchg.h"

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

static const struct hub_settings *front_set(const struct conn *c)
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

/* A short response of the hub's own (404, metrics, redirect). */
static void front_reply(struct conn *c, const struct http_msg *m, int head,
			int status, const char *extra, const char *type,
			const char *body, size_t blen)
{
	bool keep = c->keepalive && m->body == HTTP_BODY_NONE && !c->w->draining;

	buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		   "Cache-Control: no-store\r\n%s%s\r\n",
		   status, xchg_status_text(status), type, blen, extra ? extra : "",
		   keep ? "" : "Connection: close\r\n");
	if (m->meth != HTTP_M_HEAD)
		buf_append(&c->out, body, blen);
	/* ACME challenge answers stay out of the access log (their tokens
	 * never reach a log). */
	if ((c->kind == LISTEN_HTTP || c->kind == LISTEN_HTTPS) &&
	    !str_has_prefix(m->path, STR_LIT(ACME_CHALL_PREFIX)))
		alog_hub_reply(c->w, c->ip, m->host, m->method, m->path, status,
			       m->meth != HTTP_M_HEAD ? blen : 0);
	c->keepalive = keep;
	front_reply_done(c, m, head);
}

static void front_not_found(struct conn *c, const struct http_msg *m, int head)
{
	static const char body[] = "404 Not Found\n";
	metrics_observe(c->w->idx, METRICS_NO_ROUTE, 404, 0, 0, 0);
	front_reply(c, m, head, 404, NULL, "text/plain; charset=utf-8", body,
		    sizeof(body) - 1);
}

static void front_redirect(struct conn *c, const struct http_msg *m, int head)
{
	char loc[1200];
	snprintf(loc, sizeof(loc), "Location: https://%.*s%.*s\r\n",
		 (int)(m->host.len < 256 ? m->host.len : 256), m->host.p,
		 (int)(m->path.len < 900 ? m->path.len : 900), m->path.p);
	front_reply(c, m, head, 308, loc, "text/plain", "", 0);
}

static void front_metrics(struct conn *c, const struct http_msg *m, int head)
{
	struct buf b;

	if (!str_eq(m->path, STR_LIT("/metrics"))) {
		front_not_found(c, m, head);
		return;
	}
	buf_init(&b, 8u << 20);
	if (metrics_render(&b) < 0)
		buf_reset(&b);
	front_reply(c, m, head, 200, NULL, "text/plain; version=0.0.4",
		    (const char *)buf_head(&b), b.len);
	buf_free(&b);
}

/* ACME HTTP-01 (RFC 8555 s8.3): /.well-known/acme-challenge/TOKEN on the
 * plain-HTTP listeners answers from the challenge store for every host,
 * before routing, so no route, redirect or policy can hide it. Returns
 * true when the request was answered. */
static bool front_acme_challenge(struct conn *c, const struct http_msg *m, int head)
{
	char body[512];
	long n;

	if (c->kind != LISTEN_HTTP || !str_has_prefix(m->path, STR_LIT(ACME_CHALL_PREFIX)))
		return false;
	n = acme_chall_http_lookup(m->path.p, m->path.len, body, sizeof(body));
	if (n == 0)
		return false;
	if (n < 0) {
		front_not_found(c, m, head);
		return true;
	}
	front_reply(c, m, head, 200, NULL, "application/octet-stream", body, (size_t)n);
	return true;
}

bool front_admin_target(const struct conn *c, struct str host, struct str path)
{
	const char *hn = front_set(c)->hostname;
	struct str h = host;
	const char *colon;

	if (c->kind == LISTEN_CONTROL || c->kind == LISTEN_AGENT)
		return true;
	if (!hn[0] || !str_has_prefix(path, STR_LIT("/api/")))
		return false;
	colon = h.len ? memchr(h.p, ':', h.len) : NULL;
	if (colon && h.p[0] != '[')
		h.len = (size_t)(colon - h.p);
	return str_eq_ci(h, str_cstr(hn));
}

/* Access control and authentication hooks (later issues): return 0 to
 * let the request through, or a status to answer instead. */
static int front_access(struct conn *c, const struct route *r, const struct http_msg *m)
{
	(void)c, (void)r, (void)m;
	return 0;
}

static int front_auth(struct conn *c, const struct route *r, const struct http_msg *m)
{
	(void)c, (void)r, (void)m;
	return 0;
}

static void front_proxy(struct conn *c, const struct route *route,
			const struct http_msg *m, int head)
{
	const struct hub_settings *s = front_set(c);
	struct xchg_req rq = {
		.msg = m, .scheme_host = m->host, .peer = &c->peer,
		.peer_ip = c->ip, .https = c->kind == LISTEN_HTTPS,
		.trusted_peer = hub_settings_trusted(s, &c->peer),
		.body = m->body, .body_len = m->content_length,
		.upgrade = (m->flags & HTTP_F_UPGRADE) != 0,
	};
	int st;

	if (s->limits.max_body && m->body == HTTP_BODY_LENGTH &&
	    m->content_length > s->limits.max_body) {
		conn_error(c, 413);
		return;
	}
	if (route_agent_offline(route)) {
		metrics_observe(c->w->idx, route->stats_id, 502, 0, 0, 0);
		conn_error_agent(c, 502, route->target.agent);
		return;
	}
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

static void front_dispatch(struct conn *c, const struct http_msg *m, int head)
{
	const struct route *route;
	int st;

	if (c->kind == LISTEN_METRICS) {
		front_metrics(c, m, head);
		return;
	}
	if (front_acme_challenge(c, m, head))
		return;
	if (front_admin_target(c, m->host, m->path)) {
		admin_start(c, m, head);
		return;
	}
	route = route_lookup(c->w->hold->snap->routes, m->host, m->path);
	if (!route) {
		front_not_found(c, m, head);
		return;
	}
	if ((st = front_access(c, route, m)) || (st = front_auth(c, route, m))) {
		conn_error(c, st);
		return;
	}
	if (route->redirect_https && c->kind != LISTEN_HTTPS) {
		front_redirect(c, m, head);
		return;
	}
	front_proxy(c, route, m, head);
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
		metrics_count(c->w->idx, METRICS_REQ_MALFORMED);
		log_debug("%s: rejected request: %s", c->ip, http_err_name(r));
		metrics_observe(c->w->idx, METRICS_NO_ROUTE, http_err_status(r), 0, 0, 0);
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

void front_conn_closing(struct conn *c)
{
	if (c->admin) {
		admin_call_detach(c->admin);
		c->admin = NULL;
	}
	if (c->h2s)
		front_h2_free(c);
	if (c->tls)
		front_tls_free(c);
}
