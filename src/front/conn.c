/* conn.c - downstream HTTP/1.1 connections: accept, I/O, timeouts, the
 * request state machine. Request dispatch is in front.c, the response
 * side in conn_resp.c. */
#define LOG_SUBSYS "front"
#include "front/conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/dlist.h"
#include "core/log.h"
#include "http/parse.h"
#include "front/admin.h"
#include "front/front.h"
#include "front/front_ctx.h"
#include "front/metrics.h"
#include "front/snap.h"
#include "front/xchg.h"

#define CONN_LINGER_NS (2 * NSEC_PER_SEC)

static const struct front_settings *conn_set(const struct conn *c)
{
	return &c->w->hold->snap->set;
}

void conn_enter(struct conn *c)
{
	c->busy++;
}

static void conn_free(struct conn *c)
{
	struct worker *w = c->w;

	http_chunked_free(&c->dech);
	worker_buf_give(w, &c->in);
	worker_buf_give(w, &c->out);
	worker_conn_gone(w, c);
	pool_put(&w->conn_pool, c);
}

void conn_leave(struct conn *c)
{
	if (--c->busy == 0 && c->dead)
		conn_free(c);
}

void conn_close(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	if (c->x) {
		struct xchg *x = c->x;
		c->x = NULL;
		xchg_free(x);
	}
	if (c->admin) {
		admin_call_detach(c->admin);
		c->admin = NULL;
	}
	if (c->proto->closing)
		c->proto->closing(c);
	if (c->xport->closing)
		c->xport->closing(c);
	loop_io_del(c->w->loop, &c->io);
	loop_timer_disarm(c->w->loop, &c->timer);
	close(c->fd);
}

/* ---- I/O ---- */

long conn_recv(struct conn *c, void *p, size_t n)
{
	return c->xport->recv(c, p, n);
}

long conn_send(struct conn *c, const void *p, size_t n)
{
	return c->xport->send(c, p, n);
}

static long conn_tcp_recv(struct conn *c, void *p, size_t n)
{
	ssize_t r = read(c->fd, p, n);

	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	return r;
}

static long conn_tcp_send(struct conn *c, const void *p, size_t n)
{
	ssize_t r = send(c->fd, p, n, MSG_NOSIGNAL);

	if (r < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	return r;
}

const struct conn_xport conn_tcp_xport = {
	.recv = conn_tcp_recv,
	.send = conn_tcp_send,
};

static bool conn_want_read(const struct conn *c)
{
	if (c->rd_eof || c->dead || c->broken)
		return false;
	if (c->st == CONN_CLOSING)
		return true;
	return buf_room(&c->in) > 0 && !c->body_blocked;
}

void conn_update_io(struct conn *c)
{
	uint32_t ev = 0;

	if (c->dead)
		return;
	if (conn_want_read(c)) {
		ev |= LOOP_READ;
		if (c->xport->read_pending)
			c->xport->read_pending(c);
	}
	/* A blocked exchange is resumed from a write event, which must come
	 * even if the buffer drained in the meantime. */
	if (c->out.len || c->resp_blocked ||
	    (c->xport->wants_write && c->xport->wants_write(c)))
		ev |= LOOP_WRITE;
	loop_io_mod(c->w->loop, &c->io, ev);
}

static void conn_arm(struct conn *c, uint64_t ns)
{
	loop_timer_arm(c->w->loop, &c->timer, ns);
}

/* Output drained in CLOSING: half-close and wait for the client's FIN so
 * the response is not destroyed by a reset. */
static void conn_closing_drained(struct conn *c)
{
	if (c->st != CONN_CLOSING) {
		c->st = CONN_CLOSING;
		if (c->xport->shutdown)
			c->xport->shutdown(c);
		shutdown(c->fd, SHUT_WR);
		conn_arm(c, CONN_LINGER_NS);
	}
	buf_reset(&c->in);
}

bool conn_write_out(struct conn *c)
{
	size_t before = c->out.len;

	while (c->out.len && !c->broken) {
		long n = conn_send(c, buf_head(&c->out), c->out.len);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			c->broken = true;
			conn_arm(c, 0);
			break;
		}
		buf_consume(&c->out, (size_t)n);
	}
	if (c->out.len < before)
		c->progress_at = loop_now(c->w->loop);
	return c->out.len < before;
}

