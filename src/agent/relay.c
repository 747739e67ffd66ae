/* relay.c - bounded bidirectional byte relay (see relay.h). */
#include "agent/relay.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls/tls.h"

void relay_init(struct relay *r, struct loop *loop, relay_done_cb *done,
		void *data)
{
	memset(r, 0, sizeof(*r));
	r->loop = loop;
	r->done = done;
	r->data = data;
	buf_init(&r->to[0], RELAY_BUF);
	buf_init(&r->to[1], RELAY_BUF);
	r->end[0].fd = r->end[1].fd = -1;
}

static void relay_close_end(struct relay *r, struct relay_end *e)
{
	loop_io_del(r->loop, &e->io);
	if (e->ssl) {
		tls_conn_free(e->ssl);
		e->ssl = NULL;
	}
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}

void relay_abort(struct relay *r)
{
	relay_close_end(r, &r->end[0]);
	relay_close_end(r, &r->end[1]);
	buf_free(&r->to[0]);
	buf_free(&r->to[1]);
	r->finished = true;
}

static void relay_finish(struct relay *r, int err)
{
	if (r->finished)
		return;
	relay_abort(r);
	r->done(r, err);
}

/* A tls_conn_* result for the relay: -EAGAIN remembers whether OpenSSL
 * needs the socket writable to go on (a read can need a write). */
static ssize_t relay_tls_result(struct relay_end *e, ssize_t n, int want)
{
	if (n < 0)
		e->ssl_want_write = n == -EAGAIN && want == TLS_WANT_WRITE;
	return n;
}

static ssize_t relay_read(struct relay_end *e, uint8_t *p, size_t n)
{
	int want;

	if (e->ssl)
		return relay_tls_result(e, tls_conn_read(e->ssl, p, n, &want), want);
	ssize_t got = read(e->fd, p, n);
	return got >= 0 ? got : -errno;
}

static ssize_t relay_write(struct relay_end *e, const uint8_t *p, size_t n)
{
	int want;

	if (e->ssl)
		return relay_tls_result(e, tls_conn_write(e->ssl, p, n, &want), want);
	ssize_t put = send(e->fd, p, n, MSG_NOSIGNAL);
	return put >= 0 ? put : -errno;
}

/* Moves bytes from end[src] into to[dst] until full or nothing ready.
 * Returns 0 or -errno (hard error). */
static int relay_fill(struct relay *r, int src)
{
	struct relay_end *e = &r->end[src];
	struct buf *b = &r->to[!src];

	while (!e->rd_eof && !buf_full(b)) {
		size_t room = buf_room(b);
		if (buf_reserve(b, room) < 0)
			return -ENOMEM;
		ssize_t n = relay_read(e, buf_tail(b), room);
		if (n == -EAGAIN || n == -EINTR)
			return 0;
		if (n < 0)
			return (int)n;
		if (n == 0) {
			e->rd_eof = true;
			break;
		}
		buf_commit(b, (size_t)n);
		e->bytes_in += (uint64_t)n;
	}
	return 0;
}

/* Half-closes end[dst]'s write side once its source is done and drained. */
static void relay_shut(struct relay *r, int dst)
{
	struct relay_end *e = &r->end[dst];

	if (e->wr_shut || !r->end[!dst].rd_eof || r->to[dst].len)
		return;
	if (e->ssl)
		tls_conn_shutdown(e->ssl);	/* close_notify; best effort */
	shutdown(e->fd, SHUT_WR);
	e->wr_shut = true;
}

/* Writes to[dst] into end[dst]. Returns 0 or -errno. */
static int relay_flush(struct relay *r, int dst)
{
	struct relay_end *e = &r->end[dst];
	struct buf *b = &r->to[dst];

	while (b->len) {
		ssize_t n = relay_write(e, buf_head(b), b->len);
		if (n == -EAGAIN || n == -EINTR)
			return 0;
		if (n <= 0)
			return n < 0 ? (int)n : -EIO;
		buf_consume(b, (size_t)n);
	}
	relay_shut(r, dst);
	return 0;
}

static uint32_t relay_interest(const struct relay *r, int i)
{
	const struct relay_end *e = &r->end[i];
	uint32_t ev = 0;

	if (!e->rd_eof && !buf_full(&r->to[!i]))
		ev |= LOOP_READ;
	if (r->to[i].len || e->ssl_want_write)
		ev |= LOOP_WRITE;
	return ev;
}

/* Moves what can move in both directions, then re-arms interest.
 * Returns true when the relay finished (it may be freed already). */
static bool relay_pump(struct relay *r)
{
	int rc = 0;

	for (int pass = 0; pass < 2 && rc == 0; pass++)
		for (int i = 0; i < 2 && rc == 0; i++) {
			rc = relay_fill(r, i);
			if (rc == 0)
				rc = relay_flush(r, !i);
		}
	if (rc < 0) {
		relay_finish(r, rc);
		return true;
	}
	if (r->end[0].wr_shut && r->end[1].wr_shut) {
		relay_finish(r, 0);
		return true;
	}
	for (int i = 0; i < 2; i++)
		if (r->end[i].io.active)
			loop_io_mod(r->loop, &r->end[i].io, relay_interest(r, i));
	return false;
}

static void relay_event(struct loop_io *io, uint32_t events)
{
	struct relay *r = io->data;

	if (relay_pump(r))
		return;
	/* A hung-up end we want nothing from would report EPOLLHUP on every
	 * wait (it cannot be masked): stop watching it; the other end's
	 * events still drive the pump. */
	if ((events & LOOP_ERROR) && io->active &&
	    io->events == 0)
		loop_io_del(r->loop, io);
}

int relay_start(struct relay *r, int fd0, SSL *ssl0, int fd1, SSL *ssl1)
{
	int rc;

	r->end[0].fd = fd0;
	r->end[0].ssl = ssl0;
	r->end[1].fd = fd1;
	r->end[1].ssl = ssl1;
	rc = loop_io_add(r->loop, &r->end[0].io, fd0, 0, relay_event, r);
	if (rc == 0)
		rc = loop_io_add(r->loop, &r->end[1].io, fd1, 0, relay_event, r);
	if (rc < 0) {
		loop_io_del(r->loop, &r->end[0].io);
		r->end[0].fd = r->end[1].fd = -1;
		r->end[0].ssl = r->end[1].ssl = NULL;
		return rc;
	}
	/* The loop drives everything from here, so done never runs inside
	 * relay_start. */
	for (int i = 0; i < 2; i++)
		loop_io_mod(r->loop, &r->end[i].io, relay_interest(r, i) | LOOP_WRITE);
	return 0;
}
