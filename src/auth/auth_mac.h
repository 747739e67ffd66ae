/* auth_mac.h - HMAC-SHA256 under a key kept ready, for one thread.
 *
 * OpenSSL 3's one-shot HMAC() fetches the digest and sets the key on
 * every call: on a session cookie's hundred bytes that costs about five
 * times the hashing itself, and a login route checks a cookie on every
 * request (bench/proxy.sh, tls-login). A struct auth_mac keeps a keyed
 * context; a MAC under the key it holds only hashes. It is keyed anew
 * when asked for another key (a rotation), and the key is compared, not
 * trusted by address, since snapshots come and go.
 *
 * Ownership: one per thread that computes MACs often (each worker has
 * one); a caller that computes one now and then passes NULL to the
 * functions that take one and gets a context for that call only. */
#ifndef POSTERN_AUTH_AUTH_MAC_H
#define POSTERN_AUTH_AUTH_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_MAC_KEY_LEN 32
#define AUTH_MAC_SHA256_LEN 32

struct auth_mac {
	void *ctx;			/* EVP_MAC_CTX keyed with key, or NULL */
	uint8_t key[AUTH_MAC_KEY_LEN];	/* a copy (wiped by auth_mac_clear) */
};

#define AUTH_MAC_INIT { 0 }

/* HMAC-SHA256(key, msg) into out, with m's context (NULL: a context made
 * and freed for this call). Returns 0, or -1 with out zeroed (a MAC that
 * matches nothing) when OpenSSL fails. */
int auth_mac_sha256(struct auth_mac *m, const uint8_t key[AUTH_MAC_KEY_LEN], const void *msg,
		    size_t len, uint8_t out[AUTH_MAC_SHA256_LEN]);

/* Frees m's context and wipes its key; m may be used again. */
void auth_mac_clear(struct auth_mac *m);

#endif