void conn_flush(struct conn *c)
{
	conn_write_out(c);
	if (c->broken)
		return;
	if (c->out.len == 0 && c->close_after) {
		conn_closing_drained(c);
	} else if (c->st == CONN_RESP && c->out.len) {
		if (!loop_timer_armed(&c->timer))
			conn_arm(c, conn_set(c)->send_timeout);
	} else if (c->st == CONN_RESP) {
		loop_timer_disarm(c->w->loop, &c->timer);
	}
	if (c->resp_blocked && c->out.len < CONN_BUF / 2 && c->x) {
		c->resp_blocked = false;
		xchg_resp_resume(c->x);
	}
	conn_update_io(c);
}

/* Reads what the socket has. Returns true when bytes arrived. */
static bool conn_read(struct conn *c)
{
	size_t want = buf_room(&c->in);
	long n;

	if (c->st == CONN_CLOSING) {
		char sink[4096];
		n = conn_recv(c, sink, sizeof(sink));
		if (n == 0 || (n < 0 && n != -EAGAIN))
			conn_close(c);
		return false;
	}
	if (want == 0)
		return false;
	if (want > 65536)
		want = 65536;
	worker_buf_take(c->w, &c->in);
	if (buf_reserve(&c->in, want) < 0) {
		conn_close(c);
		return false;
	}
	n = conn_recv(c, buf_tail(&c->in), want);
	if (n == -EAGAIN) {
		/* Nothing yet (a TLS connection right after its handshake,
		 * or a spurious wakeup): an idle connection keeps no buffer. */
		if (!c->in.len)
			worker_buf_give(c->w, &c->in);
		return false;
	}
	if (n <= 0) {
		c->rd_eof = true;
		/* Some framings end with the client's FIN (HTTP/2: streams
		 * waiting for a window would hang, with no timer, as they are
		 * not idle), so the connection ends with its streams. */
		if (n < 0 || c->proto->eof_closes || c->st == CONN_IDLE || c->st == CONN_HEAD ||
		    c->st == CONN_BODY || c->st == CONN_TUNNEL || c->st == CONN_ADMIN) {
			/* Gone mid-request (or idle): nothing more to say. */
			conn_close(c);
		}
		/* In RESP: a half-close after the request; answer, then close. */
		c->close_after = true;
		return false;
	}
	buf_commit(&c->in, (size_t)n);
	return true;
}

static void conn_io(struct loop_io *io, uint32_t events)
{
	struct conn *c = io->data;

	conn_enter(c);
	if (c->xport->ready && !c->xport->ready(c, &events))
		goto out;
	if ((events & LOOP_WRITE) || (events & LOOP_ERROR))
		conn_flush(c);
	if (!c->dead && !c->broken && (events & (LOOP_READ | LOOP_ERROR)) && conn_read(c))
		conn_process(c);
	if (!c->dead && c->proto->pump)
		c->proto->pump(c);
	if (!c->dead)
		conn_update_io(c);
out:
	conn_leave(c);
}

void conn_arm_idle(struct conn *c)
{
	conn_arm(c, conn_set(c)->keepalive_timeout);
}

static void conn_timeout(struct loop_timer *t)
{
	struct conn *c = t->data;

	conn_enter(c);
	if (c->broken || c->st == CONN_IDLE || c->st == CONN_CLOSING)
		conn_close(c);
	else
		c->proto->timeout(c);
	conn_leave(c);
}

