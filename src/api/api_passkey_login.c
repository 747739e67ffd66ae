/* api_passkey_login.c - POST /login/passkey: a WebAuthn assertion with
 * user verification logs in alone, no password (control thread). The
 * credential ID finds the passkey and so the user; a userHandle, when
 * sent, must be that user's. Shares the login throttle per address. */
#define LOG_SUBSYS "passkey"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_passkey.h"
#include "core/secure.h"

/* One login attempt's inputs and what the store says of the credential. */
struct api_pk_try {
	uint8_t cdj[WEBAUTHN_CLIENT_MAX], ad[WEBAUTHN_AUTHDATA_MAX], sig[WEBAUTHN_SIG_MAX],
		id[WEBAUTHN_CRED_ID_MAX], uh[64], cose[WEBAUTHN_COSE_MAX];
	long cdj_len, ad_len, sig_len, id_len, uh_len;
	size_t cose_len;
	int64_t pk_id, uid;
	uint32_t stored;
	char rd[1100];
};

/* Reads the JSON body into t. Returns 0 or -1. */
static int api_pk_try_read(struct api_ctx *c, struct api_pk_try *t)
{
	char why[128];
	json_t *b = api_json_parse(c->req->body, c->req->body_len, why, sizeof(why)), *uh;
	const char *rd;
	int rc = -1;

	if (!b)
		return -1;
	t->cdj_len = api_passkey_b64(b, "clientDataJSON", t->cdj, sizeof(t->cdj));
	t->ad_len = api_passkey_b64(b, "authenticatorData", t->ad, sizeof(t->ad));
	t->sig_len = api_passkey_b64(b, "signature", t->sig, sizeof(t->sig));
	t->id_len = api_passkey_b64(b, "id", t->id, sizeof(t->id));
	uh = json_object_get(b, "userHandle");
	t->uh_len = !uh || json_is_null(uh) ? 0 : api_passkey_b64(b, "userHandle", t->uh,
								   sizeof(t->uh));
	api_portal_state_take(c, json_string_value(json_object_get(b, "state")));
	rd = json_string_value(json_object_get(b, "rd"));
	snprintf(t->rd, sizeof(t->rd), "%s", rd && strlen(rd) < sizeof(t->rd) ? rd : "");
	if (t->cdj_len > 0 && t->ad_len > 0 && t->sig_len > 0 && t->id_len > 0 && t->uh_len >= 0)
		rc = 0;
	json_decref(b);
	return rc;
}

/* The passkey with t's credential ID: its row, user, key and counter.
 * Returns 0 or -1 (none). */
