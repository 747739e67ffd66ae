/* api_portal.c - the login portal on the hub's own host, and the route
 * callback that trades its one-time code for a route cookie (control
 * thread; see docs/auth.md).
 *
 *   GET  /login[?rd=URL]  the form, or (already logged in to the portal)
 *                          straight on to the route with a new code
 *   POST /login           user name + password (the API's throttle and
 *                          password threads), then the portal cookie and
 *                          303 to https://ROUTE/.postern/callback?code=
 *   GET|POST /logout      the buttons / the end of this login session, or with
 *                          scope=everywhere of every session of the user
 *   GET  /.postern/callback?code=  on a route host: the route cookie */
#define LOG_SUBSYS "portal"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api_passkey.h"
#include "api/api_portal.h"
#include "api/api_resource.h"
#include "auth/auth_creds.h"
#include "auth/password.h"
#include "core/enc.h"
#include "core/log.h"
#include "core/secure.h"
#include "http/form.h"

#define API_PORTAL_FIELD 1100	/* a decoded form field (rd, user name) */

static struct str api_portal_str(const char *s)
{
	return s ? str_cstr(s) : STR_NULL;
}

static struct str api_portal_body(struct api_ctx *c)
{
	return str_make((const char *)c->req->body, c->req->body_len);
}

/* ":PORT" of the hub's public URL ("" for 443), for URLs on route hosts:
 * every host is served by the same HTTPS listener. */
void api_portal_port(struct api_ctx *c, char ps[8])
{
	char url[320];
	const char *colon, *a;

	api_public_url(c, url, sizeof(url));
	a = strncmp(url, "https://", 8) ? url : url + 8;
	colon = a[0] == '[' ? strstr(a, "]:") : strchr(a, ':');
	ps[0] = 0;
	if (colon && strlen(colon + (a[0] == '[')) < 8)
		snprintf(ps, 8, "%s", colon + (a[0] == '['));
}

/* The portal's normalised host (the request's: the pipeline sends only
 * the hub's own name here). */
int api_portal_hub_host(struct api_ctx *c, char host[AUTH_HOST_MAX + 1])
{
	return auth_host_norm(api_portal_str(c->req->host), host);
}

int api_portal_cookie(struct api_ctx *c, const char *name, const char *host,
		      const struct auth_claims *session)
{
	int64_t now = (int64_t)time(NULL), life = session->exp - now;
	struct auth_claims cl = *session;
	uint8_t key[AUTH_KEY_LEN];
	char tok[AUTH_TOKEN_MAX];
	int rc = -1;

	cl.seen = now;
	if (api_login_key(c->api, key) == 0 && auth_cookie_mint(NULL, key, host, &cl, tok) > 0) {
		api_reply_header(c, "Set-Cookie: %s=%s; Path=/; Max-Age=%lld; Secure; HttpOnly;"
				 " SameSite=Lax", name, tok, (long long)life);
		rc = 0;
	}
	secure_wipe(key, sizeof(key));
	secure_wipe(tok, sizeof(tok));
	return rc;
}

/* The portal's cookie, like a route's, is re-issued (same expiry, "seen"
 * now) on a response once a quarter of the idle time has passed since it
 * was last seen (docs/auth.md): the portal sees it on each route login. */
static void api_portal_refresh(struct api_ctx *c, const char *host, const struct auth_claims *cl)
{
	int64_t idle = api_setting_int(c->api, "session.idle_timeout");
	int64_t every = idle / AUTH_REFRESH_DIV;

	if ((int64_t)time(NULL) - cl->seen >= (every > 0 ? every : 1))
		api_portal_cookie(c, AUTH_COOKIE_PORTAL, host, cl);
}

