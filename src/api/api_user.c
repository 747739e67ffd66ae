/* api_user.c - users, their one-time setup links, and the first start. */
#define LOG_SUBSYS "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_resource.h"
#include "auth/auth_users.h"
#include "auth/password.h"
#include "core/log.h"
#include "core/secure.h"

#define API_SETUP_TTL_MS (24 * 3600 * 1000LL)

static const struct api_field api_user_fields[] = {
	{ "name", API_T_STR, API_F_REQUIRED | API_F_FIXED, 1, 64, api_check_username },
	{ "role", API_T_STR, API_F_REQUIRED, 1, 16, api_check_role },
	{ "password", API_T_STR, API_F_INPUT, PASSWORD_MIN, PASSWORD_MAX, NULL },
	{ "disabled", API_T_BOOL, 0, 0, 0, NULL },
	/* Route login (auth_users.h): groups a route policy can name, and
	 * the address upstreams receive. */
	{ "groups", API_T_STR, 0, 0, AUTH_GROUPS_TEXT - 1, api_check_groups },
	{ "email", API_T_STR, API_F_NULL, 3, AUTH_EMAIL_MAX, api_check_email },
	/* Passwords refused: passkey logins only (docs/auth.md). */
	{ "require_passkey", API_T_BOOL, 0, 0, 0, NULL },
	{ "password_hash", API_T_STR, API_F_HIDDEN | API_F_READONLY | API_F_NULL, 0, 0, NULL },
};

static bool api_user_is_admin(const json_t *row)
{
	return !strcmp(json_string_value(json_object_get(row, "role")) ?: "", "admin") &&
	       !json_is_true(json_object_get(row, "disabled"));
}

/* Refuses a change that would leave no enabled admin. */
static int api_user_keep_an_admin(struct api_ctx *c, const json_t *old,
				  const json_t *row)
{
	if (!old || !api_user_is_admin(old) || (row && api_user_is_admin(row)))
		return 0;
	if (store_query_int(&c->api->store, "SELECT count(*) FROM users WHERE "
			    "role = 'admin' AND disabled = 0", 0) > 1)
		return 0;
	api_reply_error(c, 409, "conflict", row ? "role" : NULL,
			"this is the last enabled admin");
	return -1;
}

static int api_user_prepare(struct api_ctx *c, json_t *row, const json_t *old)
{
	json_t *pw = json_object_get(row, "password");
	char *hash;

	if (api_user_keep_an_admin(c, old, row) < 0)
		return -1;
	if (!pw)
		return 0;
	hash = password_hash(json_string_value(pw), json_string_length(pw));
	if (!hash) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return -1;
	}
	json_object_set_new(row, "password_hash", json_string(hash));
	secure_free(hash, strlen(hash));
	return 0;
}

/* Runs `sql` with ?1 = user id and ?2 = the caller's session (kept). */
static int api_user_exec(struct api_ctx *c, const char *sql, int64_t id)
{
	sqlite3_stmt *st = store_prepare(&c->api->store, sql);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, c->who.session_id);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

/* A new user starts at a random session epoch: SQLite may hand a
 * deleted user's id to the next user, and a cookie of the old one must
 * not name the new one. */
static int api_user_first_epoch(struct api_ctx *c, int64_t id)
{
	uint32_t e = 0;
	int rc = -1;

	if (secure_random(&e, sizeof(e)) == 0)
		rc = store_exec_i64(&c->api->store, "UPDATE users SET auth_epoch = ?2"
				    " WHERE id = ?1", (const int64_t[]){ id, e & 0x7fffffff }, 2);
	if (rc < 0)
		api_reply_error(c, 500, "internal", NULL, "internal error");
	return rc;
}

/* A new password or a disabled account ends the user's other sessions,
 * every route session (a new epoch: auth_cookie.h) and any pending setup
 * link. */
static int api_user_written(struct api_ctx *c, int64_t id, const json_t *row,
			    const json_t *old)
{
	bool pw = json_object_get(c->body, "password") != NULL;

	if (!old)
		return api_user_first_epoch(c, id);
	if (!pw && !json_is_true(json_object_get(row, "disabled")))
		return 0;
	if (api_user_exec(c, "DELETE FROM sessions WHERE user_id = ?1 AND id <> ?2", id) < 0 ||
	    api_user_exec(c, "UPDATE users SET auth_epoch = auth_epoch + 1"
			  " WHERE id = ?1", id) < 0 ||
	    api_user_exec(c, "DELETE FROM user_setup_tokens WHERE user_id = ?1", id) < 0) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return -1;
	}
	return 0;
}

