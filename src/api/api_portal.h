/* api_portal.h - the login portal's pieces (internal to src/api). */
#ifndef POSTERN_API_API_PORTAL_H
#define POSTERN_API_API_PORTAL_H

#include "api/api_int.h"

/* The longest path a login returns to (it must fit a Location line). */
#define API_PORTAL_PATH_MAX 400

/* --- pages (api_portal_page.c) --- */
/* The headers every portal answer carries (CSP, no framing, no
 * Referer) with Content-Type `type`. */
void api_portal_headers(struct api_ctx *c, const char *type);
void api_portal_css_reply(struct api_ctx *c);
/* Appends `s` HTML-escaped. */
void api_portal_esc(struct buf *b, const char *s);
/* Starts a page (replacing any body) / ends it. */
void api_portal_begin(struct api_ctx *c, int status, const char *title);
/* The same for a page that loads the hub's script file `js` (CSP
 * script-src 'self' on this page only; NULL: none). */
void api_portal_begin_js(struct api_ctx *c, int status, const char *title, const char *js);
void api_portal_end(struct api_ctx *c);
/* An error paragraph (nothing for NULL); a hidden rd field (nothing for
 * NULL or ""), both escaped, and beside it the request's login state. */
void api_portal_error_p(struct buf *b, const char *error);
void api_portal_hidden_rd(struct api_ctx *c, struct buf *b, const char *rd);
/* Keeps `v` (NULL allowed) as c's login state when it has the state's
 * shape (AUTH_STATE_LEN base64url characters); anything else leaves
 * none, and the code the login ends in then logs nobody in. */
void api_portal_state_take(struct api_ctx *c, const char *v);
/* The setup page (behind the setup links) and its one script file. */
void api_portal_setup_form(struct api_ctx *c, int status, const char *error);
void api_portal_setup_js_reply(struct api_ctx *c);
/* 200 with script file text `js` (the portal's headers). */
void api_portal_script_reply(struct api_ctx *c, const char *js, size_t len);
/* A page with one paragraph of text. */
void api_portal_message(struct api_ctx *c, int status, const char *title, const char *text);
/* The login form, with an error above it and the return address `rd`
 * (already validated, or NULL) carried in a hidden field. */
void api_portal_login_form(struct api_ctx *c, int status, const char *error, const char *rd);

/* How a route host's login works: a passkey required (any route of the
 * host saying "require": "passkey"), or offered first. */
struct api_portal_login {
	bool require_passkey;
	bool passkey_first;
};
void api_portal_route_login(struct api_ctx *c, const char *host, struct api_portal_login *how);

/* Checks a return address (untrusted): "https://HOST[:port]/path" where
 * HOST is a route's host (not the portal's), and the path is safe to
 * redirect to on it. Returns 0 with the normalised host and the path, or
 * -1. No open redirect: nothing else passes. */
int api_portal_target(struct api_ctx *c, const char *rd, char host[AUTH_HOST_MAX + 1],
		      char *path, size_t plen);

/* --- the portal's shared steps (api_portal.c) --- */
/* The portal's normalised host. Returns its length or -1. */
int api_portal_hub_host(struct api_ctx *c, char host[AUTH_HOST_MAX + 1]);
/* A post of Content-Type `type` from the portal's own page (Origin). */
bool api_portal_post_ok(struct api_ctx *c, const char *type);
/* A form post from the portal's own page (type and Origin). */
bool api_portal_form_ok(struct api_ctx *c);
/* The user of a valid portal cookie (c->who.user_id and *cl filled; a
 * password session of a user who requires a passkey is none), 0 when
 * none. Checked against the store, not a snapshot. */
int64_t api_portal_session(struct api_ctx *c, struct auth_claims *cl);
/* Every factor passed ("passkey" makes a passkey session): the portal
 * cookie, the audit entry naming `factor`, and where the browser goes
 * next into loc: the route of `rd` (checked again here), /totp, or
 * /login. Returns 0, 1 when the route needs a passkey and the factor was
 * not one, or -1 (nothing replied either way). */
#define API_PORTAL_LOC 600
int api_portal_next(struct api_ctx *c, int64_t uid, uint32_t epoch, const char *factor,
		    const char *rd, char *loc, size_t len);
/* api_portal_next, then 303 there (or a 500 page). */
void api_portal_finish(struct api_ctx *c, int64_t uid, uint32_t epoch, const char *factor,
		       const char *rd);

/* ":PORT" of the hub's public URL ("" for 443), for URLs on route hosts. */
void api_portal_port(struct api_ctx *c, char ps[8]);
/* "Set-Cookie" for `name` on `host` holding the session `session`
 * (its claims; "seen" set to now) until its expiry. Returns 0 or -1. */
int api_portal_cookie(struct api_ctx *c, const char *name, const char *host,
		      const struct auth_claims *session);

/* --- share links (api_machine_run.c) --- */
/* GET /.postern/share?k= on a route host. */
void api_share_open(struct api_ctx *c);

/* --- TOTP (api_totp.c) --- */
/* The code form of a login whose password was right (a signed pending
 * token carries uid and epoch). */
void api_totp_form(struct api_ctx *c, int status, const char *error, int64_t uid,
		   uint32_t epoch, const char *rd);
/* POST /login/totp. */
void api_totp_login(struct api_ctx *c);
/* GET|POST /totp for the portal session's user. */
void api_totp_enrol(struct api_ctx *c, int64_t uid, const char *user);
/* Makes the pending secret the user's factor; ends their sessions.
 * Inside the caller's transaction. Returns 0 or -1. */
int api_totp_promote(struct api_ctx *c, int64_t uid);

/* --- passkeys (api_passkey.c, api_passkey_page.c) --- */
/* How many passkeys uid has. */
int api_passkey_count(struct api *api, int64_t uid);
/* The portal's passkey paths: true when `path` was one (replied). */
bool api_passkey_portal(struct api_ctx *c, const char *path, bool get, bool post);

#endif