int64_t api_portal_session(struct api_ctx *c, struct auth_claims *out)
{
	struct str v = api_portal_str(c->req->cookie), tok;
	char host[AUTH_HOST_MAX + 1];
	uint8_t key[AUTH_KEY_LEN];
	struct auth_claims cl;
	int64_t found = 0;

	if (api_portal_hub_host(c, host) < 0 || api_login_key(c->api, key) < 0)
		return 0;
	while (!found && auth_cookie_find(v, STR_LIT(AUTH_COOKIE_PORTAL), &tok)) {
		if (auth_cookie_verify(NULL, key, host, tok, (int64_t)time(NULL), &cl) == 0 &&
		    api_login_epoch(c->api, cl.uid) == (int64_t)cl.epoch &&
		    auth_idle_ok(api_setting_int(c->api, "session.idle_timeout"), cl.seen,
				 (int64_t)time(NULL)) &&
		    (cl.passkey || !api_passkey_required(c->api, cl.uid)) &&
		    !api_login_session_revoked(c->api, cl.uid, cl.sid))
			found = cl.uid;
		v = str_make(tok.p + tok.len, (size_t)(v.p + v.len - (tok.p + tok.len)));
	}
	secure_wipe(key, sizeof(key));
	if (found) {
		c->who.user_id = found;
		*out = cl;
		api_portal_refresh(c, host, &cl);
	}
	return found;
}

void api_portal_state_take(struct api_ctx *c, const char *v)
{
	size_t n = v ? strlen(v) : 0;

	c->login_state[0] = 0;
	if (n != AUTH_STATE_LEN || !enc_b64url_chars(v, n))
		return;
	memcpy(c->login_state, v, n + 1);
}

/* The login state of a query or a form (`state`); a JSON body has none
 * here (the passkey login reads its own). */
static void api_portal_state_form(struct api_ctx *c, struct str in)
{
	char v[AUTH_STATE_LEN + 2];

	api_portal_state_take(c, http_form_get(in, "state", v, sizeof(v)) > 0 ? v : NULL);
	secure_wipe(v, sizeof(v));
}

/* An admin who must have a second factor and has none (a passkey counts)
 * goes nowhere but to enrolment. */
static bool api_portal_must_enrol(struct api_ctx *c, int64_t uid)
{
	return !api_totp_enrolled(c->api, uid) && api_totp_required(c->api, uid) &&
	       api_passkey_count(c->api, uid) == 0;
}

/* Where the user of login session `cl` goes next for the route (host,
 * path): its callback with a new code, or /totp to enrol.
 * Returns 0 with loc set, 1 when the route needs a passkey login and
 * this was not one, -1 on failure. */
static int api_portal_route_loc(struct api_ctx *c, const struct auth_claims *cl,
				const char *host, const char *path, char *loc, size_t len)
{
	struct api_portal_login how;
	char code[44], ps[8];

	if (api_portal_must_enrol(c, cl->uid)) {
		snprintf(loc, len, "/totp");
		return 0;
	}
	api_portal_route_login(c, host, &how);
	if (how.require_passkey && !cl->passkey)
		return 1;
	if (api_login_code_new(c->api, cl, host, path, c->login_state, code) < 0)
		return -1;
	api_portal_port(c, ps);
	snprintf(loc, len, "https://%s%s/.postern/callback?code=%s", host, ps, code);
	secure_wipe(code, sizeof(code));
	return 0;
}

/* The answer to api_portal_route_loc's or api_portal_next's verdict rc:
 * 303 to loc (wiped), the login form offering the passkey when the route
 * needs one, or a 500 page. */
static void api_portal_go(struct api_ctx *c, int rc, char loc[API_PORTAL_LOC], const char *rd)
{
	if (rc == 1) {
		api_portal_login_form(c, 200, "This site needs a passkey: log in with yours.", rd);
		return;
	}
	if (rc < 0) {
		api_portal_message(c, 500, "Something went wrong", "Please try again.");
		return;
	}
	api_reply_header(c, "Location: %s", loc);
	secure_wipe(loc, API_PORTAL_LOC);
	api_portal_message(c, 303, "Logged in", "Continuing.");
}

