/* api_totp.c - the portal's TOTP second factor (control thread):
 * enrolment (a QR code and the secret shown for typing, confirmed with a
 * first code) and the second step of a login.
 *
 * Between the password and the code the browser holds a "pending" token:
 * the session token format (auth_cookie.h) signed for the pseudo-host
 * "totp.HUB" under the pending domain tag (auth_pending_mint: a route
 * whose host is totp.HUB, or a wildcard over it, must not take it for a
 * session), valid five minutes, carried in a hidden form field (never
 * a URL). It proves the password was right; only the code turns it into
 * a portal session. The secret is sealed in the store (secrets, owner
 * "user"); the last accepted step is kept so a code works once. */
#define LOG_SUBSYS "portal"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qrencode.h>

#include "api/api_portal.h"
#include "auth/auth_totp.h"
#include "core/secure.h"
#include "http/form.h"

#define API_TOTP_PENDING_S 300
#define API_TOTP_RECOVERY 10
#define API_TOTP_RCODE 20	/* "xxxx-xxxx-xxxx-xxxx" + NUL: 80 bits */

/* Ten new one-time recovery codes for uid (replacing any), their hashes
 * stored, the codes into out for showing once. Inside the caller's
 * transaction. Returns 0 or -1. */
static int api_totp_recovery_new(struct api_ctx *c, int64_t uid,
				 char out[API_TOTP_RECOVERY][API_TOTP_RCODE])
{
	static const char a[] = "abcdefghijkmnpqrstuvwxyz23456789";	/* 32, no l/o/0/1 */
	uint8_t raw[16];
	char hash[65];
	int rc = -1;

	/* The old codes must go, or they would stay valid beside the new. */
	if (store_exec_i64(&c->api->store, "DELETE FROM user_recovery_codes WHERE user_id = ?",
			   &uid, 1) < 0)
		return -1;
	for (int i = 0; i < API_TOTP_RECOVERY; i++) {
		if (secure_random(raw, sizeof(raw)) < 0)
			goto out;
		for (int k = 0, n = 0; k < 16; k++) {
			out[i][n++] = a[raw[k] & 31];
			if (k % 4 == 3 && k < 15)
				out[i][n++] = '-';
		}
		out[i][API_TOTP_RCODE - 1] = 0;
		api_hash_token(out[i], hash);
		if (store_exec_args(&c->api->store, "INSERT INTO user_recovery_codes(user_id,"
				    " hash, created_at) VALUES (?, ?, ?)",
				    (struct store_arg[]){ STORE_I(uid), STORE_T(hash),
							  STORE_I(store_now_ms()) }, 3) < 0)
			goto out;
	}
	rc = 0;
out:
	secure_wipe(raw, sizeof(raw));
	return rc;
}

/* Spends recovery code `code` of uid (any case, dashes optional).
 * Returns 0 when it was one, -1 otherwise. */
static int api_totp_recovery_use(struct api_ctx *c, int64_t uid, const char *code)
{
	char norm[API_TOTP_RCODE], hash[65];
	size_t n = 0, k = 0;

	for (const char *p = code; *p; p++) {
		char ch = str_lower_ascii(*p);
		if (ch == '-' || ch == ' ')
			continue;
		if (k == 16)
			return -1;
		if (k && k % 4 == 0)
			norm[n++] = '-';
		norm[n++] = ch;
		k++;
	}
	if (k != 16)
		return -1;
	norm[n] = 0;
	api_hash_token(norm, hash);
	secure_wipe(norm, sizeof(norm));
	return store_exec_args(&c->api->store, "DELETE FROM user_recovery_codes WHERE user_id = ?"
			       " AND hash = ?", (struct store_arg[]){ STORE_I(uid), STORE_T(hash) },
			       2) == 1 ? 0 : -1;
}