static int api_pk_try_find(struct api_ctx *c, struct api_pk_try *t)
{
	sqlite3_stmt *st = store_prepare(&c->api->store, "SELECT id, user_id, public_key,"
					 " sign_count FROM passkeys WHERE cred_id = ?");
	int rc = -1;

	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, t->id, (int)t->id_len, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		t->pk_id = sqlite3_column_int64(st, 0);
		t->uid = sqlite3_column_int64(st, 1);
		t->cose_len = (size_t)sqlite3_column_bytes(st, 2);
		t->stored = (uint32_t)sqlite3_column_int64(st, 3);
		if (t->cose_len && t->cose_len <= sizeof(t->cose)) {
			memcpy(t->cose, sqlite3_column_blob(st, 2), t->cose_len);
			rc = 0;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* The user handle, when the authenticator sent one, names the
 * credential's user (a credential of one user never logs in another). */
static bool api_pk_try_handle_ok(const struct api_pk_try *t)
{
	char h[32];
	int n = snprintf(h, sizeof(h), "%lld", (long long)t->uid);

	return t->uh_len == 0 || (t->uh_len == n && !memcmp(t->uh, h, (size_t)n));
}

/* The new counter and last use, with their audit entry. Returns 0 or
 * -1 after replying. */
static int api_pk_try_used(struct api_ctx *c, const struct api_pk_try *t, uint32_t counter)
{
	sqlite3_stmt *st;
	char obj[48];
	int64_t seq;
	int rc;

	if ((seq = api_tx_begin(c)) < 0)
		return -1;
	/* The row's counter must still be the one checked against. */
	st = store_prepare(&c->api->store, "UPDATE passkeys SET sign_count = ?2,"
			   " last_used_at = ?3 WHERE id = ?1 AND sign_count = ?4");
	rc = -1;
	if (st) {
		sqlite3_bind_int64(st, 1, t->pk_id);
		sqlite3_bind_int64(st, 2, counter);
		sqlite3_bind_int64(st, 3, store_now_ms());
		sqlite3_bind_int64(st, 4, t->stored);
		rc = sqlite3_step(st) == SQLITE_DONE &&
		     sqlite3_changes(c->api->store.db) == 1 ? 0 : -1;
		sqlite3_finalize(st);
	}
	if (rc < 0) {
		api_tx_abort(c);
		api_passkey_refuse(c, 500, "Something went wrong.");
		return -1;
	}
	snprintf(obj, sizeof(obj), "passkey:%lld", (long long)t->pk_id);
	return api_tx_commit(c, seq, "user.passkey_used", obj, "", "");
}

/* Checks the attempt; 0 with *counter, or -1. The challenge is spent
 * whatever follows. */
static int api_pk_try_check(struct api_ctx *c, struct api_pk_try *t, uint32_t *counter)
{
	struct webauthn_expect e = { "webauthn.get", NULL, NULL, true };
	char origin[API_PK_ORIGIN], rpid[AUTH_HOST_MAX + 1];
	struct webauthn_client cd;
	uint8_t flags;

	if (webauthn_client_parse(t->cdj, (size_t)t->cdj_len, &cd) < 0 ||
	    api_passkey_chal_take(c->api, cd.challenge, cd.challenge_len, 0) < 0 ||
	    api_passkey_rp(c, origin, rpid) < 0 || api_pk_try_find(c, t) < 0 ||
	    !api_pk_try_handle_ok(t) || api_login_epoch(c->api, t->uid) < 0)
		return -1;
	e.origin = origin;
	e.rp_id = rpid;
	return webauthn_assert_check(&e, t->cdj, (size_t)t->cdj_len, &cd, t->ad,
				     (size_t)t->ad_len, t->sig, (size_t)t->sig_len, t->cose,
				     t->cose_len, t->stored, counter, &flags);
}

void api_passkey_login(struct api_ctx *c)
{
	struct api_pk_try *t = calloc(1, sizeof(*t));
	char addr[AUTH_THROTTLE_KEY], loc[API_PORTAL_LOC], name[AUTH_NAME_MAX + 1];
	uint32_t counter = 0;
	int64_t epoch;

	if (!t) {
		api_passkey_refuse(c, 503, "Busy: try again.");
		return;
	}
	api_addr_key(c, "ip:", addr);
	if (!api_passkey_json_ok(c)) {
		api_passkey_refuse(c, 403, "Send this from the hub's own page.");
	} else if (api_login_throttled(c, addr) < 0) {
		api_passkey_refuse(c, 429, "Too many attempts. Wait a little and try again.");
	} else if (api_pk_try_read(c, t) < 0 || api_pk_try_check(c, t, &counter) < 0) {
		char obj[48];
		snprintf(obj, sizeof(obj), "user:%lld", (long long)t->uid);
		api_audit_event(c, "portal.login_failed", t->uid ? obj : "passkey",
				"{\"factor\":\"passkey\"}");
		api_reply_retry_after(c, api_login_failed(c, addr));
		api_passkey_refuse(c, 401, "That passkey was not accepted.");
	} else if (api_passkey_user_name(c->api, t->uid, name) == 0 &&
		   (epoch = api_login_epoch(c->api, t->uid)) >= 0) {
		c->who.user_id = t->uid;
		snprintf(c->who.actor, sizeof(c->who.actor), "user:%s", name);
		if (api_pk_try_used(c, t, counter) == 0) {
			if (api_portal_next(c, t->uid, (uint32_t)epoch, "passkey", t->rd, loc,
					    sizeof(loc)) != 0)
				api_passkey_refuse(c, 500, "Something went wrong.");
			else
				api_passkey_reply(c, 200, json_pack("{s:s}", "location", loc));
			secure_wipe(loc, sizeof(loc));
		}
	} else {
		api_passkey_refuse(c, 401, "That passkey was not accepted.");
	}
	secure_free(t, sizeof(*t));
}
