/* index.c - receiver index hash table with intrusive chaining. */
#include "wg/index.h"

#include <string.h>

#include "core/secure.h"

static inline unsigned wg_index_bucket(const struct wg_index *t, uint32_t i)
{
	uint32_t h = (i ^ t->key) * 0x9e3779b1u;
	return (h >> 16 ^ h) & (WG_INDEX_BUCKETS - 1);
}

int wg_index_init(struct wg_index *t)
{
	memset(t, 0, sizeof(*t));
	return secure_random(&t->key, sizeof(t->key));
}

static struct wg_index_entry *wg_index_find(const struct wg_index *t,
					    uint32_t index)
{
	struct wg_index_entry *e = t->buckets[wg_index_bucket(t, index)];

	while (e && e->index != index)
		e = e->next;
	return e;
}

static void wg_index_link(struct wg_index *t, struct wg_index_entry *e,
			  uint32_t index, enum wg_index_kind kind, void *obj)
{
	unsigned b = wg_index_bucket(t, index);

	e->index = index;
	e->kind = (uint8_t)kind;
	e->obj = obj;
	e->next = t->buckets[b];
	t->buckets[b] = e;
	t->count++;
}

int wg_index_insert(struct wg_index *t, struct wg_index_entry *e,
		    enum wg_index_kind kind, void *obj)
{
	uint32_t index;
	int r;

	wg_index_remove(t, e);
	do {
		if ((r = secure_random(&index, sizeof(index))) < 0)
			return r;
	} while (wg_index_find(t, index));
	wg_index_link(t, e, index, kind, obj);
	return 0;
}

void wg_index_replace(struct wg_index *t, struct wg_index_entry *old,
		      struct wg_index_entry *e, enum wg_index_kind kind,
		      void *obj)
{
	uint32_t index = old->index;

	wg_index_remove(t, old);
	wg_index_remove(t, e);
	wg_index_link(t, e, index, kind, obj);
}

void wg_index_remove(struct wg_index *t, struct wg_index_entry *e)
{
	struct wg_index_entry **pp;

	if (!e->kind)
		return;
	pp = &t->buckets[wg_index_bucket(t, e->index)];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = e->next;
		t->count--;
	}
	e->kind = 0;
	e->next = NULL;
}

struct wg_index_entry *wg_index_lookup(const struct wg_index *t,
				       uint32_t index, enum wg_index_kind kind)
{
	struct wg_index_entry *e = wg_index_find(t, index);

	return e && (kind == WG_INDEX_ANY || e->kind == kind) ? e : NULL;
}