/* After enrolment: the recovery codes, shown this once. */
static void api_totp_enrolled_page(struct api_ctx *c,
				   char codes[API_TOTP_RECOVERY][API_TOTP_RCODE])
{
	struct buf *b = &c->resp->body;

	api_portal_begin(c, 200, "Authenticator added");
	buf_printf(b, "<p>From now on, logging in asks for a code from your app. If you lose "
		   "it, each of these recovery codes works once instead of a code. Keep them "
		   "somewhere safe: they are not shown again.</p><ul id=\"recovery\">");
	for (int i = 0; i < API_TOTP_RECOVERY; i++)
		buf_printf(b, "<li><code>%s</code></li>", codes[i]);
	buf_printf(b, "</ul><p><a href=\"/login\">Log in again</a></p>");
	api_portal_end(c);
}

static int api_totp_pseudo_host(struct api_ctx *c, char out[AUTH_HOST_MAX + 1])
{
	char hub[AUTH_HOST_MAX + 1];
	int n = api_portal_hub_host(c, hub);

	if (n < 0 || (size_t)n + 5 > AUTH_HOST_MAX)
		return -1;
	memcpy(out, "totp.", 5);
	memcpy(out + 5, hub, (size_t)n + 1);
	return 0;
}

bool api_totp_enrolled(struct api *api, int64_t uid)
{
	return store_query_int_arg(&api->store, "SELECT totp FROM users WHERE id = ?", uid, 0,
				   0) != 0;
}

void api_totp_form(struct api_ctx *c, int status, const char *error, int64_t uid,
		   uint32_t epoch, const char *rd)
{
	struct auth_claims cl = { .uid = uid, .epoch = epoch,
				  .exp = (int64_t)time(NULL) + API_TOTP_PENDING_S,
				  .seen = (int64_t)time(NULL) };
	char host[AUTH_HOST_MAX + 1], tok[AUTH_TOKEN_MAX];
	uint8_t key[AUTH_KEY_LEN];
	struct buf *b = &c->resp->body;

	if (api_totp_pseudo_host(c, host) < 0 || api_login_key(c->api, key) < 0 ||
	    auth_pending_mint(key, host, &cl, tok) < 0) {
		secure_wipe(key, sizeof(key));
		api_portal_message(c, 500, "Something went wrong", "Please try again.");
		return;
	}
	secure_wipe(key, sizeof(key));
	api_portal_begin(c, status, "Authentication code");
	api_portal_error_p(b, error);
	buf_printf(b, "<form method=\"post\" action=\"/login/totp\">"
		   "<label for=\"c\">The 6-digit code from your authenticator app, or a"
		   " recovery code</label>"
		   "<input id=\"c\" name=\"code\" autocomplete=\"one-time-code\""
		   " maxlength=\"24\" required autofocus>"
		   "<input type=\"hidden\" name=\"pending\" value=\"%s\">", tok);
	api_portal_hidden_rd(c, b, rd);
	buf_printf(b, "<button type=\"submit\">Continue</button></form>");
	api_portal_end(c);
	secure_wipe(tok, sizeof(tok));
}

/* Checks `code` against user uid's secret `name` ("totp" or
 * "totp_pending") and, on success, records the step. Returns 0 or -1. */
