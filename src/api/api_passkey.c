/* api_passkey.c - passkeys on the portal (control thread): the WebAuthn
 * registration and login ceremonies as JSON the portal's script posts
 * (docs/auth.md, "Passkeys").
 *
 *   POST /passkey/register/options  (portal session) creation options
 *   POST /passkey/register          (portal session) the new credential
 *   POST /login/passkey/options     request options (any credential)
 *   POST /login/passkey             an assertion: a passkey session
 *
 * The byte checks are src/auth/webauthn*.c; here are the challenges
 * (issued, held in memory, taken once), the binding of a credential to
 * its user (the store), the throttle and the audit trail. */
#define LOG_SUBSYS "passkey"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_passkey.h"
#include "core/enc.h"
#include "core/secure.h"

#define API_PK_TIMEOUT_MS 120000
#define API_PK_NAME_MAX 64

bool api_passkey_required(struct api *api, int64_t uid)
{
	/* Cannot tell: refuse the password. */
	return store_query_int_arg(&api->store, "SELECT require_passkey FROM users WHERE id = ?",
				   uid, 0, 1) != 0;
}

int api_passkey_count(struct api *api, int64_t uid)
{
	return (int)store_query_int_arg(&api->store, "SELECT count(*) FROM passkeys"
					" WHERE user_id = ?", uid, 0, 0);
}

int api_passkey_rp(struct api_ctx *c, char origin[API_PK_ORIGIN], char rpid[AUTH_HOST_MAX + 1])
{
	char url[320];
	const char *a;
	size_t n;

	api_public_url(c, url, sizeof(url));
	if (strncasecmp(url, "https://", 8))
		return -1;
	a = url + 8;
	n = strcspn(a, "/?#");
	if (n == 0 || n + 9 > API_PK_ORIGIN || auth_host_norm(str_make(a, n), rpid) < 0)
		return -1;
	memcpy(origin, "https://", 8);
	for (size_t i = 0; i < n; i++)
		origin[8 + i] = str_lower_ascii(a[i]);
	origin[8 + n] = 0;
	return 0;
}

/* A new challenge for uid (0: a login) into out (base64url). Returns 0
 * or -1. */
static int api_passkey_chal_new(struct api *api, int64_t uid, char out[B64URL_LEN(32)])
{
	int64_t now = store_now_ms();
	struct api_passkey_chal *k = NULL;

	for (size_t i = 0; i < API_PASSKEY_CHALS && !k; i++)
		if (api->chals[i].expires_ms <= now)
			k = &api->chals[i];
	/* Full: the oldest gives way. */
	for (size_t i = 0; i < API_PASSKEY_CHALS && !k; i++)
		if (!k || api->chals[i].expires_ms < k->expires_ms)
			k = &api->chals[i];
	if (secure_random(k->chal, sizeof(k->chal)) < 0)
		return -1;
	k->uid = uid;
	k->expires_ms = now + API_PASSKEY_CHAL_MS;
	enc_b64url_encode(out, k->chal, sizeof(k->chal));
	return 0;
}

int api_passkey_chal_take(struct api *api, const uint8_t *chal, size_t len, int64_t uid)
{
	int64_t now = store_now_ms();

	if (len != WEBAUTHN_CHALLENGE_LEN)
		return -1;
	for (size_t i = 0; i < API_PASSKEY_CHALS; i++) {
		struct api_passkey_chal *k = &api->chals[i];
		bool live = k->expires_ms > now, mine = k->uid == uid;
		if (!secure_eq(k->chal, chal, len))
			continue;
		secure_wipe(k, sizeof(*k));	/* single use, whatever follows */
		return live && mine ? 0 : -1;
	}
	return -1;
}

bool api_passkey_json_ok(struct api_ctx *c)
{
	return api_portal_post_ok(c, "application/json");
}

long api_passkey_b64(json_t *o, const char *k, uint8_t *out, size_t cap)
{
	json_t *v = json_object_get(o, k);
	const char *s = json_string_value(v);

	if (!s || json_string_length(v) != strlen(s))
		return -1;
	return enc_b64url_decode(out, cap, s, strlen(s));
}

/* The portal's JSON answers carry the portal's headers too. */
void api_passkey_reply(struct api_ctx *c, int status, json_t *o)
{
	api_portal_headers(c, "application/json");
	api_reply_json(c, status, o);
}

void api_passkey_refuse(struct api_ctx *c, int status, const char *msg)
{
	api_passkey_reply(c, status, json_pack("{s:{s:s,s:s}}", "error", "code",
					       status == 429 ? "throttled" : "refused",
					       "message", msg));
}

/* The user's handle for authenticators: the decimal id (no personal
 * data; a deleted user's passkeys go with its rows). */
