/* xchg.c - one request proxied to an upstream over HTTP/1.1.
 *
 * Request bytes flow downstream -> xchg_req_body -> upconn.out -> socket;
 * response bytes flow socket -> upconn.in -> parser/decoder -> ops->data.
 * Each buffer is bounded; a short take on either side pauses the reader
 * of that side until the consumer calls back (req_resume/resp_resume). */
#define LOG_SUBSYS "proxy"
#include "front/xchg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <time.h>

#include "auth/auth_assert.h"
#include "auth/auth_users.h"
#include "core/log.h"
#include "core/secure.h"
#include "http/parse.h"
#include "front/alog.h"
#include "front/metrics.h"
#include "front/target.h"
#include "front/snap.h"
#include "front/upstream.h"
#include "front/worker.h"
#include "front/xchg_head.h"
#include "front/xchg_up.h"

static const struct front_settings *xchg_set(const struct xchg *x)
{
	return &x->hold->snap->set;
}

static const char *xchg_upstream_label(const struct xchg *x)
{
	return x->route ? x->route->target.label : "";
}

static bool xchg_idempotent(enum http_method m)
{
	return m == HTTP_M_GET || m == HTTP_M_HEAD || m == HTTP_M_OPTIONS ||
	       m == HTTP_M_PUT || m == HTTP_M_DELETE || m == HTTP_M_TRACE;
}

static void xchg_fill_log(struct xchg *x, const struct xchg_req *rq,
			  const struct route *route)
{
	const struct http_msg *m = rq->msg;

	alog_copy(x->log.method, sizeof(x->log.method), m->method);
	alog_copy(x->log.host, sizeof(x->log.host), rq->scheme_host);
	alog_copy(x->log.path, sizeof(x->log.path), m->path);
	snprintf(x->log.client, sizeof(x->log.client), "%s", rq->peer_ip);
	(void)route;
}

/* The request id: a trusted proxy's is kept; otherwise a fresh one. */
static const char *xchg_rid(struct xchg *x, const struct xchg_req *rq)
{
	const char *name = xchg_set(x)->request_id_header;
	int i = rq->trusted_peer ? http_msg_find(rq->msg, str_cstr(name)) : -1;

	if (i >= 0) {
		alog_copy(x->log.request_id, sizeof(x->log.request_id), rq->msg->hdr[i].value);
		return NULL;
	}
	alog_request_id(x->log.request_id);
	return x->log.request_id;
}

/* ---- failing and finishing ---- */

static void xchg_drop_up(struct xchg *x, bool reusable)
{
	struct upconn *u = x->up;

	if (!u)
		return;
	x->up = NULL;
	upstream_release(u, reusable, xchg_set(x)->up_pool_idle, xchg_set(x)->up_pool_max);
}

/* Reports failure downstream. The downstream may free x inside. */
static void xchg_fail(struct xchg *x, int status)
{
	xchg_drop_up(x, false);
	x->state = XCHG_DONE;
	if (!x->head_done)
		x->status = status;
	if (!x->error)
		x->error = status == 504 ? "upstream_timeout" : "upstream_error";
	x->ops->fail(x, status);
}

/* The upstream could not be reached. Through an agent that means the
 * agent is offline (or its tunnel is down): the page says so. */
static void xchg_fail_unreachable(struct xchg *x, int status)
{
	if (x->route->target.via_agent) {
		x->agent_offline = true;
		status = 502;
	}
	xchg_fail(x, status);
}

/* The response is complete. The downstream may free x inside ops->end. */
static void xchg_finish(struct xchg *x)
{
	bool reusable = !x->up_close && x->req_done && !x->tunnel &&
			x->resp_body != HTTP_BODY_CLOSE;

	x->resp_done = true;
	x->state = XCHG_DONE;
	xchg_drop_up(x, reusable);
	x->ops->end(x, &x->dech.trailers);
}

/* ---- starting ---- */

static void xchg_arm(struct xchg *x, uint64_t ns)
{
	if (x->up)
		loop_timer_arm(x->w->loop, &x->up->timer, ns);
}

/* (Re)arms the upstream timer for what the exchange waits for now, after
 * bytes moved: nothing while the upstream is paused for the client (it is
 * not idle; the downstream's send_timeout watches the client), the
 * response head once the whole request is sent (upstream_header_timeout),
 * else the next bytes either way (upstream_idle_timeout;
 * tunnel_idle_timeout after a 101). A connect in progress or a pending
 * error keeps its timer. */
