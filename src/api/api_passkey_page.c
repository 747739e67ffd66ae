/* api_passkey_page.c - managing passkeys: the portal's page and script,
 * removal, and the admin API's list and delete (control thread). */
#define LOG_SUBSYS "passkey"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_passkey.h"
#include "core/num.h"
#include "http/form.h"

/* The portal's only WebAuthn code: a file (CSP script-src 'self', never
 * inline). It turns the hub's options into the browser's binary form,
 * calls navigator.credentials, and posts base64url JSON back. */
static const char api_passkey_js[] =
	"\"use strict\";\n"
	"(function () {\n"
	"  function b64u(buf) {\n"
	"    var s = \"\", b = new Uint8Array(buf);\n"
	"    for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);\n"
	"    return btoa(s).replace(/\\+/g, \"-\").replace(/\\//g, \"_\").replace(/=+$/, \"\");\n"
	"  }\n"
	"  function unb64u(s) {\n"
	"    s = s.replace(/-/g, \"+\").replace(/_/g, \"/\");\n"
	"    while (s.length % 4) s += \"=\";\n"
	"    var r = atob(s), b = new Uint8Array(r.length);\n"
	"    for (var i = 0; i < r.length; i++) b[i] = r.charCodeAt(i);\n"
	"    return b;\n"
	"  }\n"
	"  function post(url, body) {\n"
	"    return fetch(url, { method: \"POST\", credentials: \"same-origin\",\n"
	"      headers: { \"Content-Type\": \"application/json\" },\n"
	"      body: JSON.stringify(body || {}) }).then(function (r) {\n"
	"      return r.json().then(function (j) {\n"
	"        if (!r.ok) throw new Error(j.error ? j.error.message : \"Refused.\");\n"
	"        return j;\n"
	"      });\n"
	"    });\n"
	"  }\n"
	"  function fail(e) {\n"
	"    var p = document.getElementById(\"pk-err\");\n"
	"    if (p) { p.textContent = String(e && e.message ? e.message : e); p.hidden = false; }\n"
	"  }\n"
	"  var login = document.getElementById(\"pk-login\");\n"
	"  if (login) login.addEventListener(\"submit\", function (ev) {\n"
	"    ev.preventDefault();\n"
	"    var rd = login.querySelector(\"input[name=rd]\");\n"
	"    var st = login.querySelector(\"input[name=state]\");\n"
	"    post(\"/login/passkey/options\").then(function (o) {\n"
	"      return navigator.credentials.get({ publicKey: { challenge: unb64u(o.challenge),\n"
	"        rpId: o.rpId, timeout: o.timeout, userVerification: o.userVerification,\n"
	"        allowCredentials: [] } });\n"
	"    }).then(function (cr) {\n"
	"      var r = cr.response;\n"
	"      return post(\"/login/passkey\", { id: cr.id, rd: rd ? rd.value : \"\",\n"
	"        state: st ? st.value : \"\",\n"
	"        clientDataJSON: b64u(r.clientDataJSON),\n"
	"        authenticatorData: b64u(r.authenticatorData), signature: b64u(r.signature),\n"
	"        userHandle: r.userHandle ? b64u(r.userHandle) : null });\n"
	"    }).then(function (j) { location.assign(j.location); }, fail);\n"
	"  });\n"
	"  var add = document.getElementById(\"pk-add\");\n"
	"  if (add) add.addEventListener(\"submit\", function (ev) {\n"
	"    ev.preventDefault();\n"
	"    post(\"/passkey/register/options\").then(function (o) {\n"
	"      o.challenge = unb64u(o.challenge);\n"
	"      o.user.id = unb64u(o.user.id);\n"
	"      o.excludeCredentials.forEach(function (c) { c.id = unb64u(c.id); });\n"
	"      return navigator.credentials.create({ publicKey: o });\n"
	"    }).then(function (cr) {\n"
	"      return post(\"/passkey/register\", { id: cr.id,\n"
	"        name: add.querySelector(\"input[name=name]\").value,\n"
	"        clientDataJSON: b64u(cr.response.clientDataJSON),\n"
	"        attestationObject: b64u(cr.response.attestationObject) });\n"
	"    }).then(function () { location.assign(\"/passkeys\"); }, fail);\n"
	"  });\n"
	"})();\n";

void api_passkey_js_reply(struct api_ctx *c)
{
	api_portal_script_reply(c, api_passkey_js, sizeof(api_passkey_js) - 1);
}

