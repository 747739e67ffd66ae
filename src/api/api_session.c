/* api_session.c - browser sessions: password login, logout, who am I.
 *
 * The session cookie is HttpOnly, Secure, SameSite=Strict and holds 256
 * random bits (the store keeps their SHA-256); the CSRF token comes in the
 * login response and in GET /session, and unsafe requests must echo it in
 * X-CSRF-Token with a matching Origin (api_auth.c). */
#include <stdio.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_resource.h"
#include "auth/password.h"
#include "core/secure.h"

static const char *const api_perm_names[API_PERM_MAX] = {
	"none", "read", "write", "admin"
};
static const char *const api_who_names[API_WHO_MAX] = {
	"anonymous", "unix", "token", "session"
};

void api_session_get(struct api_ctx *c)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:n}", "actor", c->who.actor, "kind",
			      api_who_names[c->who.kind], "perm",
			      api_perm_names[c->who.perm], "user");
	sqlite3_stmt *st;

	if (c->who.user_id)
		json_object_set_new(o, "user", json_pack("{s:I,s:s}", "id",
				    (json_int_t)c->who.user_id, "name", c->who.user));
	st = c->who.session_id ? store_prepare(&c->api->store,
		"SELECT csrf, expires_at FROM sessions WHERE id = ?") : NULL;
	if (st) {
		sqlite3_bind_int64(st, 1, c->who.session_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			json_object_set_new(o, "csrf_token", json_string(
				(const char *)sqlite3_column_text(st, 0)));
			json_object_set_new(o, "expires_at",
					    json_integer(sqlite3_column_int64(st, 1)));
		}
		sqlite3_finalize(st);
	}
	api_reply_json(c, 200, o);
}

char *api_session_user(struct api_ctx *c, const char *name)
{
	sqlite3_stmt *st = api_row(c->api, "SELECT id, password_hash, role, disabled"
				   " FROM users WHERE name = ?", STORE_T(name));
	char *hash = NULL;

	if (!st)
		return NULL;
	if (!sqlite3_column_int(st, 3) && sqlite3_column_text(st, 1)) {
		c->who.user_id = sqlite3_column_int64(st, 0);
		hash = strdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return hash;
}

static int api_login_body(struct api_ctx *c, const char **user, const char **pw)
{
	static const char *const allowed[] = { "username", "password", "code", NULL };

	if (api_body_only(c, allowed) < 0)
		return -1;
	*user = api_body_str(c, "username");
	*pw = api_body_str(c, "password");
	if (!*user || !**user || strlen(*user) > 64) {
		api_reply_error(c, 400, "invalid", "username", "username: is required");
		return -1;
	}
	if (!*pw || strlen(*pw) > PASSWORD_MAX) {
		api_reply_error(c, 400, "invalid", "password", "password: is required");
		return -1;
	}
	return 0;
}

static int64_t api_session_insert(struct api_ctx *c, const char *hash,
				  const char *csrf, int64_t expires)
{
	sqlite3_stmt *st = store_prepare(&c->api->store, "INSERT INTO sessions(user_id,"
		" hash, csrf, client_ip, created_at, last_seen_at, expires_at)"
		" VALUES (?, ?, ?, ?, ?, ?, ?)");
	int64_t now = store_now_ms();
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, c->who.user_id);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, csrf, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->who.source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, expires);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? sqlite3_last_insert_rowid(c->api->store.db) : -1;
}

/* Creates the session and replies with the cookie and the CSRF token. */
static void api_session_start(struct api_ctx *c, const char *name)
{
	int64_t life = api_setting_int(c->api, "session.lifetime");
	int64_t expires = store_now_ms() + life * 1000, seq, id;
	char *cookie = api_new_token(""), *csrf = api_new_token("");
	char hash[65], obj[48];

	snprintf(c->who.actor, sizeof(c->who.actor), "user:%s", name);
	if (!cookie || !csrf || (seq = api_tx_begin(c)) < 0)
		goto out;
	api_hash_token(cookie, hash);
	if ((id = api_session_insert(c, hash, csrf, expires)) < 0) {
		api_tx_abort(c);
		api_reply_error(c, 500, "internal", NULL, "internal error");
		goto out;
	}
	snprintf(obj, sizeof(obj), "session:%lld", (long long)id);
	if (api_tx_commit(c, seq, "session.login", obj, "", "") < 0)
		goto out;
	api_reply_header(c, "Set-Cookie: " API_SESSION_COOKIE "=%s; Path=/; "
			 "Max-Age=%lld; HttpOnly; Secure; SameSite=Strict", cookie,
			 (long long)life);
	api_reply_json(c, 201, json_pack("{s:{s:I,s:s},s:s,s:I}", "user", "id",
		(json_int_t)c->who.user_id, "name", name, "csrf_token", csrf,
		"expires_at", (json_int_t)expires));
out:
	if (c->resp->status == 500 && !c->resp->body.len)
		api_reply_error(c, 500, "internal", NULL, "internal error");
	secure_free(cookie, cookie ? strlen(cookie) : 0);
	secure_free(csrf, csrf ? strlen(csrf) : 0);
}

