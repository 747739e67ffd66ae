/* replay.c - sliding-window replay protection (RFC 6479). */
#include "wg/replay.h"

#include "wg/proto.h"

#define WG_REPLAY_MASK (WG_REPLAY_BLOCKS - 1)

bool wg_replay_check(const struct wg_replay *r, uint64_t ctr)
{
	if (ctr >= WG_REJECT_AFTER_MESSAGES)
		return false;
	if (ctr >= r->next)
		return true;
	/* Older than the window: its bit has been recycled. */
	if (ctr + WG_REPLAY_WINDOW < r->next - 1)
		return false;
	return !(r->bits[(ctr >> 6) & WG_REPLAY_MASK] & (1ULL << (ctr & 63)));
}

bool wg_replay_update(struct wg_replay *r, uint64_t ctr)
{
	if (!wg_replay_check(r, ctr))
		return false;
	if (ctr >= r->next) {
		/* Clear the blocks the window slides onto (every block, at
		 * most, on a big jump). A fresh window is all zero already. */
		if (r->next) {
			uint64_t top = (r->next - 1) >> 6;
			uint64_t n = (ctr >> 6) - top;

			if (n > WG_REPLAY_BLOCKS)
				n = WG_REPLAY_BLOCKS;
			for (uint64_t i = 1; i <= n; i++)
				r->bits[(top + i) & WG_REPLAY_MASK] = 0;
		}
		r->next = ctr + 1;
	}
	r->bits[(ctr >> 6) & WG_REPLAY_MASK] |= 1ULL << (ctr & 63);
	return true;
}
