/* snap.c - snapshot reference counting. */
#include "front/snap.h"

#include <stdlib.h>

#include "auth/auth_creds.h"
#include "auth/auth_users.h"

struct front_snap *snap_new(_Atomic uint64_t *version, const struct front_settings *set,
			  struct route_table *routes,
			  void (*routes_free)(struct route_table *t))
{
	struct front_snap *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	atomic_init(&s->refs, 1);
	s->version = atomic_fetch_add(version, 1) + 1;
	s->set = *set;
	s->routes = routes;
	s->routes_free = routes_free;
	return s;
}

void snap_ref(struct front_snap *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void snap_unref(struct front_snap *s)
{
	if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (s->routes && s->routes_free)
		s->routes_free(s->routes);
	auth_users_free(s->users);
	auth_creds_free(s->creds);
	if (s->tls && s->tls_free)
		s->tls_free(s->tls);
	free(s);
}

struct snap_hold *snap_hold_new(struct front_snap *s)
{
	struct snap_hold *h = malloc(sizeof(*h));

	if (!h)
		return NULL;
	h->snap = s;
	h->users = 1;
	return h;
}

void snap_hold_put(struct snap_hold *h)
{
	if (--h->users)
		return;
	snap_unref(h->snap);
	free(h);
}
