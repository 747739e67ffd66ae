/* metrics.h - per-route request counters and latency histograms.
 *
 * Each worker owns its own counter block (one writer, no atomics on the
 * request path beyond relaxed stores); the renderer sums the blocks when
 * /metrics is scraped. Route ids come from a registry keyed by route name,
 * so counters survive a reload that keeps the name. The blocks and the
 * registry are one `struct metrics`, a field of struct front_ctx. */
#ifndef POSTERN_FRONT_METRICS_H
#define POSTERN_FRONT_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/buf.h"

#define METRICS_ROUTES_MAX 1024
#define METRICS_WORKERS_MAX 256
/* Route id for requests that matched no route (404s, parse errors). */
#define METRICS_NO_ROUTE 0

/* Global (per worker) counters beyond the per-route ones. */
enum metrics_ctr {
	METRICS_CONN_ACCEPTED = 0,
	METRICS_CONN_REJECTED,		/* over max_connections(_per_ip) */
	METRICS_REQ_MALFORMED,		/* parse errors answered 4xx/5xx */
	METRICS_REQ_TIMEOUT,		/* header/body timeouts */
	METRICS_UP_CONNECT_FAIL,
	METRICS_UP_RETRY,
	METRICS_UP_REUSED,
	METRICS_UP_TIMEOUT,		/* response head or idle timeouts */
	METRICS_CTR_MAX
};

/* Why the pipeline refused a request (postern_access_denied_total's
 * `reason` label; a fixed set, so the series stay bounded). */
enum metrics_deny {
	METRICS_DENY_CIDR = 0,		/* the route's CIDR allow/deny rules */
	METRICS_DENY_NO_SESSION,	/* a login route, no valid session (401/302) */
	METRICS_DENY_FORBIDDEN,		/* logged in, not in the route's users/groups */
	METRICS_DENY_MAX
};

struct metrics_block;

/* The front's counters: one block per worker and the route-name
 * registry. A field of struct front_ctx (fc->metrics), shared by every
 * worker thread and the control thread:
 * - `blocks[w]`: set once by worker w's set-up (worker_init, before its
 *   thread starts), written by that worker only, read by the renderer
 *   (the metrics listener's worker) - relaxed atomics;
 * - `names`/`nroutes`: registered under `lock` by the control thread
 *   (route compilation); `nroutes` read by the renderer (atomic; a name
 *   is written before nroutes covers it). */
struct metrics {
	struct metrics_block *_Atomic blocks[METRICS_WORKERS_MAX];
	pthread_mutex_t lock;
	char names[METRICS_ROUTES_MAX][64];
	_Atomic uint32_t nroutes;
};

/* An empty registry (no routes, no workers) / frees the workers' blocks
 * (after every worker has stopped). */
void metrics_init(struct metrics *m);
void metrics_fini(struct metrics *m);

/* Returns the id for a route name (registering it once; ids start at 1;
 * METRICS_NO_ROUTE when the registry is full or m is NULL). Thread-safe. */
uint32_t metrics_route_register(struct metrics *m, const char *name);

/* Sets up worker `w`'s block and stores it in *out (it belongs to m).
 * Returns 0, -EINVAL (w too big) or -ENOMEM. */
int metrics_worker_init(struct metrics *m, unsigned w, struct metrics_block **out);

/* Records one finished request in a worker's block (its own thread only;
 * a NULL block counts nothing). */
void metrics_observe(struct metrics_block *b, uint32_t route, int status, uint64_t dur_ns,
		     uint64_t bytes_in, uint64_t bytes_out);
void metrics_count(struct metrics_block *b, enum metrics_ctr c);
void metrics_deny(struct metrics_block *b, enum metrics_deny why);
/* Open connections: +1 / -1 in a worker's block. */
void metrics_conns(struct metrics_block *b, int delta);

/* Appends the Prometheus text exposition of all of m's workers. Returns
 * 0 or -ENOBUFS/-ENOMEM. */
int metrics_render(struct metrics *m, struct buf *out);

#endif
