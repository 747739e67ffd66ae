/* api_auth.c - who is asking: the control socket's peer credentials, a
 * bearer API token, or a browser session (cookie + CSRF token + Origin). */
#define LOG_SUBSYS "api"
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "core/enc.h"
#include "core/log.h"
#include "core/num.h"
#include "core/secure.h"
#include "core/str.h"

#define API_TOKEN_USE_EVERY_MS (60 * 1000)
#define API_SESSION_TOUCH_MS (60 * 1000)

void api_hash_token(const char *s, char out[65])
{
	uint8_t md[32];

	EVP_Digest(s, strlen(s), md, NULL, EVP_sha256(), NULL);
	enc_hex_encode(out, md, sizeof(md));
}

int api_reveal_token(struct api_ctx *c, const char *prefix, size_t hint, json_t *row)
{
	char hash[65], h[32];

	c->reveal = api_new_token(prefix);
	if (!c->reveal) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return -1;
	}
	api_hash_token(c->reveal, hash);
	snprintf(h, hint < sizeof(h) ? hint + 1 : sizeof(h), "%s", c->reveal);
	json_object_set_new(row, "hash", json_string(hash));
	json_object_set_new(row, "hint", json_string(h));
	return 0;
}

char *api_new_token(const char *prefix)
{
	uint8_t raw[32];
	size_t plen = strlen(prefix);
	char *t = malloc(plen + B64URL_LEN(sizeof(raw)));

	if (!t || secure_random(raw, sizeof(raw)) < 0) {
		free(t);
		return NULL;
	}
	memcpy(t, prefix, plen);
	enc_b64url_encode(t + plen, raw, sizeof(raw));
	secure_wipe(raw, sizeof(raw));
	return t;
}

static enum api_perm api_role_perm(const char *role)
{
	if (!strcmp(role, "admin"))
		return API_PERM_ADMIN;
	if (!strcmp(role, "operator"))
		return API_PERM_WRITE;
	return API_PERM_READ;
}

/* Whether `gid` is among the supplementary groups of process `pid`
 * (/proc, so no name service is asked on the control thread). */
static bool api_pid_in_group(pid_t pid, gid_t gid)
{
	char path[64], line[4096];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (pid <= 0 || !(f = fopen(path, "re")))
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *tok, *save;
		if (strncmp(line, "Groups:", 7))
			continue;
		for (tok = strtok_r(line + 7, " \t\n", &save); tok && !found;
		     tok = strtok_r(NULL, " \t\n", &save)) {
			uint64_t g;
			found = num_parse_cstr(tok, 0, UINT32_MAX, &g) == 0 && g == gid;
		}
		break;
	}
	fclose(f);
	return found;
}

static int api_auth_unix(struct api_ctx *c)
{
	const struct api_req *r = c->req;
	struct api *api = c->api;
	bool ok = r->peer_uid == 0 ||
		  (api->have_group && (r->peer_gid == api->group ||
				       api_pid_in_group(r->peer_pid, api->group)));

	snprintf(c->who.source, sizeof(c->who.source), "unix:pid=%d", (int)r->peer_pid);
	if (!ok) {
		api_reply_error(c, 403, "forbidden", NULL, "the control socket is "
				"for root and members of the postern group");
		return -1;
	}
	c->who.kind = API_WHO_UNIX;
	c->who.perm = API_PERM_ADMIN;
	snprintf(c->who.actor, sizeof(c->who.actor), "unix:uid=%u", (unsigned)r->peer_uid);
	return 0;
}

void api_login_policy(struct api *api, struct auth_throttle_policy *p)
{
	p->free = (uint32_t)api_setting_int(api, "login.max_failures");
	p->max_delay_ms = api_setting_int(api, "login.lockout") * 1000;
	if (p->max_delay_ms < AUTH_THROTTLE_BASE_MS)
		p->max_delay_ms = AUTH_THROTTLE_BASE_MS;
}