static int api_totp_verify(struct api_ctx *c, int64_t uid, const char *name, const char *code)
{
	uint8_t *sec = NULL;
	size_t len = 0;
	int64_t last, step;
	int rc;
	sqlite3_stmt *st;

	if (secret_get(&c->api->store, &c->api->keys, "user", uid, name, &sec, &len) < 0)
		return -1;
	last = 0;
	st = store_prepare(&c->api->store, "SELECT totp_last_step FROM users WHERE id = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, uid);
		if (sqlite3_step(st) == SQLITE_ROW)
			last = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	rc = auth_totp_check(sec, len, code, (int64_t)time(NULL), last, &step);
	secure_free(sec, len + 1);
	if (rc < 0)
		return -1;
	st = store_prepare(&c->api->store, "UPDATE users SET totp_last_step = ?2 WHERE id = ?1"
			   " AND totp_last_step < ?2");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_int64(st, 2, step);
	rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(c->api->store.db) == 1 ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

int api_totp_second(struct api_ctx *c, int64_t uid, const char *code)
{
	bool rcode = strlen(code) > AUTH_TOTP_DIGITS;

	return rcode ? api_totp_recovery_use(c, uid, code) : api_totp_verify(c, uid, "totp", code);
}

bool api_totp_required(struct api *api, int64_t uid)
{
	if (!api_setting_int(api, "login.admin_second_factor"))
		return false;
	/* Cannot tell: ask for it. */
	return store_query_int_arg(&api->store, "SELECT role = 'admin' FROM users WHERE id = ?",
				   uid, 0, 1) != 0;
}

void api_totp_login(struct api_ctx *c)
{
	char pending[AUTH_TOKEN_MAX], code[32], rd[1100], host[AUTH_HOST_MAX + 1],
	     addr[AUTH_THROTTLE_KEY], acct[AUTH_THROTTLE_KEY], name[32];
	struct str body = str_make((const char *)c->req->body, c->req->body_len);
	uint8_t key[AUTH_KEY_LEN];
	struct auth_claims cl;
	int64_t seq;
	bool ok, rcode;

	if (!api_portal_form_ok(c)) {
		api_portal_message(c, 403, "Refused", "This form must be sent from the hub's own "
				   "login page.");
		return;
	}
	if (http_form_get(body, "pending", pending, sizeof(pending)) <= 0 ||
	    http_form_get(body, "code", code, sizeof(code)) < 0 ||
	    api_totp_pseudo_host(c, host) < 0 || api_login_key(c->api, key) < 0) {
		api_portal_login_form(c, 400, "Log in again.", NULL);
		return;
	}
	ok = auth_pending_verify(key, host, str_cstr(pending), (int64_t)time(NULL), &cl) == 0 &&
	     api_login_epoch(c->api, cl.uid) == (int64_t)cl.epoch;
	secure_wipe(key, sizeof(key));
	if (http_form_get(body, "rd", rd, sizeof(rd)) < 0)
		rd[0] = 0;
	if (!ok) {
		api_portal_login_form(c, 400, "That took too long; log in again.", NULL);
		return;
	}
	/* The code is a secret too: the same throttle, per address and per
	 * account from the address. */
	snprintf(name, sizeof(name), "totp:%lld@ip:", (long long)cl.uid);
	api_addr_key(c, "ip:", addr);
	api_addr_key(c, name, acct);
	if (api_login_throttled(c, addr) < 0 || api_login_throttled(c, acct) < 0) {
		api_portal_message(c, 429, "Too many attempts", "Wait a little and log in again.");
		return;
	}
	c->who.user_id = cl.uid;
	snprintf(c->who.actor, sizeof(c->who.actor), "user:%lld", (long long)cl.uid);
	if ((seq = api_tx_begin(c)) < 0)
		return;
	rcode = strlen(code) > AUTH_TOTP_DIGITS;
	if (api_totp_second(c, cl.uid, code) < 0) {
		api_tx_abort(c);
		api_audit_event(c, "portal.login_failed", c->who.actor, rcode
				? "{\"factor\":\"recovery_code\"}" : "{\"factor\":\"totp\"}");
		api_reply_retry_after(c, api_login_failed(c, addr));
		api_login_failed(c, acct);
		api_totp_form(c, 401, "Wrong or already used code.", cl.uid, cl.epoch, rd);
		return;
	}
	if (api_tx_commit(c, seq, rcode ? "user.recovery_code_used" : "portal.totp_step",
			  c->who.actor, "", "") < 0)
		return;
	auth_throttle_clear(&c->api->throttle, acct);
	api_portal_finish(c, cl.uid, cl.epoch, rcode ? "recovery_code" : "totp", rd);
}

/* The QR code of `uri` as inline SVG (no script, no fetch). */
static void api_totp_qr(struct buf *b, const char *uri)
{
	QRcode *q = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int w;

	if (!q)
		return;
	w = q->width;
	buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\""
		   " width=\"240\" height=\"240\" role=\"img\" aria-label=\"QR code\">"
		   "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
		   w + 8, w + 8, w + 8, w + 8);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w; x++)
			if (q->data[y * w + x] & 1)
				buf_printf(b, "M%d %dh1v1h-1z", x + 4, y + 4);
	buf_printf(b, "\"/></svg>");
	QRcode_free(q);
}

