/* allowedips.h - cryptokey routing: a longest-prefix-match table from IPv4
 * and IPv6 prefixes to peers.
 *
 * One path-compressed binary trie per family. Outgoing packets look up the
 * destination (which peer to encrypt for); decrypted packets look up their
 * source (did it come from the peer allowed to use that address). Entries
 * are stored masked to their prefix length; a prefix maps to exactly one
 * peer, and inserting it again moves it. Lookups never allocate; inserts
 * allocate a node or two (configuration time only). */
#ifndef POSTERN_WG_ALLOWEDIPS_H
#define POSTERN_WG_ALLOWEDIPS_H

#include <stddef.h>
#include <stdint.h>

struct wg_aip_node;

struct wg_allowedips {
	struct wg_aip_node *root4, *root6;
};

static inline void wg_allowedips_init(struct wg_allowedips *t)
{
	t->root4 = t->root6 = NULL;
}
/* Frees every node. */
void wg_allowedips_free(struct wg_allowedips *t);

/* Maps family/addr/cidr (addr: 4 or 16 bytes, network order; host bits are
 * ignored) to `peer`, replacing any owner of exactly that prefix.
 * Returns 0, -EINVAL (family or cidr out of range) or -ENOMEM. */
int wg_allowedips_insert(struct wg_allowedips *t, int family,
			 const void *addr, unsigned cidr, void *peer);
/* Removes exactly that prefix if `peer` owns it (NULL = whoever does).
 * Returns 0, or -ENOENT when it was not there. */
int wg_allowedips_remove(struct wg_allowedips *t, int family,
			 const void *addr, unsigned cidr, void *peer);
/* Removes every prefix owned by `peer`. */
void wg_allowedips_remove_peer(struct wg_allowedips *t, void *peer);

/* The peer owning the longest prefix containing addr, or NULL. */
void *wg_allowedips_lookup(const struct wg_allowedips *t, int family,
			   const void *addr);

typedef void wg_allowedips_walk_fn(void *ctx, int family, const uint8_t *addr,
				   unsigned cidr);
/* Calls fn for every prefix owned by `peer` (v4 first, then v6). Returns
 * the number of prefixes. fn may be NULL to just count. */
size_t wg_allowedips_walk_peer(const struct wg_allowedips *t, void *peer,
			       wg_allowedips_walk_fn *fn, void *ctx);

#endif
