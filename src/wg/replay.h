/* replay.h - the receive counter window (RFC 6479's sliding bitmap).
 *
 * 2048 bits of history in 64-bit blocks, one block of which is always being
 * recycled, so counters up to WG_REPLAY_WINDOW behind the highest one seen
 * are accepted once each (the kernel's "2048-bit" window). Counters at or
 * above WG_REJECT_AFTER_MESSAGES are never accepted. */
#ifndef POSTERN_WG_REPLAY_H
#define POSTERN_WG_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define WG_REPLAY_BITS 2048
#define WG_REPLAY_BLOCKS (WG_REPLAY_BITS / 64)
#define WG_REPLAY_WINDOW (WG_REPLAY_BITS - 64)

struct wg_replay {
	uint64_t next;		/* 1 + highest counter accepted; 0 = none */
	uint64_t bits[WG_REPLAY_BLOCKS];
};

static inline void wg_replay_init(struct wg_replay *r)
{
	*r = (struct wg_replay){ 0 };
}

/* True when `ctr` could be accepted (not too old, not seen, below the
 * limit). Changes nothing: called before spending time on decryption. */
bool wg_replay_check(const struct wg_replay *r, uint64_t ctr);
/* Accepts `ctr` (after the packet authenticated): returns false when it is
 * a replay or out of range, else records it, sliding the window forward. */
bool wg_replay_update(struct wg_replay *r, uint64_t ctr);

#endif
