/* api_login.c - route login on the control thread: the session cookie
 * key, the users table the snapshot publishes, the portal's one-time
 * codes and revocation (docs/auth.md). */
#define LOG_SUBSYS "login"
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "api/api_int.h"
#include "core/enc.h"
#include "core/log.h"
#include "core/secure.h"

int api_login_key(struct api *api, uint8_t key[AUTH_KEY_LEN])
{
	bool had = api->login_key_ok;
	int rc = api_login_key_get(api, key, true);

	/* Made just now: the workers need it to check the cookies it signs. */
	if (rc == 0 && !had && api->publish)
		api->publish(api->publish_ctx, api, API_CHANGED_USERS);
	return rc;
}

int api_login_key_get(struct api *api, uint8_t key[AUTH_KEY_LEN], bool create)
{
	uint8_t *val = NULL, fresh[AUTH_KEY_LEN];
	size_t len = 0;
	int64_t seq;

	if (!api->login_key_ok &&
	    secret_get(&api->store, &api->keys, "login", 0, "cookie_key", &val, &len) == 0) {
		if (len == AUTH_KEY_LEN) {
			memcpy(api->login_key, val, AUTH_KEY_LEN);
			api->login_key_ok = true;
		}
		secure_free(val, len + 1);
	}
	if (!api->login_key_ok && !create)
		return -1;
	if (!api->login_key_ok) {
		if (secure_random(fresh, sizeof(fresh)) < 0 || (seq = api_sys_tx_begin(api)) < 0)
			return -1;
		if (secret_put(&api->store, &api->keys, "login", 0, "cookie_key", fresh,
			       sizeof(fresh)) < 0) {
			store_rollback(&api->store);
			secure_wipe(fresh, sizeof(fresh));
			return -1;
		}
		if (api_sys_tx_commit(api, seq, "login.cookie_key", "login:cookie_key", NULL,
				      "{\"origin\":\"generated\"}") < 0) {
			secure_wipe(fresh, sizeof(fresh));
			return -1;
		}
		memcpy(api->login_key, fresh, AUTH_KEY_LEN);
		secure_wipe(fresh, sizeof(fresh));
		api->login_key_ok = true;
	}
	memcpy(key, api->login_key, AUTH_KEY_LEN);
	return 0;
}

/* The key is made (an audited event) once something needs it: the first
 * login route, or the portal's first cookie; a hub that never uses login
 * has none, and its snapshot's table verifies nothing. */
struct auth_users *api_auth_users(struct api *api)
{
	static const uint8_t none[AUTH_KEY_LEN];
	uint8_t key[AUTH_KEY_LEN];
	struct auth_users *t = NULL;
	sqlite3_stmt *st;
	int rc = SQLITE_ERROR;
	bool want = store_query_int(&api->store, "SELECT count(*) FROM routes WHERE"
				    " policy LIKE '%login%'", 1) > 0;
	bool have = api_login_key_get(api, key, want) == 0;

	if (want && !have) {
		log_err("no session cookie key: login routes will refuse everyone");
		return NULL;
	}
	t = auth_users_new(have ? key : none);
	if (t) {
		t->keyed = have;
		t->idle = api_setting_int(api, "session.idle_timeout");
		t->assert = api_assert_build(api, want);
	}
	secure_wipe(key, sizeof(key));
	st = t ? store_prepare(&api->store, "SELECT id, name, disabled, groups, email,"
			       " auth_epoch, require_passkey FROM users ORDER BY id") : NULL;
	while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct auth_user u = { .id = sqlite3_column_int64(st, 0),
				       .disabled = sqlite3_column_int(st, 2) != 0,
				       .epoch = (uint32_t)sqlite3_column_int64(st, 5),
				       .require_passkey = sqlite3_column_int(st, 6) != 0 };
		store_column_copy(st, 1, u.name, sizeof(u.name));
		store_column_copy(st, 3, u.groups, sizeof(u.groups));
		store_column_copy(st, 4, u.email, sizeof(u.email));
		if (auth_users_add(t, &u) < 0)
			break;
	}
	sqlite3_finalize(st);
	/* The sessions logged out one at a time; without them, nobody. */
	if (rc == SQLITE_DONE) {
		st = store_prepare(&api->store, "SELECT user_id, session_id FROM"
				   " session_revocations WHERE expires_at > ?"
				   " ORDER BY user_id, session_id");
		rc = st ? SQLITE_ROW : SQLITE_ERROR;
		if (st)
			sqlite3_bind_int64(st, 1, (int64_t)time(NULL));
		while (st && (rc = sqlite3_step(st)) == SQLITE_ROW)
			if (auth_users_revoke(t, sqlite3_column_int64(st, 0),
					      sqlite3_column_int64(st, 1)) < 0)
				break;
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_DONE) {
		log_err("cannot read the users for route login");
		auth_users_free(t);
		return NULL;
	}
	return t;
}

