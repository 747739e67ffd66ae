/* auth_creds.h - machine credentials and share links, as the workers see
 * them.
 *
 * The control thread reads the route tokens and the live share links
 * from the store into this table and publishes it in the hub snapshot
 * (immutable from then on, but for the tokens' `used` clocks). A worker
 * checks a token by its SHA-256 (binary search over the hashes, no
 * store, no lock) and a share-link session by its link's id; a revoked
 * token or link is simply absent from the next snapshot, which every
 * worker installs within a second of the change.
 *
 * Last use: a worker stores the time of a token's use in the entry's
 * atomic `used` (only when the second changed); the control thread
 * collects the changed ones every tick and writes them in one
 * transaction (auth_creds_dirty), and carries the clocks over into the
 * next table it builds. The store never sees a request.
 *
 * A share-link session is a route cookie (auth_cookie.h) whose user id
 * is AUTH_SHARE_UID_BASE + the link's id and whose epoch is the link's
 * random nonce: a new link that reuses a deleted link's row id does not
 * revive its cookies. */
#ifndef POSTERN_AUTH_AUTH_CREDS_H
#define POSTERN_AUTH_AUTH_CREDS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth_cookie.h"
#include "core/str.h"

#define AUTH_SHARE_UID_BASE (INT64_C(1) << 48)
/* Where a share link is opened on its route's host (a reserved path). */
#define AUTH_SHARE_PATH "/.postern/share"

struct auth_route_token {
	uint8_t hash[32];	/* SHA-256 of the token */
	int64_t id;
	uint64_t route_id;
	atomic_llong used;	/* unix seconds of the last use a worker saw */
	long long flushed;	/* control thread: the last value stored */
};

struct auth_share {
	int64_t id;
	uint64_t route_id;
	uint32_t nonce;
	int64_t expires;	/* unix seconds */
};

struct auth_creds {
	size_t ntok, nshare, captok, capshare;
	struct auth_route_token *tok;	/* sorted by hash once finished */
	struct auth_share *share;	/* sorted by id */
};

/* An empty table, or NULL when out of memory. */
struct auth_creds *auth_creds_new(void);
/* Adds a token (its hash as stored: 64 hex digits). Returns 0 or -1. */
int auth_creds_add_token(struct auth_creds *t, int64_t id, uint64_t route_id,
			 const char *hash_hex);
/* Adds a share link (ids must come in increasing order). 0 or -1. */
int auth_creds_add_share(struct auth_creds *t, const struct auth_share *s);
/* Sorts the tokens for lookup; copies the last-use clocks of `prev` (the
 * table this one replaces, or NULL) for the tokens both hold. */
void auth_creds_finish(struct auth_creds *t, const struct auth_creds *prev);
void auth_creds_free(struct auth_creds *t);

/* The token whose value is `tok` (untrusted), or NULL. */
struct auth_route_token *auth_creds_token(const struct auth_creds *t, struct str tok);
/* Records a use at `now` (any thread). */
void auth_creds_touch(struct auth_route_token *k, int64_t now);

/* Whether route cookie `tok` on `host` is a live session of a share link
 * for route `route_id` (key: the route cookie key; cc: auth_cookie.h,
 * or NULL). */
bool auth_creds_share_ok(const struct auth_creds *t, struct auth_cookie_cache *cc,
			 const uint8_t key[AUTH_KEY_LEN], const char *host, struct str tok,
			 int64_t now, uint64_t route_id);

/* Control thread: calls fn(arg, id, used) for every token used since the
 * last call, then marks them stored. Returns how many. */
typedef void auth_creds_used_fn(void *arg, int64_t id, int64_t used);
size_t auth_creds_dirty(struct auth_creds *t, auth_creds_used_fn *fn, void *arg);

#endif