int api_passkey_user_name(struct api *api, int64_t uid, char name[AUTH_NAME_MAX + 1])
{
	sqlite3_stmt *st = api_row(api, "SELECT name FROM users WHERE id = ?", STORE_I(uid));

	if (!st)
		return -1;
	snprintf(name, AUTH_NAME_MAX + 1, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

static const char *api_passkey_alg_name(int alg)
{
	return alg == WEBAUTHN_EDDSA ? "EdDSA" : alg == WEBAUTHN_ES256 ? "ES256" : "RS256";
}

void api_passkey_page(struct api_ctx *c, int64_t uid, const char *msg)
{
	struct buf *b = &c->resp->body;
	sqlite3_stmt *st = store_prepare(&c->api->store, "SELECT id, name, alg FROM passkeys"
					 " WHERE user_id = ? ORDER BY id");
	int n = 0;

	api_portal_begin_js(c, 200, "Passkeys", "/passkey.js");
	api_portal_error_p(b, msg);
	buf_printf(b, "<ul id=\"passkeys\">");
	if (st)
		sqlite3_bind_int64(st, 1, uid);
	while (st && sqlite3_step(st) == SQLITE_ROW) {
		buf_printf(b, "<li data-id=\"%lld\">", (long long)sqlite3_column_int64(st, 0));
		api_portal_esc(b, (const char *)sqlite3_column_text(st, 1));
		buf_printf(b, " (%s)<form method=\"post\" action=\"/passkeys/remove\">"
			   "<input type=\"hidden\" name=\"id\" value=\"%lld\">"
			   "<button type=\"submit\">Remove</button></form></li>",
			   api_passkey_alg_name(sqlite3_column_int(st, 2)),
			   (long long)sqlite3_column_int64(st, 0));
		n++;
	}
	sqlite3_finalize(st);
	buf_printf(b, "</ul>%s<form id=\"pk-add\" method=\"post\" action=\"/passkeys\">"
		   "<p class=\"err\" id=\"pk-err\" hidden></p>"
		   "<label for=\"n\">Name for the new passkey</label>"
		   "<input id=\"n\" name=\"name\" maxlength=\"64\" required value=\"passkey\">"
		   "<button type=\"submit\" id=\"pk-add-button\">Add a passkey</button></form>"
		   "<p><a href=\"/login\">Back</a></p>",
		   n ? "" : "<p id=\"no-passkeys\">No passkey yet.</p>");
	api_portal_end(c);
}

int api_passkey_delete(struct api_ctx *c, int64_t id, int64_t uid)
{
	sqlite3_stmt *st;
	int64_t seq, owner = 0;
	char obj[48], after[64];
	int rc;

	if ((seq = api_tx_begin(c)) < 0)
		return -1;
	/* The API's DELETE honours If-Match (the row's rev), the portal's
	 * form sends none. */
	if (c->req->if_match &&
	    (st = store_prepare(&c->api->store, "SELECT rev FROM passkeys WHERE id = ?1"
				" AND (?2 = 0 OR user_id = ?2)"))) {
		int64_t rev = 0;

		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, uid);
		if (sqlite3_step(st) == SQLITE_ROW)
			rev = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (rev > 0 && api_if_match(c, rev, false) < 0) {
			api_tx_abort(c);
			return -1;
		}
	}
	st = store_prepare(&c->api->store, "DELETE FROM passkeys WHERE id = ?1 AND"
			   " (?2 = 0 OR user_id = ?2) RETURNING user_id");
	rc = -1;
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, uid);
		rc = sqlite3_step(st);
		owner = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(st);
	}
	if (rc < 0 || !owner) {
		api_tx_abort(c);
		if (rc < 0)
			api_reply_error(c, 500, "internal", NULL, "internal error");
		return rc < 0 ? -1 : 0;
	}
	snprintf(obj, sizeof(obj), "passkey:%lld", (long long)id);
	snprintf(after, sizeof(after), "{\"user_id\":%lld}", (long long)owner);
	return api_tx_commit(c, seq, "user.passkey_removed", obj, "", after) < 0 ? -1 : 1;
}

void api_passkey_remove_form(struct api_ctx *c, int64_t uid)
{
	char idt[24];
	uint64_t id;
	int rc;

	if (!api_portal_form_ok(c)) {
		api_portal_message(c, 403, "Refused", "Send the form from the hub's own page.");
		return;
	}
	if (http_form_get(str_make((const char *)c->req->body, c->req->body_len), "id", idt,
			  sizeof(idt)) <= 0 ||
	    num_parse_u64(idt, strlen(idt), 1, INT64_MAX, &id) < 0) {
		api_passkey_page(c, uid, "No such passkey.");
		return;
	}
	rc = api_passkey_delete(c, (int64_t)id, uid);
	if (rc < 0)
		return;
	api_reply_header(c, "Location: /passkeys");
	api_portal_message(c, 303, rc ? "Passkey removed" : "No such passkey", "Back to the list.");
}

/* GET /api/v1/users/{id}/passkeys. */
void api_passkey_api_list(struct api_ctx *c)
{
	sqlite3_stmt *st = store_prepare(&c->api->store, "SELECT id, name, alg, sign_count,"
					 " created_at, last_used_at FROM passkeys WHERE"
					 " user_id = ? ORDER BY id");
	json_t *items = json_array();
	char name[AUTH_NAME_MAX + 1];

	if (api_passkey_user_name(c->api, c->id, name) < 0) {
		sqlite3_finalize(st);
		json_decref(items);
		api_reply_error(c, 404, "not_found", NULL, "no user %lld", (long long)c->id);
		return;
	}
	if (st)
		sqlite3_bind_int64(st, 1, c->id);
	while (st && items && sqlite3_step(st) == SQLITE_ROW) {
		json_t *last = sqlite3_column_type(st, 5) == SQLITE_NULL ? json_null()
			       : json_integer(sqlite3_column_int64(st, 5));
		json_array_append_new(items, json_pack(
			"{s:I,s:s,s:s,s:I,s:I,s:o}", "id", (json_int_t)sqlite3_column_int64(st, 0),
			"name", (const char *)sqlite3_column_text(st, 1),
			"alg", api_passkey_alg_name(sqlite3_column_int(st, 2)),
			"sign_count", (json_int_t)sqlite3_column_int64(st, 3),
			"created_at", (json_int_t)sqlite3_column_int64(st, 4), "last_used_at", last));
	}
	sqlite3_finalize(st);
	api_reply_json(c, 200, json_pack("{s:o}", "items", items));
}

/* DELETE /api/v1/passkeys/{id}. */
void api_passkey_api_delete(struct api_ctx *c)
{
	int rc = api_passkey_delete(c, c->id, 0);

	if (rc == 0)
		api_reply_error(c, 404, "not_found", NULL, "no passkey %lld", (long long)c->id);
	else if (rc > 0)
		api_reply_empty(c, 204);
}
