/* auth_users.c - the snapshot's table of users (see auth_users.h). */
#include "auth/auth_users.h"

#include <stdlib.h>
#include <string.h>

#include "auth/auth_assert.h"
#include "core/array.h"
#include "core/secure.h"

struct auth_users *auth_users_new(const uint8_t key[AUTH_KEY_LEN])
{
	struct auth_users *t = calloc(1, sizeof(*t));

	if (t) {
		memcpy(t->key, key, AUTH_KEY_LEN);
		t->keyed = true;
	}
	return t;
}

int auth_users_add(struct auth_users *t, const struct auth_user *u)
{
	if (t->n && t->u[t->n - 1].id >= u->id)
		return -1;
	return ARRAY_PUSH(t->u, t->n, t->cap, u);
}

void auth_users_free(struct auth_users *t)
{
	if (!t)
		return;
	secure_wipe(t->key, sizeof(t->key));
	auth_assert_free(t->assert);
	free(t->u);
	free(t->revoked);
	free(t);
}

static int auth_session_cmp(const void *pa, const void *pb)
{
	const struct auth_session_id *a = pa, *b = pb;

	if (a->uid != b->uid)
		return a->uid < b->uid ? -1 : 1;
	return a->sid < b->sid ? -1 : a->sid > b->sid;
}

int auth_users_revoke(struct auth_users *t, int64_t uid, int64_t sid)
{
	struct auth_session_id id = { uid, sid };

	if (t->nrevoked && auth_session_cmp(&t->revoked[t->nrevoked - 1], &id) >= 0)
		return -1;
	return ARRAY_PUSH(t->revoked, t->nrevoked, t->caprevoked, &id);
}

bool auth_users_revoked(const struct auth_users *t, int64_t uid, int64_t sid)
{
	struct auth_session_id id = { uid, sid };

	return t && t->nrevoked &&
	       bsearch(&id, t->revoked, t->nrevoked, sizeof(id), auth_session_cmp);
}

const struct auth_user *auth_users_find(const struct auth_users *t, int64_t id)
{
	size_t lo = 0, hi = t ? t->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->u[mid].id == id)
			return &t->u[mid];
		if (t->u[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool auth_user_in_group(const struct auth_user *u, const char *g)
{
	size_t gl = strlen(g);
	const char *p = u->groups;

	while (*p) {
		size_t n = strcspn(p, ",");
		if (n == gl && !memcmp(p, g, n))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/* The length of a valid group name at p (up to ',' or NUL), or 0. */
static size_t auth_group_len(const char *p)
{
	size_t n = 0;

	for (; p[n] && p[n] != ','; n++) {
		char c = p[n];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return n <= AUTH_GROUP_NAME_MAX ? n : 0;
}

const char *auth_group_name_check(const char *s)
{
	size_t n = auth_group_len(s);

	return n && !s[n] ? NULL : "a group name is 1 to 32 of a-z, 0-9, '_' and '-'";
}

const char *auth_groups_check(const char *s)
{
	const char *names[AUTH_GROUPS_MAX];
	size_t lens[AUTH_GROUPS_MAX], k = 0;

	while (*s) {
		size_t n = auth_group_len(s);
		if (!n)
			return "comma-separated group names, each 1 to 32 of a-z, 0-9, '_' and '-'";
		if (k == AUTH_GROUPS_MAX)
			return "at most 16 groups";
		for (size_t i = 0; i < k; i++)
			if (lens[i] == n && !memcmp(names[i], s, n))
				return "a group is named twice";
		names[k] = s;
		lens[k++] = n;
		s += n;
		if (*s == ',' && !*++s)
			return "a trailing comma";
	}
	return NULL;
}

const struct auth_user *auth_users_session(const struct auth_users *t,
					   struct auth_cookie_cache *cc,
					   const char *host, struct str tok, int64_t now,
					   bool need_passkey)
{
	struct auth_claims c;

	return auth_users_session_claims(t, cc, host, tok, now, need_passkey, &c);
}

const struct auth_user *auth_users_session_claims(const struct auth_users *t,
						  struct auth_cookie_cache *cc, const char *host,
						  struct str tok, int64_t now, bool need_passkey,
						  struct auth_claims *c)
{
	const struct auth_user *u;

	if (!t || !t->keyed || auth_cookie_verify(cc, t->key, host, tok, now, c) < 0 ||
	    !auth_idle_ok(t->idle, c->seen, now))
		return NULL;
	u = auth_users_find(t, c->uid);
	if (!u || u->disabled || u->epoch != c->epoch || auth_users_revoked(t, c->uid, c->sid) ||
	    ((need_passkey || u->require_passkey) && !c->passkey))
		return NULL;
	return u;
}

int auth_users_refresh(const struct auth_users *t, struct auth_cookie_cache *cc,
		       const char *host,
		       const struct auth_claims *c, int64_t now, char out[AUTH_TOKEN_MAX])
{
	struct auth_claims n = *c;
	int64_t every = t->idle / AUTH_REFRESH_DIV;

	if (t->idle <= 0 || now - c->seen < (every > 0 ? every : 1))
		return 0;
	n.seen = now;
	return auth_cookie_mint(cc ? &cc->mac : NULL, t->key, host, &n, out);
}
