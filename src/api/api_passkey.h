/* api_passkey.h - passkeys on the portal and the API (internal to
 * src/api; docs/auth.md, "Passkeys"). */
#ifndef POSTERN_API_API_PASSKEY_H
#define POSTERN_API_API_PASSKEY_H

#include "api/api_portal.h"
#include "auth/webauthn.h"

#define API_PK_ORIGIN 300

/* The hub's WebAuthn origin ("https://host[:port]", lower case) and RP
 * ID (the host) from its public URL. Returns 0 or -1. */
int api_passkey_rp(struct api_ctx *c, char origin[API_PK_ORIGIN], char rpid[AUTH_HOST_MAX + 1]);
/* Takes challenge `chal` issued for uid (0: a login): once, before it
 * expires; a challenge presented for another user is spent too.
 * Returns 0 or -1. */
int api_passkey_chal_take(struct api *api, const uint8_t *chal, size_t len, int64_t uid);
/* A JSON post from the hub's own page (type and Origin). */
bool api_passkey_json_ok(struct api_ctx *c);
/* The base64url string member k of o decoded into out. Returns its
 * length, or < 0. */
long api_passkey_b64(json_t *o, const char *k, uint8_t *out, size_t cap);
/* JSON answers with the portal's headers; a refusal with a message. */
void api_passkey_reply(struct api_ctx *c, int status, json_t *o);
void api_passkey_refuse(struct api_ctx *c, int status, const char *msg);

/* POST /login/passkey (api_passkey_login.c). */
void api_passkey_login(struct api_ctx *c);

/* --- api_passkey_page.c --- */
/* The name of user uid into name. Returns 0 or -1. */
int api_passkey_user_name(struct api *api, int64_t uid, char name[AUTH_NAME_MAX + 1]);
/* GET /passkeys: the user's passkeys, add and remove. */
void api_passkey_page(struct api_ctx *c, int64_t uid, const char *msg);
/* POST /passkeys/remove (form: id). */
void api_passkey_remove_form(struct api_ctx *c, int64_t uid);
/* GET /passkey.js: the portal's WebAuthn script. */
void api_passkey_js_reply(struct api_ctx *c);
/* Deletes passkey `id` (of uid, or of anyone when uid is 0) with its
 * audit entry, inside a transaction of its own. Returns 1 when deleted,
 * 0 when there was none, -1 after replying 500. */
int api_passkey_delete(struct api_ctx *c, int64_t id, int64_t uid);

#endif
