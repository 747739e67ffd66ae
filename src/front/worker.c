/* worker.c - front worker threads: listeners, accept, mailbox, drain. */
#define LOG_SUBSYS "worker"
#include "front/worker.h"

#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/auth_assert.h"
#include "core/clock.h"
#include "core/dlist.h"
#include "core/log.h"
#include "front/admin.h"
#include "front/conn.h"
#include "front/front.h"
#include "front/front_ctx.h"
#include "front/metrics.h"
#include "front/snap.h"
#include "front/upstream.h"
#include "front/xchg.h"

#define ALOG_FLUSH_NS (50 * NSEC_PER_MSEC)
#define ALOG_MAX (256u << 10)

/* ---- listeners ---- */

/* Public listeners count toward the connection limits; the operator's
 * own (metrics, control socket) do not, so a flood cannot lock them out. */
static bool worker_counted(enum listener_kind k)
{
	return k == LISTEN_HTTP || k == LISTEN_HTTPS;
}

/* The accept back-off turns every listener of the worker off or on. */
static void worker_watch_listeners(void *ctx, bool on)
{
	struct worker *w = ctx;

	for (unsigned i = 0; i < w->nlst; i++)
		accept_backoff_set(w->loop, &w->lst[i].io, on);
}

/* Accepts one connection per readiness event, like nginx without
 * multi_accept. The listener is level-triggered, so the rest of the
 * backlog comes back in the next batch, after the work already queued.
 * Accepting up to 64 at once put a burst of TLS handshakes (each ~0.5 ms
 * of CPU) in front of the requests of connections already up: at one
 * worker and 64 clients opening a connection per request, p99 was
 * 35-57 ms against 21-27 ms accepting one, at the same handshake rate
 * (bench/proxy tls-new, 2026-12-06; docs/front.md). */
static void worker_accept(struct loop_io *io, uint32_t events)
{
	struct listener *l = io->data;
	struct worker *w = l->w;
	const struct front_settings *s = &w->hold->snap->set;
	struct addr peer = { .len = sizeof(peer.ss) };
	int fd;

	(void)events;
	fd = accept_backoff_next(&w->acc, io->fd, (struct sockaddr *)&peer.ss, &peer.len);
	if (fd < 0)
		return;
	if (l->kind == LISTEN_CONTROL)
		memset(&peer, 0, sizeof(peer));
	if (worker_counted(l->kind) && !front_conn_admit(w->fc, s, addr_ip_hash(&peer))) {
		metrics_count(w->metrics, METRICS_CONN_REJECTED);
		close(fd);
		return;
	}
	if (conn_accept(w, fd, &peer, l->kind,
			l->kind == LISTEN_HTTPS ? &front_tls_xport : &conn_tcp_xport) < 0 &&
	    worker_counted(l->kind))
		front_conn_release(w->fc, addr_ip_hash(&peer));
}

/* Binds a SO_REUSEPORT listener. Returns the fd or -errno.
 *
 * The first worker (`first`) binds before it turns SO_REUSEPORT on, so
 * its bind fails with EADDRINUSE when any other socket holds the address,
 * even another process's SO_REUSEPORT one: two hubs of the same user
 * would otherwise share the port and split the clients between them.
 * The option set after bind still admits this hub's other workers (the
 * kernel checks every socket's option at each bind) and forms their
 * reuseport group at listen(). */
