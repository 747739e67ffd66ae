/* ratelimit.h - handshake rate limiting per source address.
 *
 * A token bucket per IPv4 address or IPv6 /64: 20 handshakes a second with
 * a burst of 5, as the kernel does. Consulted for handshake messages that
 * carry a valid cookie while the device is under load (a source that proved
 * it owns its address but still sends too many). The table is a fixed array
 * (no allocation under attack); entries idle for a second are reused, and
 * when no slot is free the packet is refused (fail closed). The bucket
 * position is keyed with a random secret so sources cannot aim at slots. */
#ifndef POSTERN_WG_RATELIMIT_H
#define POSTERN_WG_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "wg/pkt.h"

#define WG_RATELIMIT_SLOTS 4096		/* power of two */
#define WG_RATELIMIT_PROBE 8
#define WG_RATELIMIT_PER_SECOND 20
#define WG_RATELIMIT_BURST 5

struct wg_ratelimit_slot {
	uint8_t key[8];		/* IPv4 address, or IPv6 /64; 0 = free */
	uint8_t family;
	uint64_t last;		/* ns of the last refill */
	uint64_t tokens;	/* in ns of "allowance" */
};

struct wg_ratelimit {
	uint64_t secret[2];
	struct wg_ratelimit_slot slots[WG_RATELIMIT_SLOTS];
};

/* Returns 0 or -errno (no randomness). */
int wg_ratelimit_init(struct wg_ratelimit *rl);
/* True when one more handshake from `ep`'s address is allowed at `now`. */
bool wg_ratelimit_allow(struct wg_ratelimit *rl, const struct wg_endpoint *ep,
			uint64_t now);

#endif
