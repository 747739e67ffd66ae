/* upstream.h - connections from a worker to upstream servers, pooled.
 *
 * An upconn is attached to at most one xchg at a time; idle ones wait in
 * the worker's pool for their address (most recently used first) with a
 * read watcher that notices the server closing them, and a timer that
 * closes them after upstream_keepalive_timeout. */
#ifndef POSTERN_FRONT_UPSTREAM_H
#define POSTERN_FRONT_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/loop.h"

struct worker;
struct xchg;
struct route_target;

#define UPCONN_BUF (128u << 10)
/* Room kept in `out` beyond UPCONN_BUF for chunk framing and trailers. */
#define UPCONN_SLACK (16u << 10)
/* TCP_USER_TIMEOUT on connections through agents (see upstream.c). */
#define UPCONN_AGENT_USER_TIMEOUT_MS 15000u

struct upconn {
	int fd;
	struct loop_io io;
	struct loop_timer timer;
	struct worker *w;
	uint32_t pool_id;
	struct buf in, out;
	struct xchg *x;		/* NULL while idle */
	struct upconn *next, *prev;	/* idle list */
	bool idle;		/* in the pool's idle list */
	bool connecting;
	bool reused;		/* came from the pool */
	bool eof;		/* the server closed its side */
	bool await_status;	/* an agent stream: its status byte is next */
	int err;		/* deferred connect error (-errno) */
};

/* Takes an idle connection to `t` from the worker's pool or starts a new
 * one (non-blocking connect). Returns NULL with -errno in *err when no
 * socket could be made; a connect that fails later is reported through
 * the xchg. `fresh` forces a new connection. */
struct upconn *upstream_get(struct worker *w, const struct route_target *t,
			  bool fresh, int *err);
/* Detaches from the xchg and pools the connection when `reusable` (and
 * the pool has room), else closes it. */
void upstream_release(struct upconn *u, bool reusable, uint64_t idle_ns,
		    unsigned pool_max);
void upstream_close(struct upconn *u);

/* Reads at most `max` bytes into u->in. Returns bytes read (>0), 0 on
 * EOF, -EAGAIN, -ENOBUFS (no room, or max is 0), or -errno. */
long upstream_read(struct upconn *u, size_t max);
/* Gives the storage of u's empty buffers back to the worker: a
 * connection parked behind a client that does not read holds no buffer
 * memory it does not use (they are taken again on the next read/write). */
void upstream_shed(struct upconn *u);
/* Writes from u->out. Returns bytes written (>= 0) or -errno. */
long upstream_flush(struct upconn *u);
/* Sets watcher interest from the buffers' state. */
void upstream_want(struct upconn *u, bool read, bool write);

/* Closes every idle connection of the worker (shutdown). */
void upstream_pool_drain(struct worker *w);

#endif