int64_t api_throttle_now(struct api *api)
{
	return api->clock_ms ? api->clock_ms() : store_now_ms();
}

void api_addr_key(struct api_ctx *c, const char *prefix, char *out)
{
	if (auth_throttle_addr(prefix, c->who.source, out, AUTH_THROTTLE_KEY) < 0)
		snprintf(out, AUTH_THROTTLE_KEY, "%s?", prefix);	/* cannot happen */
}

void api_reply_retry_after(struct api_ctx *c, int64_t delay_ms)
{
	if (delay_ms > 0)
		api_reply_header(c, "Retry-After: %lld",
				 (long long)auth_throttle_retry_after(delay_ms));
}

int api_login_throttled(struct api_ctx *c, const char *key)
{
	struct auth_throttle_policy p;
	int64_t wait;

	api_login_policy(c->api, &p);
	wait = auth_throttle_wait_ms(&c->api->throttle, &p, key, api_throttle_now(c->api));
	if (!wait)
		return 0;
	api_reply_retry_after(c, wait);
	api_reply_error(c, 429, "too_many_requests", NULL,
			"too many failed attempts; retry in %lld s",
			(long long)auth_throttle_retry_after(wait));
	return -1;
}

int64_t api_login_failed(struct api_ctx *c, const char *key)
{
	struct auth_throttle_policy p;
	bool first = false;
	int64_t delay;

	api_login_policy(c->api, &p);
	delay = auth_throttle_fail(&c->api->throttle, &p, key, api_throttle_now(c->api),
				   &first);
	if (first)
		api_audit_event(c, "auth.delayed", key, "");
	return delay;
}

/* Fills who from a user row's (id, name, role, disabled). */
static bool api_who_user(struct api_ctx *c, sqlite3_stmt *st, int col)
{
	const char *name = (const char *)sqlite3_column_text(st, col + 1);
	const char *role = (const char *)sqlite3_column_text(st, col + 2);

	if (sqlite3_column_int(st, col + 3))	/* disabled */
		return false;
	c->who.user_id = sqlite3_column_int64(st, col);
	snprintf(c->who.user, sizeof(c->who.user), "%s", name ? name : "");
	c->who.perm = api_role_perm(role ? role : "viewer");
	return true;
}

/* Records a token's use at most once a minute (last_used_at and an
 * audit entry "token.use"), so use is visible without flooding. */
static void api_token_used(struct api_ctx *c, int64_t last_used)
{
	char after[256];
	int64_t now = store_now_ms(), seq;
	sqlite3_stmt *st;

	if (last_used && now - last_used < API_TOKEN_USE_EVERY_MS)
		return;
	snprintf(after, sizeof(after), "{\"method\":\"%s\"}", c->req->method);
	if ((seq = api_tx_begin(c)) < 0)
		return;
	st = store_prepare(&c->api->store,
			   "UPDATE api_tokens SET last_used_at = ? WHERE id = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, c->who.token_id);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	char obj[32];
	snprintf(obj, sizeof(obj), "token:%lld", (long long)c->who.token_id);
	api_tx_commit(c, seq, "token.use", obj, "", after);
}

/* Looks the token up and fills who; false when it is unknown, expired,
 * revoked or its user disabled. */
static bool api_bearer_lookup(struct api_ctx *c, const char *token, int64_t *last_used)
{
	char hash[65];
	sqlite3_stmt *st;
	int64_t expires;
	bool ok = false;

	api_hash_token(token, hash);
	st = store_prepare(&c->api->store, "SELECT t.id, t.hash, t.scope,"
		" t.expires_at, t.last_used_at, u.id, u.name, u.role, u.disabled"
		" FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?");
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    secure_eq(sqlite3_column_text(st, 1), hash, 64) && api_who_user(c, st, 5)) {
		c->who.token_id = sqlite3_column_int64(st, 0);
		c->who.read_scope = !strcmp((const char *)sqlite3_column_text(st, 2), "read");
		if (c->who.read_scope)
			c->who.perm = API_PERM_READ;
		expires = sqlite3_column_int64(st, 3);
		*last_used = sqlite3_column_int64(st, 4);
		ok = !expires || store_now_ms() < expires;
	}
	sqlite3_finalize(st);
	return ok;
}