/* GET /totp: a new secret (sealed as pending) shown as a QR code and as
 * text; POST /totp with a first code makes it the user's factor. */
void api_totp_enrol(struct api_ctx *c, int64_t uid, const char *user)
{
	uint8_t sec[AUTH_TOTP_SECRET];
	char b32[AUTH_TOTP_B32], uri[256], code[16], codes[API_TOTP_RECOVERY][API_TOTP_RCODE];
	struct str body = str_make((const char *)c->req->body, c->req->body_len);
	struct buf *b = &c->resp->body;
	int64_t seq;

	snprintf(c->who.actor, sizeof(c->who.actor), "user:%s", user);
	if (!strcmp(c->req->method, "POST")) {
		if (!api_portal_form_ok(c) || http_form_get(body, "code", code, sizeof(code)) < 0) {
			api_portal_message(c, 403, "Refused", "Send the form from the hub's page.");
			return;
		}
		if ((seq = api_tx_begin(c)) < 0)
			return;
		if (api_totp_verify(c, uid, "totp_pending", code) < 0) {
			api_tx_abort(c);
			api_portal_message(c, 400, "Wrong code", "That code does not match; open "
					   "this page again to start over.");
			return;
		}
		if (api_totp_promote(c, uid) < 0) {
			api_tx_abort(c);
			api_portal_message(c, 500, "Something went wrong", "Please try again.");
			return;
		}
		if (api_totp_recovery_new(c, uid, codes) < 0) {
			api_tx_abort(c);
			api_portal_message(c, 500, "Something went wrong", "Please try again.");
			return;
		}
		if (api_tx_commit(c, seq, "user.totp_enrolled", c->who.actor, "", "") == 0)
			api_totp_enrolled_page(c, codes);
		secure_wipe(codes, sizeof(codes));
		return;
	}
	if (secure_random(sec, sizeof(sec)) < 0 || (seq = api_tx_begin(c)) < 0)
		return;
	if (secret_put(&c->api->store, &c->api->keys, "user", uid, "totp_pending", sec,
		       sizeof(sec)) < 0 ||
	    api_tx_commit(c, seq, "user.totp_started", c->who.actor, "", "") < 0) {
		secure_wipe(sec, sizeof(sec));
		api_portal_message(c, 500, "Something went wrong", "Please try again.");
		return;
	}
	auth_totp_b32(b32, sec);
	secure_wipe(sec, sizeof(sec));
	snprintf(uri, sizeof(uri), "otpauth://totp/Postern:%s?secret=%s&issuer=Postern", user, b32);
	api_portal_begin(c, 200, "Add an authenticator");
	buf_printf(b, "<p>Scan this with your authenticator app, or type the key.</p>");
	api_totp_qr(b, uri);
	buf_printf(b, "<p>Key: <code id=\"secret\">%s</code></p>"
		   "<form method=\"post\" action=\"/totp\"><label for=\"c\">The code it shows"
		   "</label><input id=\"c\" name=\"code\" inputmode=\"numeric\""
		   " autocomplete=\"one-time-code\" maxlength=\"6\" required>"
		   "<button type=\"submit\">Confirm</button></form>", b32);
	api_portal_end(c);
	secure_wipe(b32, sizeof(b32));
	secure_wipe(uri, sizeof(uri));
}

int api_totp_promote(struct api_ctx *c, int64_t uid)
{
	uint8_t *sec = NULL;
	size_t len = 0;
	int rc = -1;

	if (secret_get(&c->api->store, &c->api->keys, "user", uid, "totp_pending", &sec,
		       &len) < 0)
		return -1;
	if (secret_put(&c->api->store, &c->api->keys, "user", uid, "totp", sec, len) == 0 &&
	    secret_delete(&c->api->store, "user", uid, "totp_pending") == 0)
		rc = api_login_revoke(c, uid);	/* a new factor ends old sessions */
	secure_free(sec, len + 1);
	if (rc == 0)
		rc = store_exec_i64(&c->api->store, "UPDATE users SET totp = 1 WHERE id = ?",
				    &uid, 1);
	return rc;
}
