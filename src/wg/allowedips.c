/* allowedips.c - path-compressed binary tries for cryptokey routing.
 *
 * A node holds a prefix (bits, cidr) and optionally a peer; nodes without a
 * peer exist only where two subtrees diverge, so a lookup visits at most one
 * node per distinct prefix length on the path, and a node with no peer and
 * fewer than two children is always folded away. */
#include "wg/allowedips.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct wg_aip_node {
	struct wg_aip_node *child[2];
	void *peer;		/* NULL: a branching node only */
	uint8_t cidr;
	uint8_t bits[16];	/* masked to cidr */
};

static inline unsigned aip_bit(const uint8_t *a, unsigned i)
{
	return (a[i >> 3] >> (7 - (i & 7))) & 1;
}

/* Leading bits a and b share, at most `max`. */
static unsigned aip_common(const uint8_t *a, const uint8_t *b, unsigned max)
{
	unsigned i = 0;

	while (i + 8 <= max && a[i >> 3] == b[i >> 3])
		i += 8;
	if (i >= max)
		return max;
	uint8_t x = a[i >> 3] ^ b[i >> 3];
	unsigned n = x ? (unsigned)__builtin_clz((unsigned)x) - 24 : 8;
	return i + n < max ? i + n : max;
}

static void aip_mask(uint8_t *out, const uint8_t *in, unsigned cidr,
		     unsigned bytes)
{
	memset(out, 0, 16);
	memcpy(out, in, bytes);
	if (cidr < bytes * 8) {
		out[cidr >> 3] &= (uint8_t)(0xff00u >> (cidr & 7));
		memset(out + (cidr >> 3) + 1, 0, 16 - (cidr >> 3) - 1);
	}
}

static struct wg_aip_node **aip_root(struct wg_allowedips *t, int family,
				     unsigned *bits)
{
	if (family == AF_INET) {
		*bits = 32;
		return &t->root4;
	}
	if (family == AF_INET6) {
		*bits = 128;
		return &t->root6;
	}
	return NULL;
}

static struct wg_aip_node *aip_node_new(const uint8_t *key, unsigned cidr,
					void *peer)
{
	struct wg_aip_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	aip_mask(n->bits, key, cidr, 16);
	n->cidr = (uint8_t)cidr;
	n->peer = peer;
	return n;
}

static int aip_insert(struct wg_aip_node **pp, const uint8_t *key,
		      unsigned cidr, void *peer)
{
	struct wg_aip_node *n, *leaf, *mid;
	unsigned c;

	while ((n = *pp)) {
		c = aip_common(n->bits, key, n->cidr < cidr ? n->cidr : cidr);
		if (c == n->cidr && c == cidr) {
			n->peer = peer;
			return 0;
		}
		if (c == n->cidr) {
			pp = &n->child[aip_bit(key, n->cidr)];
			continue;
		}
		if (!(leaf = aip_node_new(key, cidr, peer)))
			return -ENOMEM;
		if (c == cidr) { /* the new prefix contains n */
			leaf->child[aip_bit(n->bits, cidr)] = n;
			*pp = leaf;
			return 0;
		}
		if (!(mid = aip_node_new(key, c, NULL))) {
			free(leaf);
			return -ENOMEM;
		}
		mid->child[aip_bit(key, c)] = leaf;
		mid->child[aip_bit(n->bits, c)] = n;
		*pp = mid;
		return 0;
	}
	return (*pp = aip_node_new(key, cidr, peer)) ? 0 : -ENOMEM;
}

int wg_allowedips_insert(struct wg_allowedips *t, int family,
			 const void *addr, unsigned cidr, void *peer)
{
	unsigned maxbits;
	struct wg_aip_node **root = aip_root(t, family, &maxbits);
	uint8_t key[16];

	if (!root || cidr > maxbits || !peer)
		return -EINVAL;
	aip_mask(key, addr, cidr, maxbits / 8);
	return aip_insert(root, key, cidr, peer);
}