static void xchg_arm_wait(struct xchg *x)
{
	const struct front_settings *s = xchg_set(x);
	struct upconn *u = x->up;

	if (!u || u->connecting || u->err || x->state == XCHG_DONE)
		return;
	if (x->resp_paused)
		loop_timer_disarm(x->w->loop, &u->timer);
	else if (x->tunnel)
		xchg_arm(x, s->tunnel_idle_timeout);
	else if (!x->head_done && x->req_done && u->out.len == 0)
		xchg_arm(x, s->up_header_timeout);
	else
		xchg_arm(x, s->up_idle_timeout);
}

static bool xchg_write(struct xchg *x);

/* Puts the request head on a (new or pooled) connection. */
static int xchg_attach(struct xchg *x, bool fresh)
{
	int err = 0;
	struct upconn *u = upstream_get(x->w, &x->route->target, fresh, &err);

	if (!u)
		return err;
	x->up = u;
	u->x = x;
	if (u->reused)
		metrics_count(x->w->metrics, METRICS_UP_REUSED);
	if (x->route->target.stream && !u->reused) {
		if (xchg_agent_header(x, &u->out) < 0)
			return -ENOMEM;
		u->await_status = true;
	}
	if (buf_append(&u->out, buf_head(&x->reqhead), x->reqhead.len) < 0)
		return -ENOMEM;
	if (!x->retryable || !u->reused)
		buf_free(&x->reqhead);
	if (u->connecting) {
		/* A connect that failed at once is reported on the next turn. */
		xchg_arm(x, u->err ? 0 : xchg_set(x)->up_connect_timeout);
		upstream_want(u, false, true);
	} else {
		xchg_arm_wait(x);
		/* A bodyless request on an established connection goes out at
		 * once (a write error is handled on the next turn, where a dead
		 * pooled connection is retried): no epoll_ctl and no loop turn
		 * waiting for a write event. A body pushes the head out with
		 * its first bytes. */
		if (x->req_done)
			xchg_write(x);
		upstream_want(u, true, u->out.len > 0);
	}
	return 0;
}

/* The request head rebuilt for the upstream did not fit its bound: the
 * client's head was near max_header_bytes and the fields the hub adds
 * copy its Host (X-Forwarded-Host, Forwarded) or append to a trusted
 * proxy's lists. The client's doing, so a 431 like an over-long head. */
static struct xchg *xchg_head_too_large(struct xchg *x, int *status)
{
	log_debug("%s: the request head for %s outgrew its bound: 431", x->log.client,
		  xchg_upstream_label(x));
	x->status = *status = 431;
	xchg_free(x);
	return NULL;
}

const char *xchg_assertion(struct worker *w, const struct front_snap *snap,
			   const struct auth_user *u, struct str host)
{
	const struct auth_users *t = snap->users;
	char h[AUTH_HOST_MAX + 1];

	if (!u || !t || !t->assert || auth_host_norm(host, h) < 0)
		return NULL;
	if (!w->acache && !(w->acache = auth_assert_cache_new()))
		return NULL;
	return auth_assert_get(w->acache, t->assert, u, h, (int64_t)time(NULL));
}