/* 303 to where api_portal_route_loc says, or the login form offering
 * the passkey when the route needs one. Replies in every case. */
static void api_portal_onward(struct api_ctx *c, const struct auth_claims *cl,
			      const char *host, const char *path, const char *rd)
{
	char loc[API_PORTAL_LOC];

	api_portal_go(c, api_portal_route_loc(c, cl, host, path, loc, sizeof(loc)), loc, rd);
}

/* The return address of the query or form `in`: "" when absent, NULL
 * when given but not acceptable (rd_host, rd_path set when valid). */
static const char *api_portal_rd(struct api_ctx *c, struct str in, char *rd, size_t len,
				 char host[AUTH_HOST_MAX + 1], char path[API_PORTAL_PATH_MAX + 1])
{
	long n = http_form_get(in, "rd", rd, len);

	if (n == -1)
		return "";
	if (n < 0 || api_portal_target(c, rd, host, path, API_PORTAL_PATH_MAX + 1) < 0)
		return NULL;
	return rd;
}

static void api_portal_login_get(struct api_ctx *c)
{
	char rd[API_PORTAL_FIELD], host[AUTH_HOST_MAX + 1], path[API_PORTAL_PATH_MAX + 1];
	const char *t = api_portal_rd(c, api_portal_str(c->req->query), rd, sizeof(rd), host, path);
	struct auth_claims cl;

	if (!t) {
		api_portal_login_form(c, 400, "That return address is not a site this hub "
				      "serves; log in here instead.", NULL);
		return;
	}
	if (!api_portal_session(c, &cl)) {
		api_portal_login_form(c, 200, NULL, t);
		return;
	}
	if (t[0]) {
		api_portal_onward(c, &cl, host, path, t);
		return;
	}
	api_portal_begin(c, 200, "Logged in");
	buf_printf(&c->resp->body, "<p>You are logged in.</p>"
		   "<p><a href=\"/totp\">Add an authenticator app</a></p>"
		   "<p><a href=\"/passkeys\">Passkeys</a></p>"
		   "<form method=\"post\" action=\"/logout\"><button type=\"submit\">"
		   "Log out</button></form>"
		   "<form method=\"post\" action=\"/logout\">"
		   "<input type=\"hidden\" name=\"scope\" value=\"everywhere\">"
		   "<button type=\"submit\">Log out everywhere</button></form>");
	api_portal_end(c);
}

/* Turns a JSON refusal of the shared login helpers (429, 503) into a
 * page; their Retry-After stays. */
static void api_portal_refused(struct api_ctx *c)
{
	int st = c->resp->status;

	api_portal_login_form(c, st, st == 429 ? "Too many attempts. Wait a little and try "
			      "again." : "The hub is busy. Try again in a moment.", NULL);
}

int api_portal_next(struct api_ctx *c, int64_t uid, uint32_t epoch, const char *factor,
		    const char *rd, char *loc, size_t len)
{
	char host[AUTH_HOST_MAX + 1], path[API_PORTAL_PATH_MAX + 1], hub[AUTH_HOST_MAX + 1],
	     after[64];
	bool pk = !strcmp(factor, "passkey");
	/* A new login session, named by a random id (logout on one device). */
	struct auth_claims cl = { .uid = uid, .epoch = epoch, .passkey = pk,
				  .exp = (int64_t)time(NULL) +
					 api_setting_int(c->api, "session.lifetime"),
				  .sid = auth_session_id_new() };

	if (!cl.sid || api_portal_hub_host(c, hub) < 0 ||
	    api_portal_cookie(c, AUTH_COOKIE_PORTAL, hub, &cl) < 0)
		return -1;
	snprintf(after, sizeof(after), "{\"factor\":\"%s\"}", factor);
	api_audit_event(c, "portal.login", c->who.actor, after);
	if (rd && rd[0] && api_portal_target(c, rd, host, path, sizeof(path)) == 0)
		return api_portal_route_loc(c, &cl, host, path, loc, len);
	snprintf(loc, len, api_portal_must_enrol(c, uid) ? "/totp" : "/login");
	return 0;
}