/* HTTP/1.1: the timer fired during a request. */
static void conn_h1_timeout(struct conn *c)
{
	if (c->st == CONN_HEAD ||
	    (c->st == CONN_BODY && (!c->x || !c->x->head_done))) {
		/* A body that stalls before the upstream answered (after a
		 * "100 Continue" too) gets the documented 408. */
		metrics_count(c->w->metrics, METRICS_REQ_TIMEOUT);
		conn_error(c, 408);
	} else if (c->st == CONN_RESP && c->out.len &&
		   loop_now(c->w->loop) - c->progress_at < conn_set(c)->send_timeout) {
		/* Output moved since the timer was armed: not stalled. */
		conn_arm(c, conn_set(c)->send_timeout -
			    (loop_now(c->w->loop) - c->progress_at));
	} else if (c->st == CONN_RESP && !c->out.len) {
		/* Waiting for the upstream: its own timers govern. */
	} else {
		/* Body stalled mid-exchange, or a client not reading. */
		metrics_count(c->w->metrics, METRICS_REQ_TIMEOUT);
		conn_close(c);
	}
}

/* ---- states ---- */

void conn_error(struct conn *c, int status)
{
	conn_error_agent(c, status, NULL);
}

void conn_error_agent(struct conn *c, int status, const char *agent)
{
	c->keepalive = false;
	c->close_after = true;
	if (c->x) {
		struct xchg *x = c->x;
		c->x = NULL;
		xchg_free(x);
	}
	buf_reset(&c->out);
	errpage_make_agent(&c->out, status, false, agent);
	c->st = CONN_RESP;
	conn_flush(c);
}

void conn_request_done(struct conn *c)
{
	if (c->x) {
		struct xchg *x = c->x;
		c->x = NULL;
		xchg_free(x);
	}
	if (!c->keepalive || c->st == CONN_BODY || c->w->draining || c->rd_eof) {
		c->close_after = true;
		c->st = CONN_RESP;
		conn_flush(c);
		return;
	}
	c->st = CONN_IDLE;
	c->scan = 0;
	c->body_blocked = false;
	conn_arm(c, conn_set(c)->keepalive_timeout);
	conn_flush(c);
	/* Idle connections keep no empty buffers. */
	if (!c->in.len)
		worker_buf_give(c->w, &c->in);
	if (!c->out.len)
		worker_buf_give(c->w, &c->out);
	conn_process(c);
}

/* Feeds Content-Length body bytes. Returns true when progress was made. */
static bool conn_body_length(struct conn *c)
{
	size_t n = c->in.len < c->left ? c->in.len : (size_t)c->left;
	size_t t;

	if (!n)
		return false;
	t = front_body(c, (const char *)buf_head(&c->in), n);
	buf_consume(&c->in, t);
	c->left -= t;
	if (t < n)
		c->body_blocked = true;
	if (c->left == 0)
		front_body_end(c, NULL);
	return t > 0;
}

static bool conn_body_chunked(struct conn *c)
{
	bool progress = false;

	while (c->in.len && !http_chunked_done(&c->dech) && !c->body_blocked) {
		struct str d;
		ssize_t r = http_chunked_feed(&c->dech, (const char *)buf_head(&c->in),
					      c->in.len, &d);
		if (r < 0) {
			metrics_count(c->w->metrics, METRICS_REQ_MALFORMED);
			conn_error(c, 400);
			return false;
		}
		c->body_total += d.len;
		if (conn_set(c)->limits.max_body && c->body_total > conn_set(c)->limits.max_body) {
			conn_error(c, 413);
			return false;
		}
		size_t t = d.len ? front_body(c, d.p, d.len) : 0;
		if (t < d.len) {
			http_chunked_unread(&c->dech, d.len - t);
			c->body_total -= d.len - t;
			buf_consume(&c->in, (size_t)r - (d.len - t));
			c->body_blocked = true;
			return true;
		}
		buf_consume(&c->in, (size_t)r);
		progress = true;
	}
	if (http_chunked_done(&c->dech))
		front_body_end(c, &c->dech.trailers);
	return progress;
}