struct xchg *xchg_start(struct worker *w, struct snap_hold *hold,
			const struct route *route, const struct xchg_req *rq,
			const struct xchg_ops *ops, void *down, int *status)
{
	struct xchg *x = pool_get(&w->xchg_pool);
	struct xchg_req rqa;
	const char *rid;
	int r;

	*status = 503;
	if (!x) {
		log_warn("no memory for a request to %s", route->target.label);
		return NULL;
	}
	memset(x, 0, sizeof(*x));
	x->ops = ops;
	x->down = down;
	x->w = w;
	x->hold = hold;
	snap_hold_get(hold);
	x->route = route;
	if (rq->peer)
		x->client = *rq->peer;
	x->meth = rq->msg->meth;
	x->t_start = loop_now(w->loop);
	x->want_upgrade = rq->upgrade;
	x->req_chunked = rq->body == HTTP_BODY_CHUNKED;
	x->req_left = rq->body == HTTP_BODY_LENGTH ? rq->body_len : 0;
	x->req_done = rq->body == HTTP_BODY_NONE;
	x->retryable = xchg_idempotent(x->meth) && x->req_done && !rq->upgrade;
	http_chunked_init(&x->dech, true);
	buf_init(&x->reqhead, xchg_set(x)->limits.max_head + 4096);
	buf_reserve(&x->reqhead, 1024);
	xchg_fill_log(x, rq, route);
	rid = xchg_rid(x, rq);
	if (rq->set_cookie && rq->set_cookie[0])
		x->set_cookie = strdup(rq->set_cookie);	/* NULL: no refresh, no harm */
	rqa = *rq;
	rqa.assertion = xchg_assertion(w, hold->snap, rq->who, rq->scheme_host);
	r = xchg_head_build(&x->reqhead, route, &rqa, xchg_set(x)->request_id_header, rid);
	if (r == -ENOBUFS)
		return xchg_head_too_large(x, status);
	if (r == 0)
		r = xchg_attach(x, false);
	if (r < 0) {
		/* No socket (out of file descriptors, of memory): the caller
		 * answers 503; the line is logged and counted as such. A
		 * socket that exists reports on the downstream's next call. */
		if (!x->up) {
			log_warn("no resources for a request to %s: %s", route->target.label,
				 strerror(-r));
			x->status = 503;
			x->error = "no_resources";
			xchg_free(x);
			return NULL;
		}
		x->up->err = -ENOMEM;
		xchg_arm(x, 0);
	}
	return x;
}

/* ---- request direction ---- */

static void xchg_up_flush(struct xchg *x);
static void xchg_up_error(struct xchg *x, int err);

/* Writes what the socket takes. A write error is not acted on here (the
 * caller may be the downstream, which must not see its exchange freed
 * under it): it is recorded and handled on the next loop turn. Returns
 * true when bytes were written. */
static bool xchg_write(struct xchg *x)
{
	struct upconn *u = x->up;
	long r;

	if (u->connecting || u->err)
		return false;
	r = upstream_flush(u);
	if (r < 0) {
		u->err = (int)r;
		buf_reset(&u->out);
		xchg_arm(x, 0);
		return false;
	}
	if (r > 0) {
		x->sent_any = true;
		xchg_arm_wait(x);
	}
	return r > 0;
}

/* Queues as much of p as fits in up->out, framed. */
static size_t xchg_queue(struct xchg *x, const char *p, size_t n)
{
	struct upconn *u = x->up;
	size_t room = UPCONN_BUF > u->out.len ? UPCONN_BUF - u->out.len : 0, take;

	if (x->req_chunked && !x->tunnel) {
		if (room <= HTTP_CHUNK_OVERHEAD)
			return 0;
		take = n < room - HTTP_CHUNK_OVERHEAD ? n : room - HTTP_CHUNK_OVERHEAD;
		return http_chunk_append(&u->out, p, take) < 0 ? 0 : take;
	}
	take = n < room ? n : room;
	if (!x->tunnel && take > x->req_left)
		take = (size_t)x->req_left;
	buf_append(&u->out, p, take);
	if (!x->tunnel)
		x->req_left -= take;
	return take;
}

size_t xchg_req_body(struct xchg *x, const char *p, size_t n)
{
	struct upconn *u = x->up;
	size_t done = 0;

	if (!u || x->state == XCHG_DONE || u->err)
		return n;	/* nobody wants it any more: drop */
	while (done < n) {
		done += xchg_queue(x, p + done, n - done);
		if (done == n || !xchg_write(x))
			break;
	}
	if (done < n)
		x->req_blocked = true;
	else
		xchg_write(x);
	x->bytes_in += done;
	upstream_want(u, !u->connecting && !u->eof && !x->resp_paused,
		    u->out.len > 0 || u->connecting || x->req_blocked);
	return done;
}

void xchg_req_end(struct xchg *x, const struct buf *trailers)
{
	struct upconn *u = x->up;

	x->req_done = true;
	if (u && !x->req_chunked)
		xchg_arm_wait(x);	/* sent: now the response head's turn */
	if (!u || x->state == XCHG_DONE || !x->req_chunked || u->err)
		return;
	buf_append(&u->out, "0\r\n", 3);
	if (trailers && trailers->len)
		xchg_head_trailers(&u->out, x->route, trailers, xchg_set(x)->request_id_header);
	buf_append(&u->out, "\r\n", 2);
	xchg_write(x);
	upstream_want(u, !u->connecting && !u->eof && !x->resp_paused, u->out.len > 0 || u->connecting);
	xchg_arm_wait(x);
}