static int worker_listen_tcp(const struct addr *a, bool first)
{
	int one = 1, fd, r;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!first)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 ||
	    (first && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
	    listen(fd, 4096) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int worker_add_listener(struct worker *w, int fd, enum listener_kind kind)
{
	struct listener *l;
	int r;

	if (w->nlst == WORKER_MAX_LISTENERS) {
		close(fd);
		return -ENOSPC;
	}
	l = &w->lst[w->nlst];
	l->w = w;
	l->kind = kind;
	r = loop_io_add(w->loop, &l->io, fd, LOOP_READ, worker_accept, l);
	if (r < 0) {
		close(fd);
		return r;
	}
	w->nlst++;
	return 0;
}

static int worker_listen_all(struct worker *w)
{
	const struct front_ctx *fc = w->fc;
	int fd;

	for (unsigned i = 0; i < fc->nlisten_http + fc->nlisten_https; i++) {
		bool tls = i >= fc->nlisten_http;
		const struct addr *a = tls ? &fc->listen_https[i - fc->nlisten_http]
					   : &fc->listen_http[i];
		char ip[64];
		fd = worker_listen_tcp(a, w->idx == 0);
		if (fd < 0) {
			addr_ip_str(a, ip, sizeof(ip));
			log_err("cannot listen on %s port %u: %s%s", ip, addr_port(a),
				strerror(-fd), fd == -EADDRINUSE && w->idx == 0
				? " (another process listens there: stop it, or choose "
				  "another address)" : "");
			return fd;
		}
		fd = worker_add_listener(w, fd, tls ? LISTEN_HTTPS : LISTEN_HTTP);
		if (fd < 0)
			return fd;
	}
	return 0;
}

/* ---- mailbox ---- */

static void worker_install_snap(struct worker *w)
{
	struct front_snap *s = atomic_exchange(&w->pending_snap, NULL);
	struct snap_hold *h, *old;

	if (!s)
		return;
	h = snap_hold_new(s);
	if (!h) {
		snap_unref(s);
		return;
	}
	old = w->hold;
	w->hold = h;
	if (old)
		snap_hold_put(old);
}

static void worker_maybe_stop(struct worker *w)
{
	if (w->draining && w->nconns == 0)
		loop_stop(w->loop);
}

static void worker_drain_timeout(struct loop_timer *t)
{
	struct worker *w = t->data;

	log_info("worker %u: shutdown timeout, closing %u connections", w->idx, w->nconns);
	conn_close_all(w);
	worker_maybe_stop(w);
}

static void worker_begin_drain(struct worker *w)
{
	if (w->draining)
		return;
	w->draining = true;
	for (unsigned i = 0; i < w->nlst; i++) {
		loop_io_del(w->loop, &w->lst[i].io);
		close(w->lst[i].io.fd);
	}
	w->nlst = 0;
	accept_backoff_fini(&w->acc);
	upstream_pool_drain(w);
	conn_drain_all(w);
	loop_timer_init(&w->drain_timer, worker_drain_timeout, w);
	loop_timer_arm(w->loop, &w->drain_timer, w->fc->shutdown_timeout);
	worker_maybe_stop(w);
}

static void worker_mail(struct loop_async *a)
{
	struct worker *w = a->data;

	worker_install_snap(w);
	admin_worker_replies(w);
	if (atomic_load(&w->stop_req))
		worker_begin_drain(w);
}

void worker_post_snap(struct worker *w, struct front_snap *s)
{
	struct front_snap *old = atomic_exchange(&w->pending_snap, s);

	if (old)
		snap_unref(old);
	loop_async_send(&w->async);
}

void worker_post_stop(struct worker *w)
{
	atomic_store(&w->stop_req, true);
	loop_async_send(&w->async);
}

/* ---- access log ---- */

static void worker_alog_flush(struct worker *w)
{
	int fd = w->fc->access_fd >= 0 ? w->fc->access_fd : 2;

	while (w->alog.len) {
		ssize_t n = write(fd, buf_head(&w->alog), w->alog.len);
		if (n <= 0)
			break;
		buf_consume(&w->alog, (size_t)n);
	}
	buf_reset(&w->alog);
}

static void worker_alog_timer(struct loop_timer *t)
{
	worker_alog_flush(t->data);
}

void worker_access_log(struct worker *w, const char *line, size_t len)
{
	if (buf_append(&w->alog, line, len) < 0) {
		worker_alog_flush(w);
		buf_append(&w->alog, line, len);
	}
	if (w->alog.len > 32768)
		worker_alog_flush(w);
	else if (!loop_timer_armed(&w->alog_timer))
		loop_timer_arm(w->loop, &w->alog_timer, ALOG_FLUSH_NS);
}

/* ---- buffer cache ---- */

void worker_buf_take(struct worker *w, struct buf *b)
{
	void *p;

	if (b->data || b->max < WORKER_BUF_SIZE)
		return;
	p = w->nbufcache ? w->bufcache[--w->nbufcache] : malloc(WORKER_BUF_SIZE);
	if (!p)
		return;		/* buf_reserve will try again on its own */
	b->data = p;
	b->cap = WORKER_BUF_SIZE;
	b->off = b->len = 0;
}

void worker_buf_give(struct worker *w, struct buf *b)
{
	if (b->data && b->cap == WORKER_BUF_SIZE && w->nbufcache < WORKER_BUF_CACHE) {
		w->bufcache[w->nbufcache++] = b->data;
		b->data = NULL;
		b->cap = b->off = b->len = 0;
		return;
	}
	buf_free(b);
}

/* ---- giving memory back ---- */

static void worker_trim_fire(struct loop_timer *t)
{
	struct worker *w = t->data;

	while (w->nbufcache > WORKER_TRIM_KEEP)
		free(w->bufcache[--w->nbufcache]);
	/* Freed buffers, streams and header blocks leave holes in the heap
	 * that free() keeps; this hands the pages back (every arena). */
	malloc_trim(0);
	w->load_peak = w->nconns + w->nup;
}

void worker_load_ebb(struct worker *w)
{
	if (w->load_peak < WORKER_TRIM_PEAK || (w->nconns + w->nup) * 4 > w->load_peak ||
	    loop_timer_armed(&w->trim_timer))
		return;
	loop_timer_arm(w->loop, &w->trim_timer, WORKER_TRIM_DELAY_MS * NSEC_PER_MSEC);
}

/* ---- connections and pools ---- */

void worker_conn_gone(struct worker *w, struct conn *c)
{
	DLIST_UNLINK(w->conns, c);
	w->nconns--;
	metrics_conns(w->metrics, -1);
	if (worker_counted(c->kind))
		front_conn_release(w->fc, c->ip_hash);
	worker_load_ebb(w);
	worker_maybe_stop(w);
}

struct upool *worker_upool(struct worker *w, uint32_t id)
{
	if (id >= w->npools) {
		uint32_t n = id + 1;

		if (n < w->npools * 2)
			n = w->npools * 2;
		struct upool *p = realloc(w->pools, n * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + w->npools, 0, (n - w->npools) * sizeof(*p));
		w->pools = p;
		w->npools = n;
	}
	return &w->pools[id];
}

/* ---- lifecycle ---- */

int worker_init(struct worker *w, struct front_ctx *fc, struct front_snap *snap,
		unsigned idx)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->idx = idx;
	w->fc = fc;
	pthread_mutex_init(&w->admin_lock, NULL);
	buf_init(&w->alog, ALOG_MAX);
	w->loop = loop_new();
	if (!w->loop)
		return -errno;
	loop_timer_init(&w->alog_timer, worker_alog_timer, w);
	loop_timer_init(&w->trim_timer, worker_trim_fire, w);
	accept_backoff_init(&w->acc, w->loop, worker_watch_listeners, w, "listeners");
	if ((r = loop_async_init(w->loop, &w->async, worker_mail, w)) < 0)
		return r;
	if ((r = metrics_worker_init(&fc->metrics, idx, &w->metrics)) < 0)
		return r;
	if (pool_init(&w->conn_pool, sizeof(struct conn), 64, 0) < 0 ||
	    pool_init(&w->xchg_pool, sizeof(struct xchg), 64, 0) < 0 ||
	    pool_init(&w->up_pool, sizeof(struct upconn), 64, 0) < 0)
		return -ENOMEM;
	snap_ref(snap);
	w->hold = snap_hold_new(snap);
	if (!w->hold)
		return -ENOMEM;
	if ((r = worker_listen_all(w)) < 0)
		return r;
	if (idx == 0 && fc->metrics_fd >= 0 &&
	    (r = worker_add_listener(w, fc->metrics_fd, LISTEN_METRICS)) < 0)
		return r;
	if (idx == 0 && fc->control_fd >= 0 &&
	    (r = worker_add_listener(w, fc->control_fd, LISTEN_CONTROL)) < 0)
		return r;
	for (int i = 0; idx == 0 && i < 2; i++) {
		int fd = fc->agent_fd[i];
		fc->agent_fd[i] = -1;	/* the worker's now */
		if (fd >= 0 && (r = worker_add_listener(w, fd, LISTEN_AGENT)) < 0)
			return r;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int r = loop_run(w->loop);

	if (r < 0)
		log_err("worker %u: loop failed: %s", w->idx, strerror(-r));
	worker_alog_flush(w);
	if (w->fc->ops && w->fc->ops->worker_exited)
		w->fc->ops->worker_exited(w->fc->owner);
	return NULL;
}

int worker_start(struct worker *w)
{
	return -pthread_create(&w->thread, NULL, worker_main, w);
}

void worker_join(struct worker *w)
{
	pthread_join(w->thread, NULL);
}

void worker_destroy(struct worker *w)
{
	struct front_snap *s;

	if (!w->loop)
		return;
	conn_close_all(w);
	upstream_pool_drain(w);
	for (unsigned i = 0; i < w->nlst; i++) {
		loop_io_del(w->loop, &w->lst[i].io);
		close(w->lst[i].io.fd);
	}
	s = atomic_exchange(&w->pending_snap, NULL);
	if (s)
		snap_unref(s);
	admin_worker_replies(w);
	if (w->hold)
		snap_hold_put(w->hold);
	loop_timer_disarm(w->loop, &w->alog_timer);
	loop_timer_disarm(w->loop, &w->trim_timer);
	loop_timer_disarm(w->loop, &w->drain_timer);
	accept_backoff_fini(&w->acc);
	loop_async_close(w->loop, &w->async);
	buf_free(&w->alog);
	while (w->nbufcache)
		free(w->bufcache[--w->nbufcache]);
	free(w->pools);
	auth_assert_cache_free(w->acache);
	auth_cookie_cache_clear(&w->cookies);
	pool_destroy(&w->conn_pool);
	pool_destroy(&w->xchg_pool);
	pool_destroy(&w->up_pool);
	loop_free(w->loop);
	pthread_mutex_destroy(&w->admin_lock);
}
