/* snap.h - the hub snapshot: everything a request reads that a reload may
 * change (settings, route table, TLS contexts), immutable once published.
 *
 * Publishing: the control thread builds a snapshot and hands each worker
 * a reference through the worker's mailbox (an atomic pointer plus a
 * loop_async). A worker installs it between events. Requests take a
 * reference on the worker's current holder with a plain counter (same
 * thread, no atomics on the request path); a holder releases its one
 * atomic reference on the snapshot when the worker has moved on and its
 * last request has finished. So requests in flight finish on the snapshot
 * they started with, and nothing takes a lock. */
#ifndef POSTERN_FRONT_SNAP_H
#define POSTERN_FRONT_SNAP_H

#include <stdatomic.h>
#include <stdint.h>

#include "front/settings.h"

struct route_table;
struct auth_users;
struct auth_creds;

struct front_snap {
	atomic_uint refs;
	uint64_t version;
	struct front_settings set;
	struct route_table *routes;	/* owned: freed with routes_free */
	void (*routes_free)(struct route_table *t);
	/* Who may log in to routes, and the cookie key (owned; NULL without
	 * a store: no portal, login routes answer 401). */
	struct auth_users *users;
	/* Route tokens and share links (owned; NULL: none admitted). */
	struct auth_creds *creds;
	void *tls;			/* server TLS contexts (tls module), or NULL */
	void (*tls_free)(void *tls);
};

/* A worker's handle on one snapshot. */
struct snap_hold {
	struct front_snap *snap;
	unsigned users;		/* the worker (while current) + requests */
};

/* Returns a snapshot with one reference owning `routes` (freed with
 * `routes_free` by the last reference; the route table is the hub's, the
 * snapshot only carries it) and later tls, or NULL (and frees nothing)
 * when out of memory. Its version is the next of `*version`, the
 * counter of whoever publishes snapshots (struct front_ctx's
 * snap_version for the hub). */
struct front_snap *snap_new(_Atomic uint64_t *version, const struct front_settings *set,
			  struct route_table *routes,
			  void (*routes_free)(struct route_table *t));
void snap_ref(struct front_snap *s);
/* Drops a reference; the last one frees the snapshot and what it owns. */
void snap_unref(struct front_snap *s);

/* Worker side: a new holder with users = 1, taking over one reference. */
struct snap_hold *snap_hold_new(struct front_snap *s);
static inline void snap_hold_get(struct snap_hold *h)
{
	h->users++;
}
/* Drops a user; the last one drops the snapshot reference. */
void snap_hold_put(struct snap_hold *h);

#endif