/* ---- response direction ---- */

static int xchg_resp_head(struct xchg *x);
static int xchg_resp_body(struct xchg *x);

/* Parses and forwards what is in up->in. Returns 0 to keep going, or 1
 * when x is finished (and possibly freed). */
static int xchg_process(struct xchg *x)
{
	int r;

	while (!x->head_done) {
		r = xchg_resp_head(x);
		if (r)
			return r > 0 ? 0 : 1;
	}
	return xchg_resp_body(x);
}

/* Returns 0 when a head (or a skipped 1xx) was handled, 1 when more bytes
 * are needed, -1 when x is finished. */
static int xchg_resp_head(struct xchg *x)
{
	struct upconn *u = x->up;
	struct http_msg m;
	int r = http_parse_response(&m, (const char *)buf_head(&u->in), u->in.len,
				    &xchg_set(x)->limits, &x->resp_scan, x->meth);

	if (r == 0) {
		if (!u->eof)
			return 1;
		/* Closed before a complete head. */
		xchg_fail(x, 502);
		return -1;
	}
	if (r < 0) {
		log_info("bad response from %s: %s", xchg_upstream_label(x), http_err_name(r));
		xchg_fail(x, 502);
		return -1;
	}
	x->resp_scan = 0;
	if (m.status < 200 && m.status != 101) {
		/* Interim responses are ours to answer (100) or not forwarded. */
		buf_consume(&u->in, (size_t)r);
		return 0;
	}
	if (m.status == 101 && !x->want_upgrade) {
		xchg_fail(x, 502);
		return -1;
	}
	x->status = m.status;
	x->resp_body = m.body;
	x->resp_left = m.content_length;
	x->up_close = (m.flags & HTTP_F_CLOSE) != 0;
	x->tunnel = m.status == 101;
	if (x->ops->head(x, &m) < 0) {
		xchg_fail(x, 502);
		return -1;
	}
	x->head_done = true;
	buf_consume(&u->in, (size_t)r);
	if (x->tunnel) {
		x->state = XCHG_TUNNEL;
		x->req_done = true;
	}
	xchg_arm_wait(x);
	return 0;
}

/* The downstream is full: stop reading the upstream until
 * xchg_resp_resume, and hold no empty buffer meanwhile. */
static void xchg_pause(struct xchg *x)
{
	x->resp_paused = true;
	xchg_arm_wait(x);
	if (x->up && x->req_done && !x->req_blocked)
		upstream_shed(x->up);
}

/* Read at least this much while the response head is awaited (a head
 * and what follows it), whatever the downstream's room. */
#define XCHG_HEAD_READ (16u << 10)

/* How much to read from the upstream now: the downstream's room (its
 * ops->room), not less than XCHG_HEAD_READ before the head; 0 means the
 * downstream is full. */
static size_t xchg_read_max(const struct xchg *x)
{
	size_t room;

	if (!x->ops->room || x->tunnel)
		return SIZE_MAX;
	room = x->ops->room(x);
	if (!x->head_done && room < XCHG_HEAD_READ)
		room = XCHG_HEAD_READ;
	return room;
}

/* Passes n bytes at p downstream; returns how many were taken and sets
 * resp_paused when short. */
static size_t xchg_pass(struct xchg *x, const char *p, size_t n)
{
	size_t t = n ? x->ops->data(x, p, n) : 0;

	x->bytes_out += t;
	if (t < n)
		xchg_pause(x);
	return t;
}

static int xchg_body_chunked(struct xchg *x)
{
	struct upconn *u = x->up;

	while (u->in.len && !http_chunked_done(&x->dech)) {
		struct str d;
		ssize_t r = http_chunked_feed(&x->dech, (const char *)buf_head(&u->in),
					      u->in.len, &d);
		if (r < 0) {
			log_info("bad chunked body from %s", xchg_upstream_label(x));
			xchg_fail(x, 502);
			return 1;
		}
		size_t t = xchg_pass(x, d.p, d.len);
		if (t < d.len) {
			http_chunked_unread(&x->dech, d.len - t);
			buf_consume(&u->in, (size_t)r - (d.len - t));
			return 0;
		}
		buf_consume(&u->in, (size_t)r);
	}
	return 0;
}