static void api_passkey_handle(int64_t uid, char out[32], char b64[B64URL_LEN(32)])
{
	int n = snprintf(out, 32, "%lld", (long long)uid);

	enc_b64url_encode(b64, (const uint8_t *)out, (size_t)n);
}

/* POST /passkey/register/options. */
static void api_passkey_reg_options(struct api_ctx *c, int64_t uid, const char *name)
{
	char origin[API_PK_ORIGIN], rpid[AUTH_HOST_MAX + 1], ch[B64URL_LEN(32)], h[32],
	     hb[B64URL_LEN(32)], idb[B64URL_LEN(WEBAUTHN_CRED_ID_MAX)];
	json_t *ex = json_array();
	sqlite3_stmt *st;

	if (!ex || api_passkey_rp(c, origin, rpid) < 0 ||
	    api_passkey_chal_new(c->api, uid, ch) < 0) {
		json_decref(ex);
		api_passkey_refuse(c, 500, "Something went wrong.");
		return;
	}
	/* The user's passkeys already here: an authenticator makes no second. */
	st = store_prepare(&c->api->store, "SELECT cred_id FROM passkeys WHERE user_id = ?");
	if (st)
		sqlite3_bind_int64(st, 1, uid);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(st, 0);
		if (n == 0 || n > WEBAUTHN_CRED_ID_MAX)
			continue;
		enc_b64url_encode(idb, sqlite3_column_blob(st, 0), n);
		json_array_append_new(ex, json_pack("{s:s,s:s}", "type", "public-key", "id", idb));
	}
	sqlite3_finalize(st);
	api_passkey_handle(uid, h, hb);
	/* EdDSA first: Chromium takes the first algorithm it supports. */
	api_passkey_reply(c, 200, json_pack(
		"{s:s,s:{s:s,s:s},s:{s:s,s:s,s:s},s:[{s:s,s:i},{s:s,s:i},{s:s,s:i}],s:i,"
		"s:s,s:{s:s,s:b,s:s},s:o}",
		"challenge", ch, "rp", "id", rpid, "name", "Postern",
		"user", "id", hb, "name", name, "displayName", name,
		"pubKeyCredParams", "type", "public-key", "alg", WEBAUTHN_EDDSA,
		"type", "public-key", "alg", WEBAUTHN_ES256,
		"type", "public-key", "alg", WEBAUTHN_RS256,
		"timeout", API_PK_TIMEOUT_MS, "attestation", "none",
		"authenticatorSelection", "residentKey", "required", "requireResidentKey", 1,
		"userVerification", "required", "excludeCredentials", ex));
}

/* Stores credential `cr` of uid named `name` with its audit entry.
 * Returns the new row's id, 0 when the credential is already
 * registered (to anyone), or -1 after replying. */
static int64_t api_passkey_insert(struct api_ctx *c, int64_t uid, const char *name,
				  const struct webauthn_cred *cr)
{
	char obj[48], *after;
	json_t *ev;
	sqlite3_stmt *st;
	int64_t seq, id;
	int rc;

	if ((seq = api_tx_begin(c)) < 0)
		return -1;
	st = store_prepare(&c->api->store, "INSERT INTO passkeys(user_id, cred_id, public_key,"
			   " alg, sign_count, name, created_at, rev) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	if (!st) {
		api_tx_abort(c);
		api_passkey_refuse(c, 500, "Something went wrong.");
		return -1;
	}
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_blob(st, 2, cr->id, (int)cr->id_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, cr->cose, (int)cr->cose_len, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, cr->alg);
	sqlite3_bind_int64(st, 5, cr->counter);
	sqlite3_bind_text(st, 6, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, store_now_ms());
	sqlite3_bind_int64(st, 8, seq);	/* its ETag: the audit entry that made it */
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		api_tx_abort(c);
		return rc == SQLITE_CONSTRAINT ? 0 : -1;
	}
	id = sqlite3_last_insert_rowid(c->api->store.db);
	snprintf(obj, sizeof(obj), "passkey:%lld", (long long)id);
	ev = json_pack("{s:I,s:s,s:i}", "user_id", (json_int_t)uid, "name", name, "alg", cr->alg);
	after = ev ? json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(ev);
	rc = api_tx_commit(c, seq, "user.passkey_added", obj, "", after ? after : "");
	free(after);
	return rc < 0 ? -1 : id;
}

/* A passkey's name: 1..64 printable characters (shown in HTML escaped). */
static bool api_passkey_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > API_PK_NAME_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* POST /passkey/register: the attestation, checked to the spec, and the
 * credential bound to the portal session's user. */
