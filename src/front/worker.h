/* worker.h - a front worker thread: its own loop, its own SO_REUSEPORT
 * listeners, its connections, upstream pools and snapshot holder.
 *
 * Everything here is touched by the worker's thread only, except the
 * mailbox fields (pending snapshot, stop request, admin replies), which
 * other threads set before poking `async`. */
#ifndef POSTERN_FRONT_WORKER_H
#define POSTERN_FRONT_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth/auth_cookie.h"
#include "core/accept.h"
#include "core/buf.h"
#include "core/loop.h"
#include "core/pool.h"
#include "core/addr.h"

struct front_ctx;
struct front_snap;
struct snap_hold;
struct conn;
struct upconn;

enum listener_kind {
	LISTEN_HTTP = 0,
	LISTEN_HTTPS,
	LISTEN_METRICS,
	LISTEN_CONTROL,		/* unix socket: every request is an admin request */
	LISTEN_AGENT,		/* the hub's tunnel address: agents' API (heartbeat) */
	LISTEN_KIND_MAX
};

struct listener {
	struct loop_io io;
	struct worker *w;
	enum listener_kind kind;
};

#define WORKER_MAX_LISTENERS 20

/* Idle upstream connections to one address. */
struct upool {
	struct upconn *idle;	/* most recently used first */
	unsigned n;
};

struct admin_call;

/* Connection buffers are recycled through a small per-worker cache so a
 * keep-alive request does not cost a large malloc/free pair, while idle
 * connections still hold no buffer memory. */
#define WORKER_BUF_SIZE (128u << 10)
#define WORKER_BUF_CACHE 64

/* Memory goes back to the system after a burst: once the worker's
 * sockets (client and upstream connections) fall to a quarter of a peak
 * of at least WORKER_TRIM_PEAK, the buffer cache shrinks to
 * WORKER_TRIM_KEEP and malloc_trim() runs, WORKER_TRIM_DELAY later (one
 * trim for a mass close, not one per close). */
#define WORKER_TRIM_PEAK 64
#define WORKER_TRIM_KEEP 8
#define WORKER_TRIM_DELAY_MS 500

struct auth_assert_cache;
struct metrics_block;

struct worker {
	unsigned idx;
	struct front_ctx *fc;		/* shared with the other workers */
	pthread_t thread;
	struct loop *loop;
	struct listener lst[WORKER_MAX_LISTENERS];
	unsigned nlst;
	struct accept_backoff acc;	/* all listeners off while out of fds */
	/* mailbox */
	struct loop_async async;
	struct front_snap *_Atomic pending_snap;
	atomic_bool stop_req;
	pthread_mutex_t admin_lock;	/* finished admin calls, from control */
	struct admin_call *admin_done;
	/* worker-local state */
	struct snap_hold *hold;		/* the current snapshot */
	struct pool conn_pool, xchg_pool, up_pool;
	struct upool *pools;		/* indexed by route_target.pool_id */
	uint32_t npools;
	struct conn *conns;		/* all open downstream connections */
	unsigned nconns;
	unsigned nup;			/* open upstream connections */
	bool draining;
	struct loop_timer drain_timer;
	uint64_t req_seq;
	struct buf alog;		/* access log lines not yet written */
	void *bufcache[WORKER_BUF_CACHE];
	unsigned nbufcache;
	struct loop_timer alog_timer;
	unsigned load_peak;		/* nconns + nup, highest since the last trim */
	struct loop_timer trim_timer;
	/* Identity assertions recently signed (auth/auth_assert.h), made on
	 * first use. */
	struct auth_assert_cache *acache;
	/* The session cookies' MAC context and the cookies verified lately
	 * (auth/auth_cookie.h), this thread's only. */
	struct auth_cookie_cache cookies;
	/* This worker's counters, inside fc->metrics (written by this
	 * thread only; metrics.h). */
	struct metrics_block *metrics;
};

/* Sets the worker up: loop, listeners (fds duplicated from nothing: each
 * worker binds its own with SO_REUSEPORT; worker 0 takes fc's side
 * sockets), pools, and a reference on `snap` as its first snapshot.
 * Returns 0 or -errno with a message logged. */
int worker_init(struct worker *w, struct front_ctx *fc, struct front_snap *snap,
		unsigned idx);
/* Starts the thread. Returns 0 or -errno. */
int worker_start(struct worker *w);
/* From any thread: publish a snapshot to the worker (takes one reference
 * that the worker owns from then on). */
void worker_post_snap(struct worker *w, struct front_snap *s);
/* From any thread: begin graceful shutdown. */
void worker_post_stop(struct worker *w);
void worker_join(struct worker *w);
void worker_destroy(struct worker *w);

/* Worker thread only: the pool for an upstream pool id (grown on
 * demand), or NULL when out of memory. */
struct upool *worker_upool(struct worker *w, uint32_t pool_id);
/* A connection ended: update counters and the per-IP count, finish a
 * drain when the last one goes. */
void worker_conn_gone(struct worker *w, struct conn *c);
/* Gives an empty buffer without storage WORKER_BUF_SIZE bytes of it
 * (from the cache when possible). No-op when it has storage. */
void worker_buf_take(struct worker *w, struct buf *b);
/* Takes a buffer's storage back (cache or free); b is empty after. */
void worker_buf_give(struct worker *w, struct buf *b);
/* A socket was added (nconns or nup grew): note the peak. */
static inline void worker_load_rise(struct worker *w)
{
	if (w->nconns + w->nup > w->load_peak)
		w->load_peak = w->nconns + w->nup;
}
/* A socket went (nconns or nup fell): after a burst, schedule the trim. */
void worker_load_ebb(struct worker *w);
/* Appends one access log line (flushed in batches). */
void worker_access_log(struct worker *w, const char *line, size_t len);

#endif