static int xchg_resp_body(struct xchg *x)
{
	struct upconn *u = x->up;
	size_t n, t;

	if (x->resp_paused)
		return 0;
	switch (x->tunnel ? HTTP_BODY_CLOSE : x->resp_body) {
	case HTTP_BODY_LENGTH:
		n = u->in.len < x->resp_left ? u->in.len : (size_t)x->resp_left;
		t = xchg_pass(x, (const char *)buf_head(&u->in), n);
		buf_consume(&u->in, t);
		x->resp_left -= t;
		if (x->resp_left == 0)
			break;
		if (u->eof && !x->resp_paused) {
			xchg_fail(x, 502);	/* truncated */
			return 1;
		}
		return 0;
	case HTTP_BODY_CHUNKED:
		if (xchg_body_chunked(x))
			return 1;
		if (http_chunked_done(&x->dech))
			break;
		if (u->eof && !x->resp_paused) {
			xchg_fail(x, 502);
			return 1;
		}
		return 0;
	case HTTP_BODY_CLOSE:
		t = xchg_pass(x, (const char *)buf_head(&u->in), u->in.len);
		buf_consume(&u->in, t);
		if (!u->eof || u->in.len)
			return 0;
		break;
	default:
		break;
	}
	xchg_finish(x);
	return 1;
}

void xchg_resp_resume(struct xchg *x)
{
	if (!x->resp_paused || !x->up)
		return;
	x->resp_paused = false;
	if (xchg_process(x))
		return;
	if (x->up && !x->resp_paused) {
		upstream_want(x->up, !x->up->eof, x->up->out.len > 0);
		xchg_arm_wait(x);
	}
}

/* ---- upstream events ---- */

/* A pooled connection died before answering: try once more on a new one
 * when the request can be replayed. Returns true when retried. */
static bool xchg_retry(struct xchg *x)
{
	if (!x->up->reused || !x->retryable || x->resp_any || !x->reqhead.len)
		return false;
	metrics_count(x->w->metrics, METRICS_UP_RETRY);
	xchg_drop_up(x, false);
	x->retryable = false;
	if (xchg_attach(x, true) < 0) {
		xchg_fail(x, 502);
		return true;
	}
	return true;
}

static void xchg_up_error(struct xchg *x, int err)
{
	if (xchg_retry(x))
		return;
	if (x->up && x->up->connecting)
		metrics_count(x->w->metrics, METRICS_UP_CONNECT_FAIL);
	log_debug("upstream %s: %s", xchg_upstream_label(x), strerror(-err));
	xchg_fail(x, 502);
}

/* Write event (or connected): send, then let a blocked downstream push
 * again once half the buffer is free. */
static void xchg_up_flush(struct xchg *x)
{
	struct upconn *u = x->up;
	long r = upstream_flush(u);

	if (r < 0) {
		/* The response may still be readable (an early answer such as
		 * 413): stop sending, keep reading. */
		buf_reset(&u->out);
		x->up_close = true;
		if (!x->resp_any && !x->head_done) {
			xchg_up_error(x, (int)r);
			return;
		}
	} else if (r > 0) {
		x->sent_any = true;
		xchg_arm_wait(x);
	}
	upstream_want(u, !u->eof && !x->resp_paused, u->out.len > 0 || x->req_blocked);
	if (x->req_blocked && u->out.len < UPCONN_BUF / 2) {
		x->req_blocked = false;
		x->ops->req_resume(x);
	}
}

