/* ratelimit.c - per-source token buckets in a fixed open-addressed table. */
#include "wg/ratelimit.h"

#include <string.h>

#include "core/clock.h"
#include "core/secure.h"

#define RL_COST (NSEC_PER_SEC / WG_RATELIMIT_PER_SECOND)
#define RL_MAX (RL_COST * WG_RATELIMIT_BURST)

int wg_ratelimit_init(struct wg_ratelimit *rl)
{
	memset(rl, 0, sizeof(*rl));
	return secure_random(rl->secret, sizeof(rl->secret));
}

static uint64_t rl_hash(const struct wg_ratelimit *rl, const uint8_t key[8],
			uint8_t family)
{
	uint64_t h, k;

	memcpy(&k, key, 8);
	h = (k ^ rl->secret[0]) + family;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL ^ rl->secret[1];
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

/* The slot of this source: its own, else a free or idle one. NULL when the
 * probe window is full of busy sources. */
static struct wg_ratelimit_slot *rl_slot(struct wg_ratelimit *rl,
					 const uint8_t key[8], uint8_t family,
					 uint64_t now)
{
	uint64_t h = rl_hash(rl, key, family);
	struct wg_ratelimit_slot *spare = NULL;

	for (unsigned i = 0; i < WG_RATELIMIT_PROBE; i++) {
		struct wg_ratelimit_slot *s =
			&rl->slots[(h + i) & (WG_RATELIMIT_SLOTS - 1)];
		if (s->family == family && !memcmp(s->key, key, 8))
			return s;
		if (!spare && (!s->family || now - s->last > NSEC_PER_SEC))
			spare = s;
	}
	if (spare) {
		memcpy(spare->key, key, 8);
		spare->family = family;
		spare->last = now;
		spare->tokens = RL_MAX;
	}
	return spare;
}

bool wg_ratelimit_allow(struct wg_ratelimit *rl, const struct wg_endpoint *ep,
			uint64_t now)
{
	struct wg_ratelimit_slot *s;
	uint8_t key[8] = { 0 };

	if (ep->addr.sa.sa_family == AF_INET)
		memcpy(key, &ep->addr.in4.sin_addr, 4);
	else if (ep->addr.sa.sa_family == AF_INET6)
		memcpy(key, &ep->addr.in6.sin6_addr, 8);
	else
		return false;
	s = rl_slot(rl, key, (uint8_t)ep->addr.sa.sa_family, now);
	if (!s)
		return false;
	if (now > s->last)
		s->tokens = now - s->last >= RL_MAX - s->tokens
				    ? RL_MAX : s->tokens + (now - s->last);
	s->last = now;
	if (s->tokens < RL_COST)
		return false;
	s->tokens -= RL_COST;
	return true;
}