/* Folds away a node that no longer carries a peer or a branch. */
static struct wg_aip_node *aip_compact(struct wg_aip_node *n)
{
	struct wg_aip_node *c;

	if (n->peer || (n->child[0] && n->child[1]))
		return n;
	c = n->child[0] ? n->child[0] : n->child[1];
	free(n);
	return c;
}

static struct wg_aip_node *aip_remove(struct wg_aip_node *n,
				      const uint8_t *key, unsigned cidr,
				      void *peer, bool *found)
{
	if (!n || n->cidr > cidr || aip_common(n->bits, key, n->cidr) < n->cidr)
		return n;
	if (n->cidr == cidr) {
		if (n->peer && (!peer || n->peer == peer)) {
			n->peer = NULL;
			*found = true;
		}
	} else {
		unsigned b = aip_bit(key, n->cidr);
		n->child[b] = aip_remove(n->child[b], key, cidr, peer, found);
	}
	return aip_compact(n);
}

int wg_allowedips_remove(struct wg_allowedips *t, int family,
			 const void *addr, unsigned cidr, void *peer)
{
	unsigned maxbits;
	struct wg_aip_node **root = aip_root(t, family, &maxbits);
	uint8_t key[16];
	bool found = false;

	if (!root || cidr > maxbits)
		return -EINVAL;
	aip_mask(key, addr, cidr, maxbits / 8);
	*root = aip_remove(*root, key, cidr, peer, &found);
	return found ? 0 : -ENOENT;
}

static struct wg_aip_node *aip_remove_peer(struct wg_aip_node *n, void *peer)
{
	if (!n)
		return NULL;
	n->child[0] = aip_remove_peer(n->child[0], peer);
	n->child[1] = aip_remove_peer(n->child[1], peer);
	if (n->peer == peer)
		n->peer = NULL;
	return aip_compact(n);
}

void wg_allowedips_remove_peer(struct wg_allowedips *t, void *peer)
{
	t->root4 = aip_remove_peer(t->root4, peer);
	t->root6 = aip_remove_peer(t->root6, peer);
}

static void aip_free(struct wg_aip_node *n)
{
	if (!n)
		return;
	aip_free(n->child[0]);
	aip_free(n->child[1]);
	free(n);
}

void wg_allowedips_free(struct wg_allowedips *t)
{
	aip_free(t->root4);
	aip_free(t->root6);
	t->root4 = t->root6 = NULL;
}

void *wg_allowedips_lookup(const struct wg_allowedips *t, int family,
			   const void *addr)
{
	const struct wg_aip_node *n;
	unsigned maxbits;
	void *best = NULL;

	if (family == AF_INET) {
		n = t->root4;
		maxbits = 32;
	} else if (family == AF_INET6) {
		n = t->root6;
		maxbits = 128;
	} else {
		return NULL;
	}
	while (n && aip_common(n->bits, addr, n->cidr) == n->cidr) {
		if (n->peer)
			best = n->peer;
		if (n->cidr == maxbits)
			break;
		n = n->child[aip_bit(addr, n->cidr)];
	}
	return best;
}

static size_t aip_walk(const struct wg_aip_node *n, int family, void *peer,
		       wg_allowedips_walk_fn *fn, void *ctx)
{
	size_t count = 0;

	if (!n)
		return 0;
	if (n->peer == peer) {
		if (fn)
			fn(ctx, family, n->bits, n->cidr);
		count++;
	}
	count += aip_walk(n->child[0], family, peer, fn, ctx);
	return count + aip_walk(n->child[1], family, peer, fn, ctx);
}

size_t wg_allowedips_walk_peer(const struct wg_allowedips *t, void *peer,
			       wg_allowedips_walk_fn *fn, void *ctx)
{
	return aip_walk(t->root4, AF_INET, peer, fn, ctx) +
	       aip_walk(t->root6, AF_INET6, peer, fn, ctx);
}
