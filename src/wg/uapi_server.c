/* uapi_server.c - /var/run/wireguard/NAME.sock on the device's loop.
 *
 * A connection carries any number of requests, one after another:
 * "get=1\n\n" or "set=1\n" + lines + "\n". Each is answered before the
 * next is read, and input stops while an answer is still being written,
 * so a client that does not read cannot make us buffer without bound.
 * Requests are bounded by UAPI_REQUEST_MAX; a larger one is answered with
 * errno=EMSGSIZE and the connection closed. Nothing blocks: partial input
 * waits in the buffer, partial output waits for LOOP_WRITE. Request and
 * answer bytes (keys) are wiped as soon as they are consumed or sent.
 *
 * Failures are answered as wireguard-go does, with the negated errno
 * ("errno=-22"): the wg tool reads the number back as its return code and
 * prints strerror of its negation (a positive value shows up there as
 * "Unknown error -22"). */
#define LOG_SUBSYS "uapi"
#include "wg/uapi.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/accept.h"
#include "core/log.h"
#include "core/secure.h"

#define UAPI_DIR "/var/run/wireguard"
#define UAPI_MAX_CONNS 64
#define UAPI_READ_CHUNK 65536
#define UAPI_ANSWER_MAX (256u << 20)

struct uapi_conn {
	struct uapi_server *srv;
	struct uapi_conn *next, **pprev;
	struct loop_io io;
	struct buf in, out;
	size_t scan;		/* "\n\n" not found before in+scan */
	bool eof;		/* the client shut down its side */
	bool closing;		/* close once the answer is out */
};

