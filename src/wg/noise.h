/* noise.h - the Noise_IKpsk2 handshake (WireGuard paper, section 5.4).
 *
 * Pure protocol arithmetic on one handshake state per peer: no sockets, no
 * clocks, no lookups. Callers pass the time, the TAI64N timestamp and the
 * indices in, and decide what to do with the results. Consuming an
 * initiation takes two steps because the initiator's identity is inside
 * the message: wg_noise_initiation_open() decrypts it, the caller finds
 * the peer, and wg_noise_initiation_finish() checks and commits.
 *
 * Every function leaves the handshake unchanged when it fails. */
#ifndef POSTERN_WG_NOISE_H
#define POSTERN_WG_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "wg/crypto.h"
#include "wg/wire.h"

/* The device's static identity. */
struct wg_noise_local {
	bool has_key;
	uint8_t priv[WG_KEY_LEN];
	uint8_t pub[WG_KEY_LEN];
};

enum wg_hs_state {
	WG_HS_ZEROED = 0,
	WG_HS_CREATED_INITIATION,
	WG_HS_CONSUMED_INITIATION,
	WG_HS_CREATED_RESPONSE,
	WG_HS_CONSUMED_RESPONSE,
	WG_HS_STATE_MAX
};

struct wg_handshake {
	enum wg_hs_state state;
	uint8_t remote_static[WG_KEY_LEN];
	uint8_t psk[WG_KEY_LEN];		/* all zero = none */
	bool ss_valid;
	uint8_t ss[WG_KEY_LEN];			/* DH(our static, theirs) */
	uint8_t e_priv[WG_KEY_LEN];
	uint8_t remote_e[WG_KEY_LEN];
	uint8_t hash[WG_HASH_LEN];
	uint8_t ck[WG_HASH_LEN];
	uint32_t local_index, remote_index;
	uint8_t latest_timestamp[WG_TAI64N_LEN];
	bool have_consumed;
	uint64_t last_initiation_consumption;	/* monotonic ns */
};

/* What the first step of consuming an initiation learned. Wiped by
 * wg_noise_initiation_finish() (or by the caller when it gives up). */
struct wg_noise_pending {
	uint8_t remote_static[WG_KEY_LEN];
	uint8_t remote_e[WG_KEY_LEN];
	uint8_t hash[WG_HASH_LEN];
	uint8_t ck[WG_HASH_LEN];
	uint32_t sender;
};

/* The TAI64N label of a wall-clock time, rounded down to a multiple of
 * 2^24 ns (~16.8 ms, under the 20 ms flood interval) so it does not leak
 * the clock's fine resolution. */
void wg_noise_tai64n(uint8_t out[WG_TAI64N_LEN], uint64_t wall_ns);

/* Sets up the handshake with a peer's public key (state zeroed, nothing
 * precomputed). */
void wg_noise_handshake_init(struct wg_handshake *hs,
			     const uint8_t remote_static[WG_KEY_LEN]);
/* Recomputes DH(our static, theirs) after either key changed. */
void wg_noise_precompute(struct wg_handshake *hs,
			 const struct wg_noise_local *local);
/* Forgets the handshake in progress (ephemeral, chaining key, hash). */
void wg_noise_handshake_clear(struct wg_handshake *hs);
/* Wipes everything, including the peer's keys (peer removal). */
void wg_noise_handshake_wipe(struct wg_handshake *hs);

/* Writes an initiation (without its MACs) from `local_index`.
 * Returns 0, or -EINVAL without a local key or with an invalid peer key,
 * or -ENOMEM (a hash step could not allocate: nothing is committed, the
 * caller drops the message; this holds for every function below). */
int wg_noise_initiation_create(struct wg_handshake *hs,
			       const struct wg_noise_local *local,
			       struct wg_msg_initiation *msg,
			       uint32_t local_index,
			       const uint8_t tai64n[WG_TAI64N_LEN]);

/* Step 1: decrypts the initiator's static key. Returns 0 (p filled), or
 * -EINVAL / -EBADMSG. */
int wg_noise_initiation_open(const struct wg_noise_local *local,
			     const struct wg_msg_initiation *msg,
			     struct wg_noise_pending *p);
/* Step 2, on the handshake of the peer whose key p names: decrypts the
 * timestamp, rejects replays (timestamp not newer than the last one) and
 * floods (less than 1/50 s since the last accepted initiation), commits.
 * Wipes p. Returns 0, -EBADMSG, or -EALREADY (replay or flood). */
int wg_noise_initiation_finish(struct wg_handshake *hs,
			       const struct wg_msg_initiation *msg,
			       struct wg_noise_pending *p, uint64_t now);

/* Writes the response (without MACs) to a consumed initiation.
 * Returns 0 or -EINVAL (wrong state, bad key). */
int wg_noise_response_create(struct wg_handshake *hs,
			     const struct wg_noise_local *local,
			     struct wg_msg_response *msg, uint32_t local_index);
/* Takes the response to our initiation (the caller matched the receiver
 * index). Returns 0, -EINVAL (wrong state) or -EBADMSG. */
int wg_noise_response_consume(struct wg_handshake *hs,
			      const struct wg_noise_local *local,
			      const struct wg_msg_response *msg);

/* After a response was created or consumed: the transport keys for this
 * side, and whether we initiated. Clears the handshake. Returns 0 or
 * -EINVAL (wrong state). */
int wg_noise_derive(struct wg_handshake *hs, uint8_t send[WG_KEY_LEN],
		    uint8_t recv[WG_KEY_LEN], bool *initiator);

#endif