/* A valid token is accepted before the throttle is asked: failures, from
 * anywhere, never refuse it (a SHA-256 and an indexed lookup cost next to
 * nothing, and 256 random bits are not guessed). A bad token counts
 * against its source only, under its own key, so stale tokens in a
 * script do not slow down password logins from the same address. */
static int api_auth_bearer(struct api_ctx *c, const char *token)
{
	char key[AUTH_THROTTLE_KEY];
	int64_t last_used = 0;

	if (!api_bearer_lookup(c, token, &last_used)) {
		c->who.perm = API_PERM_NONE;
		c->who.user_id = c->who.token_id = 0;
		c->who.user[0] = 0;
		api_addr_key(c, "bearer:", key);
		if (api_login_throttled(c, key) < 0)
			return -1;
		api_reply_retry_after(c, api_login_failed(c, key));
		api_reply_error(c, 401, "unauthenticated", NULL,
				"invalid, expired or revoked API token");
		return -1;
	}
	c->who.kind = API_WHO_TOKEN;
	snprintf(c->who.actor, sizeof(c->who.actor), "token:%lld(%s)",
		 (long long)c->who.token_id, c->who.user);
	api_token_used(c, last_used);
	return 0;
}

/* The value of the session cookie in a Cookie header, or NULL. */
static char *api_cookie_value(const char *cookie)
{
	static const char name[] = API_SESSION_COOKIE "=";
	const char *p = cookie;

	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		size_t n = strcspn(p, ";");
		if (n > sizeof(name) - 1 && !strncmp(p, name, sizeof(name) - 1))
			return strndup(p + sizeof(name) - 1, n - (sizeof(name) - 1));
		p += n;
	}
	return NULL;
}

static bool api_method_safe(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

/* The hub's origins: the hub.public_url setting and the configured name;
 * only when neither is known, the request's own Host. */
bool api_origin_ok(struct api_ctx *c, const char *origin)
{
	char set[320], host[300];
	bool have_set = api_setting_public_url(c->api, set, sizeof(set));

	if (!origin)
		return false;
	if (have_set && !strcasecmp(origin, set))
		return true;
	if (c->api->public_url)
		return !strcasecmp(origin, c->api->public_url);
	if (have_set || !c->req->host)
		return false;
	snprintf(host, sizeof(host), "https://%s", c->req->host);
	return !strcasecmp(origin, host);
}

/* Unsafe methods on a cookie session need both our Origin and the
 * session's CSRF token: the cookie alone proves nothing. */
static int api_csrf_check(struct api_ctx *c, const char *csrf)
{
	const char *got = c->req->csrf_token;

	if (api_method_safe(c->req->method))
		return 0;
	if (!api_origin_ok(c, c->req->origin)) {
		api_reply_error(c, 403, "csrf", NULL, "Origin is missing or not "
				"this hub's");
		return -1;
	}
	if (!got || strlen(got) != strlen(csrf) || !secure_eq(got, csrf, strlen(csrf))) {
		api_reply_error(c, 403, "csrf", NULL, "X-CSRF-Token is missing or "
				"wrong");
		return -1;
	}
	return 0;
}

static void api_session_touch(struct api_ctx *c, int64_t last_seen)
{
	sqlite3_stmt *st;
	int64_t now = store_now_ms();

	if (now - last_seen < API_SESSION_TOUCH_MS)
		return;
	st = store_prepare(&c->api->store,
			   "UPDATE sessions SET last_seen_at = ? WHERE id = ?");
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, c->who.session_id);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

static int api_auth_session(struct api_ctx *c, const char *value)
{
	char hash[65], csrf[80] = "";
	int64_t now = store_now_ms(), idle = api_setting_int(c->api,
		"session.idle_timeout") * 1000, last_seen = 0;
	sqlite3_stmt *st;
	bool ok = false;

	api_hash_token(value, hash);
	st = store_prepare(&c->api->store, "SELECT s.id, s.hash, s.csrf,"
		" s.expires_at, s.last_seen_at, u.id, u.name, u.role, u.disabled"
		" FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?");
	if (st) {
		sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    secure_eq(sqlite3_column_text(st, 1), hash, 64) &&
		    api_who_user(c, st, 5)) {
			c->who.session_id = sqlite3_column_int64(st, 0);
			snprintf(csrf, sizeof(csrf), "%s", sqlite3_column_text(st, 2));
			last_seen = sqlite3_column_int64(st, 4);
			ok = now < sqlite3_column_int64(st, 3) && now - last_seen < idle;
		}
		sqlite3_finalize(st);
	}
	if (!ok) {
		api_reply_header(c, "Set-Cookie: " API_SESSION_COOKIE "=; Path=/; "
				 "Max-Age=0; HttpOnly; Secure; SameSite=Strict");
		api_reply_error(c, 401, "unauthenticated", NULL,
				"the session has expired; log in again");
		return -1;
	}
	c->who.kind = API_WHO_SESSION;
	snprintf(c->who.actor, sizeof(c->who.actor), "user:%s", c->who.user);
	if (api_csrf_check(c, csrf) < 0)
		return -1;
	api_session_touch(c, last_seen);
	return 0;
}

