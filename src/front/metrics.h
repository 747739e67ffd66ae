/* metrics.h - per-route request counters and latency histograms.
 *
 * Each worker owns its own counter block (one writer, no atomics on the
 * request path beyond relaxed stores); the renderer sums the blocks when
 * /metrics is scraped. Route ids come from a registry keyed by route name,
 * so counters survive a reload that keeps the name. */
#ifndef POSTERN_FRONT_METRICS_H
#define POSTERN_FRONT_METRICS_H

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

/* Returns the id for a route name (registering it once; ids start at 1;
 * METRICS_NO_ROUTE when the registry is full). Thread-safe. */
uint32_t metrics_route_register(const char *name);

/* Sets up worker `w`'s block. Returns 0 or -ENOMEM. */
int metrics_worker_init(unsigned w);

/* Records one finished request on worker `w` (its own thread only). */
void metrics_observe(unsigned w, uint32_t route, int status, uint64_t dur_ns,
		     uint64_t bytes_in, uint64_t bytes_out);
void metrics_count(unsigned w, enum metrics_ctr c);
void metrics_deny(unsigned w, enum metrics_deny why);
/* Open connections: +1 / -1 on worker `w`. */
void metrics_conns(unsigned w, int delta);

/* Appends the Prometheus text exposition of all workers. Returns 0 or
 * -ENOBUFS/-ENOMEM. */
int metrics_render(struct buf *out);

#endif