void api_portal_finish(struct api_ctx *c, int64_t uid, uint32_t epoch, const char *factor,
		       const char *rd)
{
	char loc[API_PORTAL_LOC];

	api_portal_go(c, api_portal_next(c, uid, epoch, factor, rd, loc, sizeof(loc)), loc, rd);
}

/* The password check's verdict (the form is still c's body). */
static void api_portal_checked(struct api_ctx *c, bool ok)
{
	char user[AUTH_NAME_MAX + 1], rd[API_PORTAL_FIELD], host[AUTH_HOST_MAX + 1],
	     path[API_PORTAL_PATH_MAX + 1];
	const char *t;
	int64_t epoch;

	http_form_get(api_portal_body(c), "username", user, sizeof(user));
	t = api_portal_rd(c, api_portal_body(c), rd, sizeof(rd), host, path);
	snprintf(c->who.actor, sizeof(c->who.actor), "user:%s", user);
	if (api_login_verdict(c, user, ok) < 0) {
		api_portal_login_form(c, 401, "Wrong user name or password.", t);
		return;
	}
	epoch = api_login_epoch(c->api, c->who.user_id);
	if (epoch < 0) {
		api_portal_message(c, 500, "Something went wrong", "Please try again.");
		return;
	}
	if (api_passkey_required(c->api, c->who.user_id)) {
		/* Right password, but this account takes passkeys only. */
		api_audit_event(c, "portal.login_failed", c->who.actor,
				"{\"factor\":\"password\",\"reason\":\"passkey_required\"}");
		api_portal_login_form(c, 403, "This account logs in with a passkey only.", t);
		return;
	}
	if (api_totp_enrolled(c->api, c->who.user_id)) {
		api_totp_form(c, 200, NULL, c->who.user_id, (uint32_t)epoch, t ? t : "");
		return;
	}
	api_portal_finish(c, c->who.user_id, (uint32_t)epoch, "password", t);
}

/* A form post must come from the portal's own page (login CSRF). */
bool api_portal_post_ok(struct api_ctx *c, const char *type)
{
	const char *ct = c->req->content_type;
	size_t n = strlen(type);

	return ct && !strncasecmp(ct, type, n) && (ct[n] == 0 || ct[n] == ';') &&
	       api_origin_ok(c, c->req->origin);
}

bool api_portal_form_ok(struct api_ctx *c)
{
	return api_portal_post_ok(c, "application/x-www-form-urlencoded");
}

static void api_portal_login_post(struct api_ctx *c)
{
	char user[AUTH_NAME_MAX + 1], *pw = calloc(1, PASSWORD_MAX + 1), *hash;
	char addr[AUTH_THROTTLE_KEY], acct[AUTH_THROTTLE_KEY];
	long un, pn;

	if (!pw) {
		api_portal_message(c, 503, "Busy", "Try again in a moment.");
		return;
	}
	un = http_form_get(api_portal_body(c), "username", user, sizeof(user));
	pn = http_form_get(api_portal_body(c), "password", pw, PASSWORD_MAX + 1);
	if (!api_portal_form_ok(c)) {
		api_portal_message(c, 403, "Refused", "This form must be sent from the hub's "
				   "own login page.");
	} else if (un <= 0 || pn <= 0 || api_check_username(user)) {
		api_portal_login_form(c, 400, "Enter your user name and password.", NULL);
	} else {
		api_login_keys(c, user, addr, acct);
		if (api_login_throttled(c, addr) < 0 || api_login_throttled(c, acct) < 0) {
			api_portal_refused(c);
		} else {
			hash = api_session_user(c, user);
			if (api_pw_check(c, hash, pw, addr, api_portal_checked) < 0)
				api_portal_refused(c);
			secure_free(hash, hash ? strlen(hash) : 0);
		}
	}
	secure_free(pw, PASSWORD_MAX + 1);
}