/* The user's sealed secrets (TOTP) go with them: a later user given the
 * same row id starts with none. */
static int api_user_deleting(struct api_ctx *c, const json_t *old)
{
	if (api_user_keep_an_admin(c, old, NULL) < 0)
		return -1;
	if (secret_delete(&c->api->store, "user", c->id, NULL) < 0) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return -1;
	}
	return 0;
}

static void api_user_show(struct api_ctx *c, json_t *obj)
{
	(void)c;
	json_object_set_new(obj, "has_password",
			    json_boolean(json_is_string(json_object_get(obj, "password_hash"))));
}

const struct api_resource api_user_res = {
	API_RES_TABLE("user", "users", api_user_fields),
	.prepare = api_user_prepare,
	.written = api_user_written,
	.deleting = api_user_deleting,
	.show = api_user_show,
	.changes = API_CHANGED_USERS,
};

/* Inside a transaction: a new setup token for user `id` in c->reveal.
 * Returns its expiry, or -1. */
static int64_t api_setup_token_new(struct api_ctx *c, int64_t id)
{
	int64_t expires = store_now_ms() + API_SETUP_TTL_MS;
	char hash[65];

	c->reveal = api_new_token("ps_");
	if (!c->reveal)
		return -1;
	api_hash_token(c->reveal, hash);
	return store_exec_args(&c->api->store, "INSERT INTO user_setup_tokens"
			       "(user_id, hash, created_at, expires_at) VALUES (?,?,?,?)",
			       (struct store_arg[]){ STORE_I(id), STORE_T(hash),
						     STORE_I(store_now_ms()), STORE_I(expires) },
			       4) < 0 ? -1 : expires;
}

/* "URL/setup#token=TOKEN": in the fragment, so it never reaches a log. */
static void api_setup_link(struct api_ctx *c, char *out, size_t len)
{
	char url[320];

	api_public_url(c, url, sizeof(url));
	snprintf(out, len, "%s/setup#token=%s", url, c->reveal);
}

void api_user_setup_link(struct api_ctx *c)
{
	char obj[48], link[512];
	json_t *user;
	int64_t seq, expires;

	if ((seq = api_tx_begin(c)) < 0)
		return;
	user = api_res_load(c, &api_user_res, c->id);
	if (!user) {
		api_tx_abort(c);
		api_reply_error(c, 404, "not_found", NULL, "no user %lld", (long long)c->id);
		return;
	}
	json_decref(user);
	if ((expires = api_setup_token_new(c, c->id)) < 0) {
		api_tx_abort(c);
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return;
	}
	snprintf(obj, sizeof(obj), "user:%lld", (long long)c->id);
	if (api_tx_commit(c, seq, "user.setup_link", obj, "", "") < 0)
		return;
	api_setup_link(c, link, sizeof(link));
	api_reply_json(c, 201, json_pack("{s:s,s:s,s:I}", "link", link, "token",
					 c->reveal, "expires_at", (json_int_t)expires));
}