static void api_passkey_register(struct api_ctx *c, int64_t uid)
{
	struct webauthn_expect e = { "webauthn.create", NULL, NULL, true };
	char origin[API_PK_ORIGIN], rpid[AUTH_HOST_MAX + 1];
	uint8_t *cdj = malloc(WEBAUTHN_CLIENT_MAX), *att = malloc(WEBAUTHN_ATT_MAX);
	struct webauthn_cred *cr = malloc(sizeof(*cr));
	struct webauthn_client cd;
	json_t *body = NULL;
	const char *name;
	char why[128];
	long cl, al;
	int64_t id;

	if (!cdj || !att || !cr || api_passkey_rp(c, origin, rpid) < 0) {
		api_passkey_refuse(c, 503, "Busy: try again.");
		goto out;
	}
	e.origin = origin;
	e.rp_id = rpid;
	body = api_json_parse(c->req->body, c->req->body_len, why, sizeof(why));
	name = json_string_value(json_object_get(body, "name"));
	cl = api_passkey_b64(body, "clientDataJSON", cdj, WEBAUTHN_CLIENT_MAX);
	al = api_passkey_b64(body, "attestationObject", att, WEBAUTHN_ATT_MAX);
	if (!body || !api_passkey_name_ok(name) || cl <= 0 || al <= 0 ||
	    webauthn_client_parse(cdj, (size_t)cl, &cd) < 0 ||
	    api_passkey_chal_take(c->api, cd.challenge, cd.challenge_len, uid) < 0 ||
	    webauthn_register_check(&e, cdj, (size_t)cl, &cd, att, (size_t)al, cr) < 0) {
		api_audit_event(c, "user.passkey_refused", c->who.actor, "");
		api_passkey_refuse(c, 400, "The passkey could not be checked; try again.");
		goto out;
	}
	id = api_passkey_insert(c, uid, name, cr);
	if (id == 0)
		api_passkey_refuse(c, 409, "This passkey is already registered.");
	else if (id > 0)
		api_passkey_reply(c, 201, json_pack("{s:I}", "id", (json_int_t)id));
out:
	json_decref(body);
	free(cdj);
	free(att);
	free(cr);
}

/* POST /login/passkey/options: any discoverable credential of this RP. */
static void api_passkey_login_options(struct api_ctx *c)
{
	char origin[API_PK_ORIGIN], rpid[AUTH_HOST_MAX + 1], ch[B64URL_LEN(32)];

	if (api_passkey_rp(c, origin, rpid) < 0 || api_passkey_chal_new(c->api, 0, ch) < 0) {
		api_passkey_refuse(c, 500, "Something went wrong.");
		return;
	}
	api_passkey_reply(c, 200, json_pack("{s:s,s:s,s:i,s:s,s:[]}", "challenge", ch,
					    "rpId", rpid, "timeout", API_PK_TIMEOUT_MS,
					    "userVerification", "required", "allowCredentials"));
}

bool api_passkey_portal(struct api_ctx *c, const char *p, bool get, bool post)
{
	struct auth_claims cl;
	char name[AUTH_NAME_MAX + 1];

	if (post && !strcmp(p, "/login/passkey/options")) {
		if (!api_passkey_json_ok(c))
			api_passkey_refuse(c, 403, "Send this from the hub's own page.");
		else
			api_passkey_login_options(c);
		return true;
	}
	if (post && !strcmp(p, "/login/passkey")) {
		api_passkey_login(c);
		return true;
	}
	if (!strcmp(p, "/passkey.js") && get) {
		api_passkey_js_reply(c);
		return true;
	}
	if (strcmp(p, "/passkey/register/options") && strcmp(p, "/passkey/register") &&
	    strcmp(p, "/passkeys") && strcmp(p, "/passkeys/remove"))
		return false;
	if (!api_portal_session(c, &cl) || api_passkey_user_name(c->api, cl.uid, name) < 0) {
		if (get) {
			api_reply_header(c, "Location: /login");
			api_portal_message(c, 303, "Log in first", "Log in to manage passkeys.");
		} else {
			api_passkey_refuse(c, 401, "Log in first.");
		}
		return true;
	}
	snprintf(c->who.actor, sizeof(c->who.actor), "user:%s", name);
	if (!strcmp(p, "/passkeys") && get)
		api_passkey_page(c, cl.uid, NULL);
	else if (!strcmp(p, "/passkeys/remove") && post)
		api_passkey_remove_form(c, cl.uid);
	else if (!post)
		api_portal_message(c, 405, "Not allowed", "Use the page's buttons.");
	else if (!api_passkey_json_ok(c))
		api_passkey_refuse(c, 403, "Send this from the hub's own page.");
	else if (!strcmp(p, "/passkey/register/options"))
		api_passkey_reg_options(c, cl.uid, name);
	else
		api_passkey_register(c, cl.uid);
	return true;
}
