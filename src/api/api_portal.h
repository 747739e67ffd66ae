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
void api_portal_end(struct api_ctx *c);
/* An error paragraph (nothing for NULL); a hidden rd field (nothing for
 * NULL or ""), both escaped. */
void api_portal_error_p(struct buf *b, const char *error);
void api_portal_hidden_rd(struct buf *b, const char *rd);
/* The setup page (behind the setup links) and its one script file. */
void api_portal_setup_form(struct api_ctx *c, int status, const char *error);
void api_portal_setup_js_reply(struct api_ctx *c);
/* A page with one paragraph of text. */
void api_portal_message(struct api_ctx *c, int status, const char *title, const char *text);
/* The login form, with an error above it and the return address `rd`
 * (already validated, or NULL) carried in a hidden field. */
void api_portal_login_form(struct api_ctx *c, int status, const char *error, const char *rd);

/* Checks a return address (untrusted): "https://HOST[:port]/path" where
 * HOST is a route's host (not the portal's), and the path is safe to
 * redirect to on it. Returns 0 with the normalised host and the path, or
 * -1. No open redirect: nothing else passes. */
int api_portal_target(struct api_ctx *c, const char *rd, char host[AUTH_HOST_MAX + 1],
		      char *path, size_t plen);

/* --- the portal's shared steps (api_portal.c) --- */
/* The portal's normalised host. Returns its length or -1. */
int api_portal_hub_host(struct api_ctx *c, char host[AUTH_HOST_MAX + 1]);
/* A form post from the portal's own page (type and Origin). */
bool api_portal_form_ok(struct api_ctx *c);
/* Every factor passed: the portal cookie, the audit entry naming
 * `factor`, and on to `rd` (checked again here) or to /login. */
void api_portal_finish(struct api_ctx *c, int64_t uid, uint32_t epoch, const char *factor,
		       const char *rd);

/* ":PORT" of the hub's public URL ("" for 443), for URLs on route hosts. */
void api_portal_port(struct api_ctx *c, char ps[8]);
/* "Set-Cookie" for `name` holding a session of (uid, epoch) on `host`
 * until unix time `exp`. Returns 0 or -1. */
int api_portal_cookie_until(struct api_ctx *c, const char *name, const char *host,
			    int64_t uid, uint32_t epoch, int64_t exp);

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

#endif