static void conn_body(struct conn *c)
{
	bool progress;

	if (c->body_blocked)
		return;
	progress = c->body == HTTP_BODY_CHUNKED ? conn_body_chunked(c) : conn_body_length(c);
	if (progress && c->st == CONN_BODY && !c->dead)
		conn_arm(c, conn_set(c)->body_timeout);
}

static void conn_tunnel(struct conn *c)
{
	size_t t;

	if (!c->in.len || !c->x)
		return;
	t = xchg_req_body(c->x, (const char *)buf_head(&c->in), c->in.len);
	buf_consume(&c->in, t);
	c->body_blocked = c->in.len > 0;
}

void conn_process(struct conn *c)
{
	c->proto->input(c);
}

/* HTTP/1.1: runs the state machine over buffered input. */
static void conn_h1_input(struct conn *c)
{
	enum conn_state prev;

	do {
		prev = c->st;
		if (c->dead || c->broken)
			return;
		switch (c->st) {
		case CONN_IDLE:
			if (!c->in.len)
				return;
			c->st = CONN_HEAD;
			conn_arm(c, conn_set(c)->header_timeout);
			/* fall through */
		case CONN_HEAD:
			front_head(c);
			break;
		case CONN_BODY:
			conn_body(c);
			break;
		case CONN_TUNNEL:
			conn_tunnel(c);
			break;
		case CONN_CLOSING:
			buf_reset(&c->in);
			return;
		default:
			return;
		}
	} while (c->st != prev && !c->dead);
}

/* ---- accept and shutdown ---- */

int conn_accept(struct worker *w, int fd, const struct addr *peer,
		enum listener_kind kind, const struct conn_xport *xp)
{
	struct conn *c = pool_get(&w->conn_pool);
	int one = 1, r;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->w = w;
	c->kind = kind;
	c->proto = &conn_h1_proto;
	c->xport = xp;
	c->peer = *peer;
	addr_ip_str(peer, c->ip, sizeof(c->ip));
	c->ip_hash = addr_ip_hash(peer);
	buf_init(&c->in, CONN_BUF);
	buf_init(&c->out, CONN_BUF + conn_set(c)->limits.max_head + 32768);
	http_chunked_init(&c->dech, true);
	loop_timer_init(&c->timer, conn_timeout, c);
	if (kind != LISTEN_CONTROL)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	r = loop_io_add(w->loop, &c->io, fd, LOOP_READ, conn_io, c);
	if (r < 0) {
		close(fd);
		http_chunked_free(&c->dech);
		pool_put(&w->conn_pool, c);
		return r;
	}
	DLIST_PUSH(w->conns, c);
	w->nconns++;
	worker_load_rise(w);
	metrics_conns(w->metrics, 1);
	metrics_count(w->metrics, METRICS_CONN_ACCEPTED);
	if (xp->start && xp->start(c) < 0) {
		conn_enter(c);
		conn_close(c);
		conn_leave(c);
		return -EPROTO;
	}
	conn_arm(c, xp->hello_first ? conn_set(c)->header_timeout
				    : conn_set(c)->keepalive_timeout);
	return 0;
}

/* HTTP/1.1 under a drain: idle connections close now, the others after
 * their current exchange. */
static void conn_h1_drain(struct conn *c)
{
	if (c->st == CONN_IDLE || c->st == CONN_CLOSING)
		conn_close(c);
	else
		c->keepalive = false;
}

const struct conn_proto conn_h1_proto = {
	.input = conn_h1_input,
	.drain = conn_h1_drain,
	.timeout = conn_h1_timeout,
};

void conn_drain_all(struct worker *w)
{
	struct conn *c = w->conns, *next;

	for (; c; c = next) {
		next = c->next;
		conn_enter(c);
		c->proto->drain(c);
		conn_leave(c);
	}
}

void conn_close_all(struct worker *w)
{
	struct conn *c = w->conns, *next;

	for (; c; c = next) {
		next = c->next;
		conn_enter(c);
		conn_close(c);
		conn_leave(c);
	}
}