int64_t api_login_epoch(struct api *api, int64_t uid)
{
	sqlite3_stmt *st = store_prepare(&api->store, "SELECT auth_epoch FROM users"
					 " WHERE id = ? AND disabled = 0");
	int64_t e = -1;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, uid);
	if (sqlite3_step(st) == SQLITE_ROW)
		e = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return e;
}

int api_login_revoke(struct api_ctx *c, int64_t uid)
{
	c->changed |= API_CHANGED_USERS;
	return store_exec_i64(&c->api->store, "UPDATE users SET auth_epoch ="
			      " (auth_epoch + 1) % 2147483648 WHERE id = ?", &uid, 1);
}

int api_login_revoke_session(struct api_ctx *c, const struct auth_claims *cl)
{
	int64_t v[] = { cl->uid, cl->sid, cl->exp }, now = (int64_t)time(NULL);

	c->changed |= API_CHANGED_USERS;
	if (cl->sid <= 0 ||
	    store_exec_i64(&c->api->store, "INSERT OR IGNORE INTO session_revocations"
			   "(user_id, session_id, expires_at) VALUES (?, ?, ?)", v, 3) < 0)
		return -1;
	return store_exec_i64(&c->api->store, "DELETE FROM session_revocations"
			      " WHERE expires_at <= ?", &now, 1);
}

bool api_login_session_revoked(struct api *api, int64_t uid, int64_t sid)
{
	sqlite3_stmt *st = store_prepare(&api->store, "SELECT 1 FROM session_revocations"
					 " WHERE user_id = ? AND session_id = ?");
	bool yes = true;	/* a store that cannot answer logs nobody in */

	if (st) {
		sqlite3_bind_int64(st, 1, uid);
		sqlite3_bind_int64(st, 2, sid);
		yes = sqlite3_step(st) != SQLITE_DONE;
		sqlite3_finalize(st);
	}
	return yes;
}

static void api_login_code_hash(const char *code, uint8_t out[32])
{
	EVP_Digest(code, strlen(code), out, NULL, EVP_sha256(), NULL);
}

static bool api_login_code_free(const struct api_login_code *k, int64_t now)
{
	static const uint8_t zero[32];

	return !memcmp(k->hash, zero, sizeof(zero)) || k->expires_ms <= now;
}

int api_login_code_new(struct api *api, const struct auth_claims *session, const char *host,
		       const char *path, const char *state, char code[44])
{
	int64_t now = store_now_ms();
	struct api_login_code *k = NULL;
	uint8_t raw[32];

	for (size_t i = 0; i < API_LOGIN_CODES && !k; i++)
		if (api_login_code_free(&api->codes[i], now))
			k = &api->codes[i];
	/* Full: the oldest code gives way (a flood of logins only hurts the
	 * slowest of its own codes). */
	for (size_t i = 0; i < API_LOGIN_CODES && !k; i++)
		if (!k || api->codes[i].expires_ms < k->expires_ms)
			k = &api->codes[i];
	if (strlen(host) > AUTH_HOST_MAX || strlen(path) >= API_LOGIN_PATH_MAX ||
	    strlen(state) > AUTH_STATE_LEN || secure_random(raw, sizeof(raw)) < 0)
		return -1;
	enc_b64url_encode(code, raw, sizeof(raw));
	secure_wipe(raw, sizeof(raw));
	api_login_code_hash(code, k->hash);
	k->session = *session;
	k->expires_ms = now + API_LOGIN_CODE_MS;
	snprintf(k->host, sizeof(k->host), "%s", host);
	snprintf(k->path, sizeof(k->path), "%s", path);
	snprintf(k->state, sizeof(k->state), "%s", state);
	return 0;
}

int api_login_code_take(struct api *api, const char *code, const char *host,
			struct api_login_code *out)
{
	int64_t now = store_now_ms();
	uint8_t h[32];

	if (strlen(code) != 43)
		return -1;
	api_login_code_hash(code, h);
	for (size_t i = 0; i < API_LOGIN_CODES; i++) {
		struct api_login_code *k = &api->codes[i];
		if (!secure_eq(k->hash, h, sizeof(h)))
			continue;
		*out = *k;
		secure_wipe(k, sizeof(*k));	/* single use, whatever follows */
		return out->expires_ms > now && !strcmp(out->host, host) ? 0 : -1;
	}
	return -1;
}
