/* upstream.c - upstream connections: connect, pool, read/write. */
#define LOG_SUBSYS "upstream"
#include "front/upstream.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/dlist.h"
#include "core/log.h"
#include "front/target.h"
#include "front/worker.h"
#include "front/xchg_up.h"

static void upconn_io(struct loop_io *io, uint32_t events)
{
	struct upconn *u = io->data;

	if (u->x) {
		xchg_up_event(u->x, events);
		return;
	}
	/* Idle: any readable event means the server closed it (or sent bytes
	 * nobody asked for). Either way the connection is done. */
	upstream_close(u);
}

static void upconn_timer(struct loop_timer *t)
{
	struct upconn *u = t->data;

	if (u->x)
		xchg_up_timeout(u->x);
	else
		upstream_close(u);
}

static void upconn_unlink(struct upconn *u)
{
	struct upool *p = &u->w->pools[u->pool_id];

	DLIST_UNLINK(p->idle, u);
	u->next = u->prev = NULL;
	u->idle = false;
	p->n--;
}

static struct upconn *upconn_pop(struct worker *w, uint32_t pool_id)
{
	struct upool *p = worker_upool(w, pool_id);
	struct upconn *u;

	if (!p || !p->idle)
		return NULL;
	u = p->idle;
	upconn_unlink(u);
	u->reused = true;
	loop_timer_disarm(w->loop, &u->timer);
	return u;
}

static int upconn_socket(const struct route_target *t)
{
	int one = 1;
	int fd = socket(t->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* An agent that vanished sends no reset: bytes the hub sent that
	 * stay unacknowledged this long end the connection (a pooled one
	 * is then replayed on a new connection, which finds the agent
	 * offline), instead of waiting for the response timeout. */
	if (t->via_agent)
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &(unsigned){ UPCONN_AGENT_USER_TIMEOUT_MS },
			   sizeof(unsigned));
	return fd;
}

static struct upconn *upconn_new(struct worker *w, const struct route_target *t,
				 int *err)
{
	struct upconn *u;
	int fd = upconn_socket(t), r;

	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	u = pool_get(&w->up_pool);
	if (!u) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	memset(u, 0, sizeof(*u));
	u->fd = fd;
	u->w = w;
	u->pool_id = t->pool_id;
	buf_init(&u->in, UPCONN_BUF);
	buf_init(&u->out, UPCONN_BUF + UPCONN_SLACK);
	loop_timer_init(&u->timer, upconn_timer, u);
	r = connect(fd, (const struct sockaddr *)&t->addr.ss, t->addr.len);
	if (r < 0 && errno != EINPROGRESS)
		u->err = -errno;
	u->connecting = true;
	r = loop_io_add(w->loop, &u->io, fd, LOOP_WRITE, upconn_io, u);
	if (r < 0) {
		close(fd);
		pool_put(&w->up_pool, u);
		*err = r;
		return NULL;
	}
	w->nup++;
	worker_load_rise(w);
	return u;
}

struct upconn *upstream_get(struct worker *w, const struct route_target *t,
			  bool fresh, int *err)
{
	struct upconn *u = fresh ? NULL : upconn_pop(w, t->pool_id);

	if (!u)
		u = upconn_new(w, t, err);
	if (u)
		worker_buf_take(w, &u->out);
	return u;
}

void upstream_close(struct upconn *u)
{
	struct worker *w = u->w;

	if (u->idle)
		upconn_unlink(u);
	loop_io_del(w->loop, &u->io);
	loop_timer_disarm(w->loop, &u->timer);
	close(u->fd);
	worker_buf_give(w, &u->in);
	worker_buf_give(w, &u->out);
	w->nup--;
	worker_load_ebb(w);
	pool_put(&w->up_pool, u);
}

void upstream_release(struct upconn *u, bool reusable, uint64_t idle_ns,
		    unsigned pool_max)
{
	struct upool *p;

	u->x = NULL;
	p = reusable && !u->eof && u->in.len == 0 && u->out.len == 0 &&
		    !u->w->draining ? worker_upool(u->w, u->pool_id) : NULL;
	if (!p || p->n >= pool_max) {
		upstream_close(u);
		return;
	}
	/* Idle connections keep no buffers. */
	worker_buf_give(u->w, &u->in);
	worker_buf_give(u->w, &u->out);
	DLIST_PUSH(p->idle, u);
	u->idle = true;
	p->n++;
	upstream_want(u, true, false);
	loop_timer_arm(u->w->loop, &u->timer, idle_ns);
}

long upstream_read(struct upconn *u, size_t max)
{
	size_t want = buf_room(&u->in);
	ssize_t n;

	if (want > max)
		want = max;
	if (want == 0)
		return -ENOBUFS;
	if (want > 65536 && u->in.len)
		want = 65536;
	worker_buf_take(u->w, &u->in);
	if (buf_reserve(&u->in, want) < 0)
		return -ENOMEM;
	n = read(u->fd, buf_tail(&u->in), buf_tailroom(&u->in) < want ? buf_tailroom(&u->in) : want);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	if (n == 0)
		u->eof = true;
	buf_commit(&u->in, (size_t)n);
	return n;
}

void upstream_shed(struct upconn *u)
{
	if (u->in.len == 0)
		worker_buf_give(u->w, &u->in);
	if (u->out.len == 0)
		worker_buf_give(u->w, &u->out);
}

long upstream_flush(struct upconn *u)
{
	long total = 0;

	while (u->out.len) {
		ssize_t n = send(u->fd, buf_head(&u->out), u->out.len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		buf_consume(&u->out, (size_t)n);
		total += n;
	}
	return total;
}

void upstream_want(struct upconn *u, bool read, bool write)
{
	uint32_t ev = (read ? LOOP_READ : 0) | (write ? LOOP_WRITE : 0);
	loop_io_mod(u->w->loop, &u->io, ev);
}

void upstream_pool_drain(struct worker *w)
{
	for (uint32_t i = 0; i < w->npools; i++) {
		struct upool *p = &w->pools[i];
		while (p->idle)
			upstream_close(p->idle);
	}
}
