/* auth_users.h - who may log in to the routes, as the workers see it.
 *
 * The control thread reads the users from the store into this table and
 * publishes it in the hub snapshot (immutable from then on), with the key
 * the session cookies are signed with (auth_cookie.h). A worker answers
 * "is this cookie a live session, and who is it" with a binary search:
 * no store, no lock. A user who is disabled, deleted or whose epoch moved
 * on (logout everywhere, new password) fails the check as soon as the
 * worker has the new snapshot, and so does one login session logged out
 * alone: (user, session id) in the table's revoked list. */
#ifndef POSTERN_AUTH_AUTH_USERS_H
#define POSTERN_AUTH_AUTH_USERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/auth_cookie.h"

#define AUTH_NAME_MAX 64
#define AUTH_EMAIL_MAX 254
#define AUTH_GROUPS_MAX 16
#define AUTH_GROUP_NAME_MAX 32
/* "a,b,c": every group name, comma-separated. */
#define AUTH_GROUPS_TEXT (AUTH_GROUPS_MAX * (AUTH_GROUP_NAME_MAX + 1))

struct auth_user {
	int64_t id;
	uint32_t epoch;
	bool disabled;
	bool require_passkey;	/* password sessions refused everywhere */
	char name[AUTH_NAME_MAX + 1];
	char email[AUTH_EMAIL_MAX + 1];
	char groups[AUTH_GROUPS_TEXT];	/* validated by auth_groups_check */
};

struct auth_assert;

/* One login session logged out: its user and its id (the portal
 * cookie's, which the route cookies it handed out carry too). */
struct auth_session_id {
	int64_t uid;
	int64_t sid;	/* auth_claims.sid */
};

struct auth_users {
	uint8_t key[AUTH_KEY_LEN];
	bool keyed;		/* false: no key made yet, nothing verifies */
	int64_t idle;		/* session.idle_timeout, seconds; 0: none */
	size_t n, cap;
	struct auth_user *u;		/* sorted by id */
	size_t nrevoked, caprevoked;
	struct auth_session_id *revoked;	/* sorted by (uid, sid) */
	/* The identity assertion's signing key and JWKS (owned), or NULL:
	 * login routes then forward no assertion. */
	struct auth_assert *assert;
};

/* An empty table holding a copy of `key`. NULL when out of memory. */
struct auth_users *auth_users_new(const uint8_t key[AUTH_KEY_LEN]);
/* Appends a user (ids must come in increasing order). Returns 0 or -1. */
int auth_users_add(struct auth_users *t, const struct auth_user *u);
/* Wipes the key and frees. NULL is fine. */
void auth_users_free(struct auth_users *t);
const struct auth_user *auth_users_find(const struct auth_users *t, int64_t id);
/* Appends a logged-out session (in increasing (uid, sid) order). Returns
 * 0 or -1. */
int auth_users_revoke(struct auth_users *t, int64_t uid, int64_t sid);
/* Whether the session (uid, sid) was logged out. */
bool auth_users_revoked(const struct auth_users *t, int64_t uid, int64_t sid);

/* Whether `u` is in group `g`. */
bool auth_user_in_group(const struct auth_user *u, const char *g);

/* NULL when `s` is a valid group list ("" or "name,name", each name
 * [a-z0-9_-], 1..AUTH_GROUP_NAME_MAX, at most AUTH_GROUPS_MAX, no
 * repeats), else why not. */
const char *auth_groups_check(const char *s);
/* NULL when `s` is a valid group name, else why not. */
const char *auth_group_name_check(const char *s);

/* The live session a token names: verified for `host` at `now` (with
 * cc, auth_cookie.h, or NULL), its user
 * present, enabled and at the token's epoch, the session not logged out;
 * made by a passkey when `need_passkey` or when the user requires one.
 * NULL otherwise. */
const struct auth_user *auth_users_session(const struct auth_users *t,
					   struct auth_cookie_cache *cc,
					   const char *host, struct str tok, int64_t now,
					   bool need_passkey);
/* The same, and the token's claims in *c (also refused: a token idle
 * longer than t->idle, i.e. "seen" more than idle seconds ago). */
const struct auth_user *auth_users_session_claims(const struct auth_users *t,
						  struct auth_cookie_cache *cc, const char *host,
						  struct str tok, int64_t now, bool need_passkey,
						  struct auth_claims *c);

/* Writes the refreshed token for claims `c` (of a live session on `host`)
 * into out when one is due. Returns its length, 0 when none is due (or
 * there is no idle limit), -1 on error. */
int auth_users_refresh(const struct auth_users *t, struct auth_cookie_cache *cc,
		       const char *host,
		       const struct auth_claims *c, int64_t now, char out[AUTH_TOKEN_MAX]);

#endif