/* Log out: this login session (the portal cookie sent and every route
 * cookie it handed out), or with scope=everywhere every session of the
 * user, on every route and device (a new epoch). Either is published to
 * the workers at once. */
static void api_portal_logout(struct api_ctx *c)
{
	char scope[16] = "";
	struct auth_claims cl;
	bool all;
	int64_t seq;
	char obj[48];

	if (!api_portal_form_ok(c)) {
		api_portal_message(c, 403, "Refused", "Log out from the hub's own page.");
		return;
	}
	api_reply_header(c, "Set-Cookie: " AUTH_COOKIE_PORTAL "=; Path=/; Max-Age=0; Secure;"
			 " HttpOnly; SameSite=Lax");
	if (api_portal_session(c, &cl)) {
		snprintf(c->who.actor, sizeof(c->who.actor), "user:%lld",
			 (long long)c->who.user_id);
		snprintf(obj, sizeof(obj), "user:%lld", (long long)c->who.user_id);
		http_form_get(api_portal_body(c), "scope", scope, sizeof(scope));
		all = !strcmp(scope, "everywhere");
		if ((seq = api_tx_begin(c)) < 0)
			return;
		if ((all ? api_login_revoke(c, c->who.user_id)
			 : api_login_revoke_session(c, &cl)) < 0) {
			api_tx_abort(c);
			api_portal_message(c, 500, "Something went wrong", "Please try again.");
			return;
		}
		if (api_tx_commit(c, seq, "portal.logout", obj, "",
				  all ? "{\"scope\":\"everywhere\"}" : "{\"scope\":\"session\"}") < 0)
			return;
		if (all) {
			api_portal_message(c, 200, "Logged out", "You are logged out of every site, "
					   "on every device.");
			return;
		}
	}
	api_portal_message(c, 200, "Logged out", "You are logged out of every site on this "
			   "device.");
}

/* Whether the browser holds, among the states in its state cookie on
 * this host, the login state code k was bound to (constant time; a code
 * bound to no state matches nothing). The others, the logins it started
 * and has not finished, go into rest ("S1.S2", "" for none). */
static bool api_portal_state_ok(struct api_ctx *c, const struct api_login_code *k,
				char rest[AUTH_STATE_KEEP * (AUTH_STATE_LEN + 1)])
{
	struct str v = api_portal_str(c->req->cookie), val, tok;
	size_t n = 0;
	bool ok = false;

	rest[0] = 0;
	if (strlen(k->state) != AUTH_STATE_LEN)
		return false;
	while (auth_cookie_find(v, STR_LIT(AUTH_COOKIE_STATE), &val)) {
		v = str_make(val.p + val.len, (size_t)(v.p + v.len - (val.p + val.len)));
		while (auth_state_next(&val, &tok)) {
			if (secure_eq(tok.p, k->state, AUTH_STATE_LEN)) {
				ok = true;
				continue;
			}
			if (n + AUTH_STATE_LEN + 1 >= AUTH_STATE_KEEP * (AUTH_STATE_LEN + 1))
				continue;
			n += (size_t)snprintf(rest + n, AUTH_STATE_KEEP * (AUTH_STATE_LEN + 1) - n,
					      "%s%.*s", n ? "." : "", (int)tok.len, tok.p);
		}
	}
	return ok;
}

/* A valid code opened by a browser that did not start its login (login
 * CSRF: someone else's code, or a link opened in another browser): it
 * logs nobody in (the code is spent), it is logged and audited, and the
 * browser goes back through the route, which starts a login of its own
 * (without a password when its portal session is live). */