static void xchg_up_connected(struct xchg *x)
{
	struct upconn *u = x->up;
	int err = u->err;
	socklen_t len = sizeof(err);

	if (!err && getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
		err = -err;
	if (err) {
		metrics_count(x->w->metrics, METRICS_UP_CONNECT_FAIL);
		log_info("connect to %s failed: %s", xchg_upstream_label(x), strerror(-err));
		/* A node that refuses is up; its service is not. */
		if (err == -ECONNREFUSED && !x->route->target.stream)
			xchg_fail(x, 502);
		else
			xchg_fail_unreachable(x, 502);
		return;
	}
	u->connecting = false;
	xchg_arm_wait(x);
	xchg_up_flush(x);
}

static void xchg_up_read(struct xchg *x)
{
	struct upconn *u = x->up;
	size_t max = xchg_read_max(x);
	long r;

	if (max == 0 && !u->await_status) {
		/* The downstream has no room: its resume reads again. */
		xchg_pause(x);
		upstream_want(u, false, u->out.len > 0);
		return;
	}
	r = upstream_read(u, max ? max : 1);
	if (r == -EAGAIN || r == -ENOBUFS)
		return;
	if (u->await_status && r <= 0) {
		/* The agent closed before its status byte: its acceptor is
		 * gone (agent stopped) or it reset the stream. */
		log_info("agent %s closed the stream to %s", x->route->target.agent,
			 xchg_upstream_label(x));
		xchg_fail_unreachable(x, 502);
		return;
	}
	if (r > 0 && u->await_status) {
		int st = xchg_agent_status(x, u);
		if (st < 0) {
			xchg_fail(x, 502);
			return;
		}
		if (u->in.len == 0)
			return;	/* only the status byte so far */
	}
	if (r < 0 && !x->resp_any) {
		xchg_up_error(x, (int)r);
		return;
	}
	if (r < 0) {
		u->eof = true;
		x->up_close = true;
	}
	if (r > 0)
		x->resp_any = true;
	if (r == 0 && !x->resp_any && xchg_retry(x))
		return;
	xchg_arm_wait(x);
	if (xchg_process(x))
		return;
	if (x->up)
		upstream_want(x->up, !x->up->eof && !x->resp_paused && buf_room(&x->up->in),
			    x->up->out.len > 0);
}

void xchg_up_event(struct xchg *x, uint32_t events)
{
	if (x->up->connecting) {
		if (events & (LOOP_WRITE | LOOP_ERROR))
			xchg_up_connected(x);
		return;
	}
	if ((events & LOOP_WRITE) && (x->up->out.len || x->req_blocked)) {
		xchg_up_flush(x);
		if (!x->up || x->state == XCHG_DONE)
			return;
	}
	if (events & (LOOP_READ | LOOP_ERROR))
		xchg_up_read(x);
}

void xchg_up_timeout(struct xchg *x)
{
	struct upconn *u = x->up;

	if (u->connecting) {
		if (u->err) {
			xchg_up_connected(x);
			return;
		}
		log_info("connect to %s timed out", xchg_upstream_label(x));
		metrics_count(x->w->metrics, METRICS_UP_CONNECT_FAIL);
		xchg_fail_unreachable(x, 504);
		return;
	}
	if (u->err) {
		if (!x->head_done && !x->resp_any)
			xchg_up_error(x, u->err);
		else
			xchg_fail(x, 502);
		return;
	}
	metrics_count(x->w->metrics, METRICS_UP_TIMEOUT);
	log_info("upstream %s timed out (%s)", xchg_upstream_label(x),
		 !x->head_done && !x->req_done ? "sending the request" :
		 x->head_done ? "idle" : "waiting for the response head");
	xchg_fail(x, 504);
}

/* ---- the end ---- */

static void xchg_log_line(struct xchg *x, uint64_t dur)
{
	char line[1536];
	struct alog_rec r = {
		.client = x->log.client, .host = x->log.host, .method = x->log.method,
		.path = x->log.path, .status = x->status, .bytes_in = x->bytes_in,
		.bytes_out = x->bytes_out, .dur_ns = dur,
		.route = x->route ? x->route->name : "", .upstream = xchg_upstream_label(x),
		.request_id = x->log.request_id, .error = x->error,
	};

	worker_access_log(x->w, line, alog_format(line, sizeof(line), &r));
}

void xchg_free(struct xchg *x)
{
	uint64_t dur = loop_now(x->w->loop) - x->t_start;

	xchg_drop_up(x, false);
	if (x->status == 0)
		x->status = 499;	/* the client went away first */
	metrics_observe(x->w->metrics, x->route ? x->route->stats_id : METRICS_NO_ROUTE,
			x->status, dur, x->bytes_in, x->bytes_out);
	if (xchg_set(x)->access_log && !x->log_quiet)
		xchg_log_line(x, dur);
	buf_free(&x->reqhead);
	if (x->set_cookie)
		secure_wipe(x->set_cookie, strlen(x->set_cookie));
	free(x->set_cookie);
	http_chunked_free(&x->dech);
	snap_hold_put(x->hold);
	pool_put(&x->w->xchg_pool, x);
}
