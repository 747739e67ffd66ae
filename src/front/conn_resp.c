/* conn_resp.c - the HTTP/1.1 downstream side of an exchange: response
 * heads re-serialized (hop-by-hop fields dropped, framing chosen for this
 * client), body bytes written through with back-pressure. */
#define LOG_SUBSYS "front"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http/parse.h"
#include "front/conn.h"
#include "front/target.h"
#include "front/snap.h"
#include "front/xchg.h"
#include "front/xchg_head.h"

static int conn_resp_fields(struct conn *c, struct xchg *x, const struct http_msg *m)
{
	struct buf *o = &c->out;
	bool hsts = false;

	for (unsigned i = 0; i < m->nhdr; i++) {
		const struct http_header *h = &m->hdr[i];
		if (xchg_resp_skip(m, h->name))
			continue;
		if (str_eq_ci(h->name, STR_LIT("strict-transport-security")))
			hsts = true;
		if (BUF_APPEND(o, h->name, STR_LIT(": "), h->value, STR_LIT("\r\n")) < 0)
			return -1;
	}
	if (!hsts && c->kind == LISTEN_HTTPS && x->route && x->route->hsts_max_age &&
	    (buf_append(o, "Strict-Transport-Security: max-age=", 35) < 0 ||
	     buf_append_u64(o, x->route->hsts_max_age) < 0 || buf_append(o, "\r\n", 2) < 0))
		return -1;
	return 0;
}

static int conn_x_head(struct xchg *x, const struct http_msg *m)
{
	struct conn *c = x->down;
	struct buf *o = &c->out;
	bool chunk = false;

	if (x->tunnel) {
		c->keepalive = false;
	} else if (m->body == HTTP_BODY_CHUNKED || m->body == HTTP_BODY_CLOSE) {
		if (c->minor == 1)
			chunk = true;
		else
			c->keepalive = false;
	}
	if (c->w->draining)
		c->keepalive = false;
	c->resp_chunked = chunk;
	worker_buf_take(c->w, &c->out);
	/* The parser bounds the status to three digits. */
	if (buf_append(o, "HTTP/1.1 ", 9) < 0 || buf_append_u64(o, (uint64_t)m->status) < 0 ||
	    BUF_APPEND(o, STR_LIT(" "), m->reason, STR_LIT("\r\n")) < 0 ||
	    conn_resp_fields(c, x, m) < 0)
		return -1;
	if (x->tunnel && BUF_APPEND(o, STR_LIT("Connection: upgrade\r\nUpgrade: "), m->upgrade,
				    STR_LIT("\r\n")) < 0)
		return -1;
	if (x->set_cookie && BUF_APPEND(o, STR_LIT("Set-Cookie: "), str_cstr(x->set_cookie),
					STR_LIT("\r\n")) < 0)
		return -1;
	if (chunk && buf_append(o, "Transfer-Encoding: chunked\r\n", 28) < 0)
		return -1;
	if (!x->tunnel && !c->keepalive && buf_append(o, "Connection: close\r\n", 19) < 0)
		return -1;
	if (!x->tunnel && c->keepalive && c->minor == 0 &&
	    buf_append(o, "Connection: keep-alive\r\n", 24) < 0)
		return -1;
	if (buf_append(o, "\r\n", 2) < 0)
		return -1;
	if (x->tunnel) {
		c->st = CONN_TUNNEL;
		c->body_blocked = false;
	}
	/* A length-delimited head goes out with the first body bytes (one
	 * write, one TLS record, no epoll change for small responses);
	 * streamed and upgraded responses show their head at once. */
	if (x->tunnel || m->body == HTTP_BODY_CHUNKED || m->body == HTTP_BODY_CLOSE)
		conn_flush(c);
	return 0;
}

/* Queues as much of p as fits in c->out (chunk-framed when needed).
 * Returns how many bytes of p were queued. */
static size_t conn_queue(struct conn *c, const char *p, size_t n)
{
	size_t room = CONN_BUF > c->out.len ? CONN_BUF - c->out.len : 0, take;

	if (c->resp_chunked) {
		if (room <= HTTP_CHUNK_OVERHEAD)
			return 0;
		take = n < room - HTTP_CHUNK_OVERHEAD ? n : room - HTTP_CHUNK_OVERHEAD;
		return http_chunk_append(&c->out, p, take) < 0 ? 0 : take;
	}
	take = n < room ? n : room;
	buf_append(&c->out, p, take);
	return take;
}

/* Takes response bytes. Returns short only when the socket would block
 * with c->out full: then resp_blocked is set and the next write event
 * that drains half of it resumes the exchange. */
static size_t conn_x_data(struct xchg *x, const char *p, size_t n)
{
	struct conn *c = x->down;
	size_t done = 0;

	if (c->broken || c->dead)
		return n;	/* swallowed: the connection closes next turn */
	/* (Not under TLS: a write that would block must be retried with
	 * the same bytes, which then live in c->out.) */
	if (!c->resp_chunked && c->out.len == 0 && !c->tls) {
		/* Nothing queued: hand the bytes straight to the socket. */
		long w = conn_send(c, p, n);
		if (w > 0) {
			done = (size_t)w;
			c->progress_at = loop_now(c->w->loop);
		} else if (w != -EAGAIN) {
			c->broken = true;
			loop_timer_arm(c->w->loop, &c->timer, 0);
			return n;
		}
	}
	while (done < n) {
		size_t t = conn_queue(c, p + done, n - done);
		done += t;
		if (done == n || c->broken)
			break;
		if (!conn_write_out(c) || c->broken)
			break;
	}
	if (c->broken)
		return n;
	if (done < n)
		c->resp_blocked = true;
	if (c->out.len) {
		conn_write_out(c);
		if (!loop_timer_armed(&c->timer)) {
			c->progress_at = loop_now(c->w->loop);
			loop_timer_arm(c->w->loop, &c->timer, c->w->hold->snap->set.send_timeout);
		}
	}
	conn_update_io(c);
	return done;
}

static void conn_x_end(struct xchg *x, const struct buf *trailers)
{
	struct conn *c = x->down;

	conn_enter(c);
	if (x->tunnel) {
		c->keepalive = false;
	} else if (c->resp_chunked) {
		buf_append(&c->out, "0\r\n", 3);
		if (trailers && trailers->len)
			buf_append(&c->out, buf_head(trailers), trailers->len);
		buf_append(&c->out, "\r\n", 2);
	} else if (x->resp_body == HTTP_BODY_CLOSE) {
		c->keepalive = false;
	}
	conn_request_done(c);
	conn_leave(c);
}

static void conn_x_fail(struct xchg *x, int status)
{
	struct conn *c = x->down;

	conn_enter(c);
	if (!x->head_done && x->agent_offline) {
		char agent[64];
		snprintf(agent, sizeof(agent), "%s", x->route->target.agent);
		conn_error_agent(c, status, agent);	/* frees x */
	} else if (!x->head_done) {
		conn_error(c, status);
	} else {
		c->x = NULL;
		xchg_free(x);
		conn_close(c);
	}
	conn_leave(c);
}

static void conn_x_req_resume(struct xchg *x)
{
	struct conn *c = x->down;

	if (!c->body_blocked)
		return;
	conn_enter(c);
	c->body_blocked = false;
	conn_process(c);
	conn_update_io(c);
	conn_leave(c);
}

const struct xchg_ops conn_xchg_ops = {
	.head = conn_x_head,
	.data = conn_x_data,
	.end = conn_x_end,
	.fail = conn_x_fail,
	.req_resume = conn_x_req_resume,
};