static void api_portal_code_refused(struct api_ctx *c, const struct api_login_code *k)
{
	char obj[48];

	log_warn("login code for %s refused: the browser does not hold its login state",
		 k->host);
	snprintf(obj, sizeof(obj), "user:%lld", (long long)k->session.uid);
	api_audit_event(c, "portal.code_refused", obj, "{\"reason\":\"state_mismatch\"}");
	api_reply_header(c, "Location: %s", k->path);
	api_portal_message(c, 303, "Log in here", "This login link was started in another "
			   "browser. Continuing to the site, which logs you in here.");
}

/* On a route host: the one-time code for the route's cookie (only in the
 * browser that holds the code's login state, which is then taken out of
 * its cookie), then on to where the user was going. */
static void api_portal_callback(struct api_ctx *c)
{
	char code[64], host[AUTH_HOST_MAX + 1], rest[AUTH_STATE_KEEP * (AUTH_STATE_LEN + 1)];
	struct api_login_code k;

	if (http_form_get(api_portal_str(c->req->query), "code", code, sizeof(code)) <= 0 ||
	    api_portal_hub_host(c, host) < 0 || api_login_code_take(c->api, code, host, &k) < 0 ||
	    api_login_epoch(c->api, k.session.uid) != (int64_t)k.session.epoch ||
	    api_login_session_revoked(c->api, k.session.uid, k.session.sid)) {
		secure_wipe(code, sizeof(code));
		api_portal_message(c, 400, "Link expired", "This login link was already used or "
				   "has expired. Open the site again to log in.");
		return;
	}
	secure_wipe(code, sizeof(code));
	if (!api_portal_state_ok(c, &k, rest)) {
		api_portal_code_refused(c, &k);
		secure_wipe(&k, sizeof(k));
		secure_wipe(rest, sizeof(rest));
		return;
	}
	/* This login's state is spent; the browser's other logins go on. */
	if (rest[0])
		api_reply_header(c, "Set-Cookie: " AUTH_COOKIE_STATE "=%s; Path=/; Max-Age=%d;"
				 " Secure; HttpOnly; SameSite=Lax", rest, AUTH_STATE_MAX_AGE);
	else
		api_reply_header(c, "Set-Cookie: " AUTH_COOKIE_STATE "=; Path=/; Max-Age=0; Secure;"
				 " HttpOnly; SameSite=Lax");
	secure_wipe(rest, sizeof(rest));
	if (api_portal_cookie(c, AUTH_COOKIE_ROUTE, host, &k.session) < 0) {
		api_portal_message(c, 500, "Something went wrong", "Please try again.");
		return;
	}
	api_reply_header(c, "Location: %s", k.path);
	secure_wipe(&k, sizeof(k));
	api_portal_message(c, 303, "Logged in", "Continuing to the site.");
}

/* POST /setup: the setup link's token and a new password, then on to
 * the login (and a second factor from there). */
static void api_portal_setup(struct api_ctx *c)
{
	char token[128], *pw = calloc(1, PASSWORD_MAX + 1), *pw2 = calloc(1, PASSWORD_MAX + 1);
	struct str body = api_portal_body(c);
	long n;
	int64_t id;

	if (!pw || !pw2) {
		api_portal_message(c, 503, "Busy", "Try again in a moment.");
	} else if (!api_portal_form_ok(c)) {
		api_portal_message(c, 403, "Refused", "Send the form from the hub's own page.");
	} else if (http_form_get(body, "token", token, sizeof(token)) <= 0 ||
		   (n = http_form_get(body, "password", pw, PASSWORD_MAX + 1)) < PASSWORD_MIN ||
		   http_form_get(body, "password2", pw2, PASSWORD_MAX + 1) != n ||
		   !secure_eq(pw, pw2, (size_t)n)) {
		api_portal_setup_form(c, 400, "Fill in the code and the same password twice "
				      "(at least 12 characters).");
	} else if ((id = api_user_setup_with(c, token, pw)) == 0) {
		api_portal_setup_form(c, 401, "This setup link was already used or has expired; "
				      "ask an admin for a new one.");
	} else if (id < 0) {
		api_portal_setup_form(c, c->resp->status, "Not now: wait a little and try again.");
	} else {
		api_reply_header(c, "Location: /login");
		api_portal_message(c, 303, "Password set", "Now log in with it.");
	}
	secure_wipe(token, sizeof(token));
	secure_free(pw, PASSWORD_MAX + 1);
	secure_free(pw2, PASSWORD_MAX + 1);
}

