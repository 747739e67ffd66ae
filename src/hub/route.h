/* route.h - the compiled route table and its lookup.
 *
 * route_table_build() compiles an array of route_spec (from the routes
 * file today, from the store later) into an immutable table: exact hosts
 * and wildcard suffixes in sorted arrays, each with its routes ordered by
 * path prefix length, so a lookup is two binary searches and a short scan.
 * Target host names are resolved while building (blocking: control
 * thread only). A built table is never modified; it is published inside a
 * hub snapshot (front/snap.h) and freed when the last request using it ends. */
#ifndef POSTERN_HUB_ROUTE_H
#define POSTERN_HUB_ROUTE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/str.h"
#include "access/policy.h"
#include "core/addr.h"
#include "proto/stream_hdr.h"
#include "front/target.h"
#include "store/route_spec.h"

struct route_table;
struct route_pool_key;
struct metrics;
struct hub_tunnel_online;

/* The upstream pool-id registry: one id per distinct upstream address
 * (and agent stream target), the index of a worker's pool for it. Ids
 * stay stable for the process's life, so a reload keeps the idle
 * connections. A field of struct hub (hub->pools); written under `lock`
 * by the control thread (route compilation), never read by workers (they
 * only see the ids the routes carry). */
struct route_pools {
	pthread_mutex_t lock;
	struct route_pool_key *addrs;	/* ROUTE_POOL_MAX, allocated on first use */
	_Atomic uint32_t n;
};

void route_pools_init(struct route_pools *p);
void route_pools_fini(struct route_pools *p);

/* The registries a table draws its ids from, all owned by the hub and
 * kept across builds: pool ids, the front's per-route metrics ids
 * (front_ctx's metrics; NULL: every route counts as METRICS_NO_ROUTE)
 * and the agents' online slots (NULL: agents are never known offline). */
struct route_env {
	struct route_pools *pools;
	struct metrics *metrics;
	struct hub_tunnel_online *online;
};

/* Builds a table from `n` specs, with ids from `env`. Returns it, or NULL
 * with a message naming the bad route in err. The specs' strings are not
 * kept. Control thread. */
struct route_table *route_table_build(const struct route_env *env,
				      const struct route_spec *specs, size_t n,
				      char *err, size_t errlen);
void route_table_free(struct route_table *t);
unsigned route_table_count(const struct route_table *t);
/* The i-th route (i < route_table_count), borrowed from the table. */
const struct route *route_table_at(const struct route_table *t, unsigned i);

/* Finds the route for a Host value (port and trailing dot ignored, case
 * folded) and a request path: exact host first, then the nearest
 * wildcard suffix, then "*"; within a host the longest path prefix that
 * ends on a segment boundary. Returns NULL when nothing matches. */
const struct route *route_lookup(const struct route_table *t, struct str host,
				 struct str path);

/* Whether a backend that decodes "%2F" and "%5C" in `path` into
 * separators would have a route other than `r` (route_lookup's answer,
 * NULL included) serve it: "/admin%2Fx" under an open "/" beside a
 * "/admin" that needs a login. Such a request is refused (400) rather
 * than guessed at; one whose escapes change nothing is forwarded as
 * sent (a GitLab project path "group%2Fname"). */
bool route_path_ambiguous(const struct route_table *t, struct str host, struct str path,
			  const struct route *r);

/* Fills a stream header template for target host:port (an address, or
 * a name the agent resolves). Returns 0 or -1 for a bad name. */
int route_stream_hdr_init(struct stream_hdr *h, const char *host, uint16_t port);

/* Whether the route goes through an agent that is not connected (never
 * enrolled, or no handshake recently): answered at once, no dial. */
bool route_agent_offline(const struct route *r);


/* Reads a routes file ([route.NAME] sections, see docs/configuration.md)
 * and builds a table. Returns NULL with "FILE:LINE: why" in err. */
struct route_table *route_file_load(const struct route_env *env, const char *path,
				    char *err, size_t errlen);

#endif