/* The user a valid, unexpired setup token belongs to, or 0. */
static int64_t api_setup_token_user(struct api_ctx *c, const char *token)
{
	sqlite3_stmt *st = store_prepare(&c->api->store, "SELECT t.user_id, t.hash,"
		" u.name FROM user_setup_tokens t JOIN users u ON u.id = t.user_id"
		" WHERE t.hash = ? AND t.expires_at > ?");
	char hash[65];
	int64_t id = 0;

	if (!st)
		return 0;
	api_hash_token(token, hash);
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, store_now_ms());
	if (sqlite3_step(st) == SQLITE_ROW && secure_eq(sqlite3_column_text(st, 1), hash, 64)) {
		id = sqlite3_column_int64(st, 0);
		snprintf(c->who.actor, sizeof(c->who.actor), "user:%s",
			 (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	return id;
}

static int api_setup_body(struct api_ctx *c, const char **token, const char **pw)
{
	static const char *const allowed[] = { "token", "password", NULL };

	if (api_body_only(c, allowed) < 0)
		return -1;
	*token = api_body_str(c, "token");
	*pw = api_body_str(c, "password");
	if (!*token) {
		api_reply_error(c, 400, "invalid", "token", "token: is required");
		return -1;
	}
	if (!*pw || strlen(*pw) < PASSWORD_MIN || strlen(*pw) > PASSWORD_MAX) {
		api_reply_error(c, 400, "invalid", "password", "password: must be %d "
				"to %d characters", PASSWORD_MIN, PASSWORD_MAX);
		return -1;
	}
	return 0;
}

/* Sets the password of user `id` and spends its setup tokens. */
static int api_user_set_password(struct api_ctx *c, int64_t id, const char *pw,
				 int64_t seq)
{
	char *hash = password_hash(pw, strlen(pw));
	int rc = -1;

	if (hash) {
		sqlite3_stmt *st = store_prepare(&c->api->store,
			"UPDATE users SET password_hash = ?, rev = ? WHERE id = ?");
		if (st) {
			sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, seq);
			sqlite3_bind_int64(st, 3, id);
			rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
			sqlite3_finalize(st);
		}
		secure_free(hash, strlen(hash));
	}
	if (rc == 0)
		rc = api_user_exec(c, "DELETE FROM user_setup_tokens WHERE user_id = ?1", id);
	return rc;
}

int64_t api_user_setup_with(struct api_ctx *c, const char *token, const char *pw)
{
	char key[AUTH_THROTTLE_KEY], obj[48];
	int64_t id, seq;

	api_addr_key(c, "setup:", key);
	if (api_login_throttled(c, key) < 0 || (seq = api_tx_begin(c)) < 0)
		return -1;
	if (!(id = api_setup_token_user(c, token))) {
		api_tx_abort(c);
		api_reply_retry_after(c, api_login_failed(c, key));
		return 0;
	}
	if (api_user_set_password(c, id, pw, seq) < 0) {
		api_tx_abort(c);
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return -1;
	}
	snprintf(obj, sizeof(obj), "user:%lld", (long long)id);
	if (api_tx_commit(c, seq, "user.setup", obj, "", "{\"password\":\"(set)\"}") < 0)
		return -1;
	return id;
}

void api_user_setup(struct api_ctx *c)
{
	const char *token, *pw;
	int64_t id;

	if (api_setup_body(c, &token, &pw) < 0)
		return;
	id = api_user_setup_with(c, token, pw);
	if (id == 0)
		api_reply_error(c, 401, "unauthenticated", "token", "token: invalid, used "
				"or expired; ask an admin for a new setup link");
	else if (id > 0)
		api_reply_empty(c, 204);
}

static int64_t api_user_insert_admin(struct api_ctx *c, int64_t seq)
{
	sqlite3_stmt *st = store_prepare(&c->api->store, "INSERT INTO users(name,"
		" role, created_at, rev) VALUES ('admin', 'admin', ?, ?)");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, store_now_ms());
	sqlite3_bind_int64(st, 2, seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? sqlite3_last_insert_rowid(c->api->store.db) : -1;
}

/* The first start's admin: created by "system", with a setup link. */
int api_bootstrap(struct api *api, FILE *out)
{
	struct api_resp resp;
	struct api_req req = { .method = "POST", .path = "", .client_ip = "",
			       .transport = API_TRANSPORT_UNIX };
	struct api_ctx c = { .api = api, .req = &req, .resp = &resp };
	char link[512];
	int64_t seq, id;
	int rc = -1;

	if (store_query_int(&api->store, "SELECT count(*) FROM users", -1) != 0)
		return 0;
	api_resp_init(&resp);
	snprintf(c.who.actor, sizeof(c.who.actor), "system");
	if ((seq = api_tx_begin(&c)) < 0)
		goto out;
	if ((id = api_user_insert_admin(&c, seq)) < 0) {
		api_tx_abort(&c);
		goto out;
	}
	if (api_setup_token_new(&c, id) < 0) {
		api_tx_abort(&c);
		goto out;
	}
	if (api_tx_commit(&c, seq, "user.create", "user:1", "",
			  "{\"name\":\"admin\",\"role\":\"admin\"}") < 0)
		goto out;
	api_setup_link(&c, link, sizeof(link));
	fprintf(out, "postern: first start: created the user \"admin\" (role admin).\n"
		"postern: set its password within 24 hours at\n  %s\n"
		"postern: or on this machine: postern user update %lld --password-stdin\n",
		link, (long long)id);
	fflush(out);
	rc = 1;
out:
	if (rc < 0)
		log_err("could not create the first admin user");
	if (c.reveal)
		secure_free(c.reveal, strlen(c.reveal));
	api_resp_free(&resp);
	return rc;
}