/* The TOTP enrolment pages need a portal session. */
static void api_portal_totp(struct api_ctx *c)
{
	struct auth_claims cl;
	char name[AUTH_NAME_MAX + 1] = "";	/* stays "" when the user is gone */

	if (!api_portal_session(c, &cl)) {
		api_reply_header(c, "Location: /login");
		api_portal_message(c, 303, "Log in first", "Log in to add an authenticator.");
		return;
	}
	api_passkey_user_name(c->api, c->who.user_id, name);
	api_totp_enrol(c, c->who.user_id, name);
}

/* The first page the hub's own host shows: the login page. */
static void api_portal_root(struct api_ctx *c)
{
	api_reply_header(c, "Location: /login");
	api_portal_message(c, 302, "Postern", "Go to the login page.");
}

static void api_portal_setup_get(struct api_ctx *c)
{
	api_portal_setup_form(c, 200, NULL);
}

#define API_PORTAL_GET (1u << 0)	/* and HEAD */
#define API_PORTAL_POST (1u << 1)

/* The portal's pages: a path, the methods it answers, its handler. The
 * passkey pages are api_passkey_portal's. */
static const struct api_portal_page {
	const char *path;
	unsigned methods;
	void (*fn)(struct api_ctx *c);
} api_portal_pages[] = {
	{ "/.postern/callback", API_PORTAL_GET, api_portal_callback },
	{ AUTH_SHARE_PATH, API_PORTAL_GET, api_share_open },
	{ "/login", API_PORTAL_GET, api_portal_login_get },
	{ "/login", API_PORTAL_POST, api_portal_login_post },
	{ "/logout", API_PORTAL_POST, api_portal_logout },
	{ "/logout", API_PORTAL_GET, api_portal_login_get },
	{ "/login/totp", API_PORTAL_POST, api_totp_login },
	{ "/totp", API_PORTAL_GET | API_PORTAL_POST, api_portal_totp },
	{ "/setup", API_PORTAL_GET, api_portal_setup_get },
	{ "/setup", API_PORTAL_POST, api_portal_setup },
	{ "/setup.js", API_PORTAL_GET, api_portal_setup_js_reply },
	{ "/portal.css", API_PORTAL_GET, api_portal_css_reply },
	{ "/.well-known/jwks.json", API_PORTAL_GET, api_assert_jwks_reply },
	{ "/", API_PORTAL_GET, api_portal_root },
};

void api_portal(struct api_ctx *c)
{
	const char *m = c->req->method, *p = c->req->path;
	unsigned how = !strcmp(m, "GET") || !strcmp(m, "HEAD") ? API_PORTAL_GET :
		       !strcmp(m, "POST") ? API_PORTAL_POST : 0;

	api_portal_state_form(c, how == API_PORTAL_GET ? api_portal_str(c->req->query)
						       : api_portal_body(c));

	for (size_t i = 0; i < ARRAY_SIZE(api_portal_pages); i++) {
		if ((api_portal_pages[i].methods & how) && !strcmp(p, api_portal_pages[i].path)) {
			api_portal_pages[i].fn(c);
			return;
		}
	}
	if (!api_passkey_portal(c, p, how == API_PORTAL_GET, how == API_PORTAL_POST))
		api_portal_message(c, 404, "Not found", "There is no such page here.");
}