struct uapi_server {
	struct loop *loop;
	struct loop_io io;
	struct accept_backoff acc;	/* io off while out of descriptors */
	const struct uapi_device_ops *ops;
	void *dev;
	struct uapi_conn *conns;
	unsigned nconns;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void uapi_conn_close(struct uapi_conn *c)
{
	loop_io_del(c->srv->loop, &c->io);
	close(c->io.fd);
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	c->srv->nconns--;
	buf_free_secure(&c->in);
	buf_free_secure(&c->out);
	free(c);
}

/* Consumes `n` request bytes, wiping them first (they may hold keys). */
static void uapi_conn_consume(struct uapi_conn *c, size_t n)
{
	secure_wipe(buf_head(&c->in), n);
	buf_consume(&c->in, n);
	c->scan = 0;
}

static void uapi_answer_errno(struct uapi_conn *c, int err)
{
	if (err)
		log_warn("request failed: %s", strerror(err));
	buf_printf(&c->out, "errno=%d\n\n", -err);
}

static void uapi_do_get(struct uapi_conn *c)
{
	struct uapi_state st;
	int r;

	memset(&st, 0, sizeof(st));
	r = c->srv->ops->get(c->srv->dev, &st);
	if (r == 0)
		r = uapi_format_get(&st, &c->out);
	uapi_state_free(&st);
	if (r < 0) {
		secure_wipe(c->out.data, c->out.cap);
		buf_reset(&c->out);
	}
	uapi_answer_errno(c, -r);
}

static void uapi_do_set(struct uapi_conn *c, const char *body, size_t len)
{
	struct uapi_set set;
	int r;

	r = uapi_parse_set(body, len, &set);
	if (r == 0) {
		r = c->srv->ops->set(c->srv->dev, &set);
		uapi_set_free(&set);
	}
	uapi_answer_errno(c, -r);
}

/* Handles the request at the head of `in`, if complete. Returns 1 when
 * one was answered, 0 when more input is needed, -1 to close. */
static int uapi_conn_request(struct uapi_conn *c)
{
	const char *p = (const char *)buf_head(&c->in);
	size_t len = c->in.len;
	const char *end;

	if (len == 0)
		return 0;
	if (len < 6)
		return memcmp(p, "get=1\n", len) && memcmp(p, "set=1\n", len) ? -1 : 0;
	if (!memcmp(p, "get=1\n", 6)) {
		if (len < 7)
			return 0;
		if (p[6] != '\n') {
			uapi_answer_errno(c, EINVAL);
			return -1;
		}
		uapi_conn_consume(c, 7);
		uapi_do_get(c);
		return 1;
	}
	if (memcmp(p, "set=1\n", 6))
		return -1;
	/* The blank line: "\n\n", the first '\n' ending "set=1" or a line. */
	if (c->scan < 5)
		c->scan = 5;
	end = memmem(p + c->scan, len - c->scan, "\n\n", 2);
	if (!end) {
		c->scan = len - 1;
		if (len >= UAPI_REQUEST_MAX) {
			uapi_answer_errno(c, EMSGSIZE);
			return -1;
		}
		return 0;
	}
	uapi_do_set(c, p + 6, (size_t)(end + 1 - (p + 6)));
	uapi_conn_consume(c, (size_t)(end + 2 - p));
	return 1;
}

/* Writes what is pending. Returns 0, or -1 when the connection broke. */
static int uapi_conn_flush(struct uapi_conn *c)
{
	while (c->out.len) {
		ssize_t n = send(c->io.fd, buf_head(&c->out), c->out.len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		secure_wipe(buf_head(&c->out), (size_t)n);
		buf_consume(&c->out, (size_t)n);
	}
	return 0;
}

/* Answers buffered requests while nothing is waiting to be written, then
 * picks the events to wait for. Returns -1 when the connection is done
 * (after its last answer has been written). */
static int uapi_conn_progress(struct uapi_conn *c)
{
	int r;

	while (!c->closing) {
		if (uapi_conn_flush(c) < 0)
			return -1;
		if (c->out.len)
			break;
		r = uapi_conn_request(c);
		if (r < 0 || (r == 0 && c->eof))
			c->closing = true;
		if (r <= 0)
			break;
	}
	if (uapi_conn_flush(c) < 0)
		return -1;
	if (c->closing && !c->out.len)
		return -1;
	loop_io_mod(c->srv->loop, &c->io, c->out.len ? LOOP_WRITE : LOOP_READ);
	return 0;
}

static int uapi_conn_read(struct uapi_conn *c)
{
	for (;;) {
		ssize_t n;
		if (buf_reserve(&c->in, UAPI_READ_CHUNK) < 0 &&
		    buf_reserve(&c->in, 1) < 0)
			return 0;	/* full: uapi_conn_request decides */
		n = recv(c->io.fd, buf_tail(&c->in), buf_tailroom(&c->in),
			 MSG_DONTWAIT);
		if (n > 0) {
			buf_commit(&c->in, (size_t)n);
			continue;
		}
		if (n == 0) {
			c->eof = true;
			return 0;
		}
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	}
}

static void uapi_conn_cb(struct loop_io *io, uint32_t events)
{
	struct uapi_conn *c = io->data;

	if ((events & LOOP_READ) && uapi_conn_read(c) < 0) {
		uapi_conn_close(c);
		return;
	}
	if ((events & LOOP_ERROR) && !(events & LOOP_READ)) {
		uapi_conn_close(c);
		return;
	}
	if (uapi_conn_progress(c) < 0)
		uapi_conn_close(c);
}

static void uapi_accept_one(struct uapi_server *s, int fd)
{
	struct uapi_conn *c;

	if (s->nconns >= UAPI_MAX_CONNS || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->srv = s;
	/* One request plus the "\n\n" search slack; answers may be larger. */
	buf_init(&c->in, UAPI_REQUEST_MAX + UAPI_READ_CHUNK);
	buf_init(&c->out, UAPI_ANSWER_MAX);
	if (loop_io_add(s->loop, &c->io, fd, LOOP_READ, uapi_conn_cb, c) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->next = s->conns;
	c->pprev = &s->conns;
	if (s->conns)
		s->conns->pprev = &c->next;
	s->conns = c;
	s->nconns++;
}

static void uapi_accept_cb(struct loop_io *io, uint32_t events)
{
	struct uapi_server *s = io->data;

	for (;;) {
		int fd = accept_backoff_next(&s->acc, io->fd, NULL, NULL);
		if (fd < 0)
			return;	/* EAGAIN, a back-off, or a transient error: retried */
		uapi_accept_one(s, fd);
	}
}

static void uapi_watch(void *ctx, bool on)
{
	struct uapi_server *s = ctx;

	accept_backoff_set(s->loop, &s->io, on);
}

/* Binds the socket 0600, replacing a stale file but not a live server. */
static int uapi_bind(int fd, const struct sockaddr_un *sa)
{
	mode_t old;
	int r;

	for (int attempt = 0; attempt < 2; attempt++) {
		old = umask(0077);
		r = bind(fd, (const struct sockaddr *)sa, sizeof(*sa));
		umask(old);
		if (r == 0)
			return chmod(sa->sun_path, 0600) < 0 ? -errno : 0;
		if (errno != EADDRINUSE || attempt)
			return -errno;
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return -errno;
		r = connect(probe, (const struct sockaddr *)sa, sizeof(*sa));
		close(probe);
		if (r == 0)
			return -EADDRINUSE;
		unlink(sa->sun_path);
	}
	return -EADDRINUSE;
}

static int uapi_socket_path(const char *ifname, struct sockaddr_un *sa)
{
	size_t n = ifname ? strlen(ifname) : 0;

	if (n == 0 || n > 15 || strchr(ifname, '/') || !strcmp(ifname, ".") ||
	    !strcmp(ifname, ".."))
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), UAPI_DIR "/%s.sock", ifname);
	if (mkdir(UAPI_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int uapi_server_start(struct loop *loop, const char *ifname,
		      const struct uapi_device_ops *ops, void *dev,
		      struct uapi_server **out)
{
	struct sockaddr_un sa;
	struct uapi_server *s;
	int fd, r;

	r = uapi_socket_path(ifname, &sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = uapi_bind(fd, &sa);
	if (r == 0 && listen(fd, 16) < 0)
		r = -errno;
	s = r == 0 ? calloc(1, sizeof(*s)) : NULL;
	if (r == 0 && !s)
		r = -ENOMEM;
	if (r == 0) {
		s->loop = loop;
		accept_backoff_init(&s->acc, loop, uapi_watch, s, "uapi socket");
		s->ops = ops;
		s->dev = dev;
		memcpy(s->path, sa.sun_path, sizeof(s->path));
		r = loop_io_add(loop, &s->io, fd, LOOP_READ, uapi_accept_cb, s);
	}
	if (r < 0) {
		if (s)
			unlink(sa.sun_path);
		free(s);
		close(fd);
		return r;
	}
	*out = s;
	return 0;
}

void uapi_server_stop(struct uapi_server *s)
{
	if (!s)
		return;
	while (s->conns)
		uapi_conn_close(s->conns);
	accept_backoff_fini(&s->acc);
	loop_io_del(s->loop, &s->io);
	close(s->io.fd);
	unlink(s->path);
	free(s);
}
