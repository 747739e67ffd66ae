/* cookie.h - mac1, mac2 and cookie replies (WireGuard paper, section 5.4.7).
 *
 * mac1 (keyed with the receiver's public key) lets a receiver drop handshake
 * messages from anyone who does not know whom they are talking to, before
 * any Curve25519. Under load the receiver also demands mac2, keyed with a
 * cookie that proves the sender can receive at its source address: a sender
 * without one gets a cookie reply (encrypted to it, bound to its mac1) and
 * retries. The checker is the receiving side (one per device); the maker is
 * the sending side (one per peer). */
#ifndef POSTERN_WG_COOKIE_H
#define POSTERN_WG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/crypto.h"
#include "wg/pkt.h"
#include "wg/wire.h"

enum wg_mac_state {
	WG_MAC_INVALID = 0,		/* drop */
	WG_MAC_VALID_NO_COOKIE,		/* mac1 ok, mac2 missing or wrong */
	WG_MAC_VALID_COOKIE,		/* both ok */
	WG_MAC_STATE_MAX
};

struct wg_cookie_checker {
	bool ready;			/* a local key is set */
	struct wg_mac mac1;		/* key HASH("mac1----" || our public) */
	uint8_t reply_key[WG_KEY_LEN];	/* HASH("cookie--" || our public) */
	bool have_secret;
	uint64_t secret_birth;
	struct wg_mac secret;		/* the rotating cookie secret */
};

struct wg_cookie_maker {
	struct wg_mac mac1;		/* key HASH("mac1----" || their public) */
	uint8_t reply_key[WG_KEY_LEN];	/* HASH("cookie--" || their public) */
	bool have_cookie;
	uint64_t cookie_birth;
	uint8_t cookie[WG_MAC_LEN];
	bool have_sent_mac1;
	uint8_t last_mac1[WG_MAC_LEN];
};

/* (Re)keys the checker for our public key. Returns 0 or -errno. */
int wg_cookie_checker_init(struct wg_cookie_checker *c,
			   const uint8_t pub[WG_KEY_LEN]);
void wg_cookie_checker_free(struct wg_cookie_checker *c);

/* Checks the MACs at the end of a handshake message (`len` bytes, the two
 * MACs last). mac2 is checked only when `check_cookie` (under load), against
 * the cookie of the source `ep`. */
enum wg_mac_state wg_cookie_validate(struct wg_cookie_checker *c,
				     const uint8_t *msg, size_t len,
				     const struct wg_endpoint *ep,
				     bool check_cookie, uint64_t now);

/* Writes the cookie reply for handshake message `msg` from `ep` (the reply
 * goes to msg's sender index). Returns 0 or -errno. */
int wg_cookie_reply_create(struct wg_cookie_checker *c,
			   struct wg_msg_cookie *out, const uint8_t *msg,
			   size_t len, const struct wg_endpoint *ep,
			   uint64_t now);

/* Keys the maker for the peer's public key. Returns 0 or -errno. */
int wg_cookie_maker_init(struct wg_cookie_maker *m,
			 const uint8_t pub[WG_KEY_LEN]);
void wg_cookie_maker_free(struct wg_cookie_maker *m);

/* Fills mac1 and mac2 of an outgoing handshake message of `len` bytes.
 * Returns 0 or -EIO. */
int wg_cookie_add_macs(struct wg_cookie_maker *m, uint8_t *msg, size_t len,
		       uint64_t now);

/* Takes a cookie reply to our last handshake message. Returns 0, or
 * -EINVAL when we sent nothing it could answer and -EBADMSG when it does
 * not decrypt (nothing changes then). */
int wg_cookie_reply_consume(struct wg_cookie_maker *m,
			    const struct wg_msg_cookie *msg, uint64_t now);

#endif
