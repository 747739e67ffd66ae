/* auth_cookie.h - the signed session cookies of the login portal.
 *
 * A route's domain and the portal (the hub's own host) each get a
 * host-only cookie whose value is a token the workers check without the
 * store:
 *
 *   V.<user id>.<epoch>.<expiry, unix seconds>.<seen, unix seconds>.<sid>.<mac>
 *
 * sid names the login session (a random 63-bit number drawn at login,
 * in decimal; 0 for a token that is no user's login, such as a share
 * link's): the portal cookie and every route cookie it hands out carry
 * the same, so "log out" on one device revokes (user, sid) alone.
 *
 * "seen" is when the token was minted or last refreshed: a session idle
 * longer than the idle setting is refused (auth_users_session), and an
 * active one gets a fresh token with the same expiry (auth_users_refresh).
 *
 * V is 1 for a session from a password (and maybe a second factor), 2
 * for one from a passkey with user verification: routes and users that
 * require a passkey take only 2 (the version is under the MAC).
 *
 * mac = base64url(HMAC-SHA256(key, "postern-session\0" host "\0" the
 * first six fields)), so a token is bound to the host it was issued for
 * (a cookie replayed on another host fails) and to the user's session
 * epoch: the control thread bumps the epoch on logout, disable, password
 * change or delete and publishes the users' epochs in the snapshot, which
 * kills every token issued before. The key is in the snapshot too.
 *
 * The portal's TOTP step holds a "pending" token between the password and
 * the code (auth_pending_*): the same format, MAC'd under another domain
 * tag ("postern-pending"), so that it never passes for a session on any
 * host (it proves the password only). */
#ifndef POSTERN_AUTH_AUTH_COOKIE_H
#define POSTERN_AUTH_AUTH_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth_mac.h"
#include "core/str.h"

#define AUTH_COOKIE_ROUTE "__Host-postern_auth"
#define AUTH_COOKIE_PORTAL "__Host-postern_portal"
/* A login's state (docs/auth.md "Login state"): set on the route host
 * when the hub sends a browser to the portal, carried through the portal
 * as `state`, bound to the one-time code and checked by the callback, so
 * a code only logs in the browser that started its login. 256 random bits
 * in base64url (43 characters), for ten minutes. */
#define AUTH_COOKIE_STATE "__Host-postern_state"
#define AUTH_STATE_LEN 43
#define AUTH_STATE_MAX_AGE 600
/* The cookie holds the logins a browser started on the host and has not
 * finished, newest first and '.'-separated, at most this many: a second
 * tab that starts a login does not void the first one's. */
#define AUTH_STATE_KEEP 3
#define AUTH_KEY_LEN AUTH_MAC_KEY_LEN
#define AUTH_HOST_MAX 255
/* A token's text, NUL included (fields bounded by their types). */
#define AUTH_TOKEN_MAX 128

struct auth_claims {
	int64_t uid;		/* > 0 */
	uint32_t epoch;
	int64_t exp;		/* unix seconds */
	bool passkey;		/* made by a passkey login (token version 2) */
	int64_t seen;		/* minted or refreshed at, unix seconds */
	int64_t sid;		/* the login session's id: 1..INT64_MAX, or 0 */
};
/* A new login session's id (never 0), or 0 when the kernel gives no
 * random bytes. */
int64_t auth_session_id_new(void);

/* Lower-cases `host` and drops a port and a trailing dot into out
 * (AUTH_HOST_MAX + 1 bytes). Returns its length, or -1 when it does not
 * fit or holds a byte a host name cannot. */
int auth_host_norm(struct str host, char *out);

/* Writes the token for `c` on `host` (normalised) into out
 * (AUTH_TOKEN_MAX), MAC'd with m's context (auth_mac.h; NULL: one for
 * this call). Returns its length, or -1. */
int auth_cookie_mint(struct auth_mac *m, const uint8_t key[AUTH_KEY_LEN], const char *host,
		     const struct auth_claims *c, char *out);

/* A pending token (the TOTP step's; see the top): minted and checked
 * like a session's (auth_cookie_mint, auth_cookie_verify without a
 * cache) under the pending domain tag. A session token never verifies
 * here, nor a pending one as a session. Return as those do. */
int auth_pending_mint(const uint8_t key[AUTH_KEY_LEN], const char *host,
		      const struct auth_claims *c, char *out);
int auth_pending_verify(const uint8_t key[AUTH_KEY_LEN], const char *host, struct str tok,
			int64_t now, struct auth_claims *c);

/* What a thread that checks many cookies keeps (each worker has one):
 * its MAC context, and the tokens it verified lately, so that a client
 * sending the same cookie on every request (a browser on keep-alive) pays
 * the MAC once. An entry is only ever a token whose MAC verified under
 * `key`; a token is found again only when byte-identical to it (compared
 * in constant time: a miss says nothing of what the slot holds), for the
 * same host, and still unexpired; another key empties the table. The
 * slot is chosen by the token's MAC, so a client can only evict. The
 * tokens are session secrets: auth_cookie_cache_clear wipes them. */
#define AUTH_SEEN_SLOTS 64
struct auth_seen {
	char tok[AUTH_TOKEN_MAX];
	size_t len;			/* 0: empty */
	char host[AUTH_HOST_MAX + 1];
	struct auth_claims c;
};
struct auth_cookie_cache {
	struct auth_mac mac;
	uint8_t key[AUTH_KEY_LEN];	/* the entries' key */
	struct auth_seen seen[AUTH_SEEN_SLOTS];
};
/* Frees the MAC context and wipes everything; cc may be used again. A
 * zeroed struct is an empty cache. */
void auth_cookie_cache_clear(struct auth_cookie_cache *cc);

/* Checks token `tok` (untrusted bytes) for `host` (normalised) at time
 * `now` (unix seconds): its syntax (the bounded number parser), its
 * MAC over the exact bytes received (constant time) and its expiry.
 * With cc, a token cc verified before is found there instead (see
 * above), and one that verifies now is kept; NULL: a MAC context for
 * this call. Returns 0 and fills *c, or -1. */
int auth_cookie_verify(struct auth_cookie_cache *cc, const uint8_t key[AUTH_KEY_LEN],
		       const char *host, struct str tok, int64_t now, struct auth_claims *c);

/* A live session's token is refreshed (its "seen" moved to now, its
 * expiry kept) once 1/AUTH_REFRESH_DIV of the idle time has passed since
 * it was last seen: often enough that an active browser never goes idle,
 * rarely enough that a busy page does not get a Set-Cookie per response
 * (the token's own "seen" is the per-cookie rate limit). */
#define AUTH_REFRESH_DIV 4
/* Whether a session last seen at `seen` is still live at `now` under an
 * idle limit of `idle` seconds (<= 0: no limit). */
bool auth_idle_ok(int64_t idle, int64_t seen, int64_t now);

/* The value of the cookie `name` in a Cookie field value (untrusted):
 * "a=1; b=2". Returns true with *val set (a view into v) for the first
 * pair whose name matches exactly. */
bool auth_cookie_find(struct str v, struct str name, struct str *val);

/* The next login state in a state cookie's value *v ("S1.S2", newest
 * first; untrusted): true with *tok set to it (AUTH_STATE_LEN base64url
 * characters) and *v advanced past it. Pieces that are not a state are
 * skipped. */
bool auth_state_next(struct str *v, struct str *tok);

#endif