/* A login's throttling keys: the client's address, and the account
 * from that address. Never the account alone: guesses from elsewhere
 * must not delay its rightful user. */
void api_login_keys(struct api_ctx *c, const char *user,
		    char addr[AUTH_THROTTLE_KEY], char acct[AUTH_THROTTLE_KEY])
{
	char prefix[96];

	snprintf(prefix, sizeof(prefix), "user:%s@ip:", user);	/* user <= 64 */
	api_addr_key(c, "ip:", addr);
	api_addr_key(c, prefix, acct);
}

int api_login_verdict(struct api_ctx *c, const char *user, bool ok)
{
	char addr[AUTH_THROTTLE_KEY], acct[AUTH_THROTTLE_KEY], obj[80];
	int64_t d1, d2;

	api_login_keys(c, user, addr, acct);
	if (!ok) {
		/* Only names that could be user names reach the log. */
		snprintf(obj, sizeof(obj), "user:%s", api_check_username(user) ?
			 "(invalid name)" : user);
		api_audit_event(c, "session.login_failed", obj, "");
		d1 = api_login_failed(c, addr);
		d2 = api_login_failed(c, acct);
		api_reply_retry_after(c, d1 > d2 ? d1 : d2);
		return -1;
	}
	/* The address keeps its count: it decays, so a guesser cannot wipe
	 * it with a login of their own. */
	auth_throttle_clear(&c->api->throttle, acct);
	return 0;
}

/* After the password: a user with TOTP sends "code" (an authenticator's
 * code or a recovery code) in the same request; an admin without one,
 * when login.admin_second_factor is on, is refused until they enrol on
 * the portal. Returns 0, or -1 after replying. */
static int api_session_second(struct api_ctx *c, const char *user)
{
	const char *code = api_body_str(c, "code");
	char addr[AUTH_THROTTLE_KEY], acct[AUTH_THROTTLE_KEY];
	int64_t seq, uid = c->who.user_id;

	if (api_passkey_required(c->api, uid)) {
		api_audit_event(c, "session.login_failed", c->who.actor,
				"{\"factor\":\"password\",\"reason\":\"passkey_required\"}");
		api_reply_error(c, 403, "passkey_required", NULL, "this account logs in with a "
				"passkey only (on the portal)");
		return -1;
	}
	if (!api_totp_enrolled(c->api, uid)) {
		if (!api_totp_required(c->api, uid))
			return 0;
		api_reply_error(c, 403, "second_factor_required", NULL, "admins need a second "
				"factor: add an authenticator on the portal (/totp) first");
		return -1;
	}
	api_login_keys(c, user, addr, acct);
	if (!code) {
		api_reply_error(c, 401, "code_required", "code", "code: the authenticator's "
				"code (or a recovery code) is required");
		return -1;
	}
	if ((seq = api_tx_begin(c)) < 0)
		return -1;
	if (api_totp_second(c, uid, code) < 0) {
		api_tx_abort(c);
		api_reply_retry_after(c, api_login_failed(c, acct));
		api_reply_error(c, 401, "invalid_credentials", "code", "wrong or already used code");
		return -1;
	}
	return api_tx_commit(c, seq, "session.second_factor", "", "", "");
}

/* The password check's verdict (control thread; the body is still c's). */
static void api_session_checked(struct api_ctx *c, bool ok)
{
	const char *user = api_body_str(c, "username");

	if (api_login_verdict(c, user, ok) < 0) {
		api_reply_error(c, 401, "invalid_credentials", NULL,
				"wrong user name or password");
		return;
	}
	if (api_session_second(c, user) < 0)
		return;
	api_session_start(c, user);
}

void api_session_login(struct api_ctx *c)
{
	const char *user, *pw;
	char addr[AUTH_THROTTLE_KEY], acct[AUTH_THROTTLE_KEY], *hash;

	if (api_login_body(c, &user, &pw) < 0)
		return;
	api_login_keys(c, user, addr, acct);
	if (api_login_throttled(c, addr) < 0 || api_login_throttled(c, acct) < 0)
		return;
	hash = api_session_user(c, user);
	api_pw_check(c, hash, pw, addr, api_session_checked);
	secure_free(hash, hash ? strlen(hash) : 0);
}

void api_session_logout(struct api_ctx *c)
{
	char obj[48];
	int64_t seq;
	sqlite3_stmt *st;

	if (c->who.kind != API_WHO_SESSION) {
		api_reply_error(c, 400, "invalid", NULL, "not a browser session");
		return;
	}
	if ((seq = api_tx_begin(c)) < 0)
		return;
	st = store_prepare(&c->api->store, "DELETE FROM sessions WHERE id = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, c->who.session_id);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	snprintf(obj, sizeof(obj), "session:%lld", (long long)c->who.session_id);
	if (api_tx_commit(c, seq, "session.logout", obj, "", "") < 0)
		return;
	api_reply_header(c, "Set-Cookie: " API_SESSION_COOKIE "=; Path=/; Max-Age=0; "
			 "HttpOnly; Secure; SameSite=Strict");
	api_reply_empty(c, 204);
}
