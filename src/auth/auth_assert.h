/* auth_assert.h - the signed identity assertion a login route hands its
 * upstream, and the public keys that verify it.
 *
 * The assertion is a JWT (RFC 7519) signed with Ed25519 (JWS "EdDSA",
 * RFC 8037):
 *
 *   header  {"alg":"EdDSA","typ":"JWT","kid":KID}
 *   claims  {"iss":HUB URL,"sub":user name,"aud":the request's host,
 *            "email":..., "groups":[...],"iat":T,"exp":T+lifetime,
 *            "jti":random}
 *
 * KID is the key's RFC 7638 thumbprint. The control thread makes the key
 * (sealed in the store), builds a struct auth_assert and publishes it in
 * the snapshot with the users table; workers sign with it, never touching
 * the store. Signing costs more than the rest of a request, so each
 * worker keeps a small cache per (user, epoch, audience) and reuses a
 * token for AUTH_ASSERT_REUSE seconds of its lifetime. The JWKS lists the
 * current key and the one before it, so an upstream that cached the keys
 * keeps verifying across a rotation. */
#ifndef POSTERN_AUTH_AUTH_ASSERT_H
#define POSTERN_AUTH_AUTH_ASSERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define AUTH_ASSERT_SEED_LEN 32		/* an Ed25519 private key */
#define AUTH_ASSERT_PUB_LEN 32
#define AUTH_ASSERT_KID_LEN 43		/* base64url of a SHA-256 */
#define AUTH_ASSERT_ISS_MAX 300
#define AUTH_ASSERT_LIFETIME 300	/* seconds: exp = iat + this */
#define AUTH_ASSERT_REUSE 30		/* seconds a cached token is handed out */
/* The largest token: every claim at its bound, base64url. */
#define AUTH_ASSERT_TOKEN_MAX 3072
#define AUTH_ASSERT_CACHE_SLOTS 32

struct auth_user;

struct auth_assert_pub {
	uint8_t pub[AUTH_ASSERT_PUB_LEN];
	char kid[AUTH_ASSERT_KID_LEN + 1];
};

/* Immutable once published. */
struct auth_assert {
	uint64_t serial;		/* unique per build: caches key on it */
	char iss[AUTH_ASSERT_ISS_MAX + 1];
	void *pkey;			/* EVP_PKEY of the current key */
	struct auth_assert_pub cur;
	bool has_prev;
	struct auth_assert_pub prev;	/* published, no longer signing */
};

/* A worker's cache of tokens (worker-local, no locks). */
struct auth_assert_cache;

/* The thumbprint of an Ed25519 public key (RFC 7638 over
 * {"crv":"Ed25519","kty":"OKP","x":...}) into kid. */
void auth_assert_kid(const uint8_t pub[AUTH_ASSERT_PUB_LEN], char kid[AUTH_ASSERT_KID_LEN + 1]);

/* The public key of seed `seed` into pub. Returns 0 or -1. */
int auth_assert_pub_of(const uint8_t seed[AUTH_ASSERT_SEED_LEN], uint8_t pub[AUTH_ASSERT_PUB_LEN]);

/* Signs with `seed` as issuer `iss` (no CR, LF, '"' or '\\'), and
 * publishes `prev` (NULL: none) beside it. NULL when out of memory or
 * on a bad argument. The seed is not kept (OpenSSL holds the key). */
struct auth_assert *auth_assert_new(const uint8_t seed[AUTH_ASSERT_SEED_LEN],
				    const uint8_t *prev_pub, const char *iss);
void auth_assert_free(struct auth_assert *a);

/* Appends {"keys":[...]} (the current key, then the previous one) to b.
 * Returns 0 or -1. */
int auth_assert_jwks(const struct auth_assert *a, struct buf *b);

/* A new token for `u` on audience `aud` (a normalised host) issued at
 * `now` into out (AUTH_ASSERT_TOKEN_MAX). Returns its length or -1. */
int auth_assert_sign(const struct auth_assert *a, const struct auth_user *u, const char *aud,
		     int64_t now, char *out);

struct auth_assert_cache *auth_assert_cache_new(void);
void auth_assert_cache_free(struct auth_assert_cache *c);

/* The token for (u, aud): a cached one issued less than AUTH_ASSERT_REUSE
 * seconds ago with the same key set, else a new one (cached). The string
 * belongs to the cache and stays valid until the next call. NULL when
 * there is no key or signing failed. */
const char *auth_assert_get(struct auth_assert_cache *c, const struct auth_assert *a,
			    const struct auth_user *u, const char *aud, int64_t now);

#endif