static int api_auth_https(struct api_ctx *c)
{
	const char *authz = c->req->authorization;
	char *cookie;
	int rc = 0;

	snprintf(c->who.source, sizeof(c->who.source), "%s",
		 c->req->client_ip ? c->req->client_ip : "");
	if (authz) {
		struct str a = str_cstr(authz);
		if (a.len > 7 && str_eq_ci(str_make(a.p, 7), STR_LIT("Bearer ")))
			return api_auth_bearer(c, authz + 7);
		api_reply_error(c, 401, "unauthenticated", NULL,
				"Authorization must be 'Bearer TOKEN'");
		return -1;
	}
	cookie = api_cookie_value(c->req->cookie);
	if (cookie)
		rc = api_auth_session(c, cookie);
	secure_free(cookie, cookie ? strlen(cookie) : 0);
	if (rc == 0 && c->who.kind == API_WHO_NONE &&
	    !api_method_safe(c->req->method) && c->req->origin &&
	    !api_origin_ok(c, c->req->origin)) {
		/* An anonymous form post (login) from another site. */
		api_reply_error(c, 403, "csrf", NULL, "Origin is not this hub's");
		return -1;
	}
	return rc;
}

int api_auth(struct api_ctx *c)
{
	int rc;

	if (c->req->transport == API_TRANSPORT_UNIX)
		rc = api_auth_unix(c);
	else
		rc = api_auth_https(c);
	if (rc < 0)
		return -1;
	if (c->who.kind == API_WHO_NONE)
		snprintf(c->who.actor, sizeof(c->who.actor), "anonymous");
	if (c->ep->perm <= c->who.perm)
		return 0;
	if (c->who.kind == API_WHO_NONE)
		api_reply_error(c, 401, "unauthenticated", NULL,
				"log in, or send 'Authorization: Bearer TOKEN'");
	else
		api_reply_error(c, 403, "forbidden", NULL, "%s",
				c->who.read_scope ? "this token has read scope"
						  : "your role does not allow this");
	return -1;
}

void api_audit_event(struct api_ctx *c, const char *action, const char *object,
		     const char *after)
{
	struct audit_event ev = { c->who.actor[0] ? c->who.actor : "anonymous",
				  c->who.source, action, object, "", after };

	if (audit_record(&c->api->audit, &ev) < 0)
		log_err("cannot record %s in the audit log", action);
	audit_checkpoint(&c->api->audit, false);
}
