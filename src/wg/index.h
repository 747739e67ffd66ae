/* index.h - the table from 32-bit receiver indices to sessions.
 *
 * Every handshake in flight and every keypair has a random local index the
 * peer puts in its messages to us; this table finds the object again. The
 * entries are embedded in their owners (no allocation here); the table only
 * links them. Indices are random so that they reveal nothing and cannot be
 * guessed by an off-path attacker. */
#ifndef POSTERN_WG_INDEX_H
#define POSTERN_WG_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#define WG_INDEX_BUCKETS 4096	/* power of two */

enum wg_index_kind {
	WG_INDEX_ANY = 0,	/* lookups only */
	WG_INDEX_HANDSHAKE,
	WG_INDEX_KEYPAIR,
	WG_INDEX_KIND_MAX
};

struct wg_index_entry {
	struct wg_index_entry *next;
	uint32_t index;
	uint8_t kind;		/* enum wg_index_kind; 0 = not in a table */
	void *obj;		/* the peer (handshake) or the keypair */
};

struct wg_index {
	struct wg_index_entry *buckets[WG_INDEX_BUCKETS];
	uint32_t key;		/* random bucket scrambler */
	unsigned count;
};

/* Prepares an empty table. Returns 0 or -errno (no randomness). */
int wg_index_init(struct wg_index *t);
/* Links `e` under a fresh random index (stored in e->index). Returns 0 or
 * -errno. An entry already linked is first unlinked. */
int wg_index_insert(struct wg_index *t, struct wg_index_entry *e,
		    enum wg_index_kind kind, void *obj);
/* Links `e` under `index`, which `old` currently holds: `old` is unlinked
 * (a handshake's index passing to the keypair it produced). */
void wg_index_replace(struct wg_index *t, struct wg_index_entry *old,
		      struct wg_index_entry *e, enum wg_index_kind kind,
		      void *obj);
/* Unlinks `e`; safe when it is not linked. */
void wg_index_remove(struct wg_index *t, struct wg_index_entry *e);
/* The entry of that index and kind (or any kind), or NULL. */
struct wg_index_entry *wg_index_lookup(const struct wg_index *t,
				       uint32_t index, enum wg_index_kind kind);

#endif
