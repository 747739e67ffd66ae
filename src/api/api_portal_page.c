/* api_portal_page.c - the login portal's HTML and the checks on where it
 * may send a browser (control thread).
 *
 * Pages are whole documents built here: no script at all, one stylesheet
 * from the hub itself, and headers that forbid framing, inline script,
 * third-party loads and leaking the URL (which may hold ?rd=) in a
 * Referer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy.h"
#include "api/api_portal.h"

static const char api_portal_css[] =
	"body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2430}"
	"main{max-width:26rem;margin:3rem auto;padding:1.5rem;background:#fff;"
	"border-radius:.5rem;box-shadow:0 1px 4px #0002}"
	"h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .3rem}"
	"input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem;"
	"border:1px solid #99a;border-radius:.3rem}"
	"button{margin-top:1rem;width:100%;padding:.7rem;font-size:1rem;border:0;"
	"border-radius:.3rem;background:#2b59c3;color:#fff}"
	".err{color:#a11;background:#fdecec;padding:.6rem;border-radius:.3rem}"
	"@media (max-width:30rem){main{margin:0;border-radius:0;min-height:100vh}}";

/* `script`: the page loads a script file of the hub's (never inline),
 * which may fetch from the hub (the passkey ceremonies). */
static void api_portal_headers_csp(struct api_ctx *c, const char *type, bool script)
{
	api_reply_header(c, "Content-Type: %s", type);
	api_reply_header(c, "Content-Security-Policy: default-src 'none'; style-src 'self';%s"
			 " img-src 'self' data:; form-action 'self' https:;"
			 " frame-ancestors 'none'; base-uri 'none'",
			 script ? " script-src 'self'; connect-src 'self';" : "");
	api_reply_header(c, "X-Frame-Options: DENY");
	api_reply_header(c, "X-Content-Type-Options: nosniff");
	/* Not no-referrer: under it a browser sends "Origin: null" with the
	 * portal's own form and fetch posts, which the Origin check (login
	 * CSRF) must refuse. same-origin sends nothing to other sites. */
	api_reply_header(c, "Referrer-Policy: same-origin");
}

void api_portal_headers(struct api_ctx *c, const char *type)
{
	api_portal_headers_csp(c, type, false);
}

/* The setup page's only script: the setup link carries its token in the
 * fragment (never sent to a server, so never in a log); this copies it
 * into the form and drops it from the address bar. */
static const char api_portal_setup_js[] =
	"\"use strict\";\n"
	"(function () {\n"
	"  var m = /(?:^#|&)token=([^&]+)/.exec(location.hash);\n"
	"  if (!m) return;\n"
	"  document.getElementById(\"t\").value = decodeURIComponent(m[1]);\n"
	"  history.replaceState(null, \"\", location.pathname);\n"
	"})();\n";

void api_portal_script_reply(struct api_ctx *c, const char *js, size_t len)
{
	buf_reset(&c->resp->body);
	api_portal_headers(c, "text/javascript; charset=utf-8");
	buf_append(&c->resp->body, js, len);
	c->resp->status = 200;
}

void api_portal_setup_js_reply(struct api_ctx *c)
{
	api_portal_script_reply(c, api_portal_setup_js, sizeof(api_portal_setup_js) - 1);
}

void api_portal_setup_form(struct api_ctx *c, int status, const char *error)
{
	struct buf *b = &c->resp->body;

	buf_reset(b);
	api_portal_headers_csp(c, "text/html; charset=utf-8", true);
	c->resp->status = status;
	buf_printf(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		   "<title>Set your password</title><link rel=\"stylesheet\" href=\"/portal.css\">"
		   "<script src=\"/setup.js\" defer></script></head><body><main>"
		   "<h1>Set your password</h1>");
	api_portal_error_p(b, error);
	buf_printf(b, "<form method=\"post\" action=\"/setup\">"
		   "<label for=\"t\">Setup code (filled in from your link)</label>"
		   "<input id=\"t\" name=\"token\" autocomplete=\"off\" required>"
		   "<label for=\"p\">New password (at least 12 characters)</label>"
		   "<input id=\"p\" name=\"password\" type=\"password\" minlength=\"12\""
		   " autocomplete=\"new-password\" required>"
		   "<label for=\"p2\">The same again</label>"
		   "<input id=\"p2\" name=\"password2\" type=\"password\" minlength=\"12\""
		   " autocomplete=\"new-password\" required>"
		   "<button type=\"submit\">Set password</button></form>");
	api_portal_end(c);
}

void api_portal_css_reply(struct api_ctx *c)
{
	buf_reset(&c->resp->body);
	api_portal_headers(c, "text/css; charset=utf-8");
	buf_append(&c->resp->body, api_portal_css, sizeof(api_portal_css) - 1);
	c->resp->status = 200;
}

void api_portal_esc(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': buf_append(b, "&lt;", 4); break;
		case '>': buf_append(b, "&gt;", 4); break;
		case '&': buf_append(b, "&amp;", 5); break;
		case '"': buf_append(b, "&quot;", 6); break;
		case '\'': buf_append(b, "&#39;", 5); break;
		default: buf_append(b, s, 1); break;
		}
	}
}

void api_portal_begin_js(struct api_ctx *c, int status, const char *title, const char *js)
{
	struct buf *b = &c->resp->body;

	buf_reset(b);
	api_portal_headers_csp(c, "text/html; charset=utf-8", js != NULL);
	c->resp->status = status;
	buf_printf(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		   "<title>%s</title><link rel=\"stylesheet\" href=\"/portal.css\">", title);
	if (js)
		buf_printf(b, "<script src=\"%s\" defer></script>", js);
	buf_printf(b, "</head><body><main><h1>%s</h1>", title);
}

void api_portal_begin(struct api_ctx *c, int status, const char *title)
{
	api_portal_begin_js(c, status, title, NULL);
}

void api_portal_end(struct api_ctx *c)
{
	buf_printf(&c->resp->body, "</main></body></html>\n");
}

void api_portal_message(struct api_ctx *c, int status, const char *title, const char *text)
{
	api_portal_begin(c, status, title);
	buf_append(&c->resp->body, "<p>", 3);
	api_portal_esc(&c->resp->body, text);
	buf_append(&c->resp->body, "</p>", 4);
	api_portal_end(c);
}

void api_portal_error_p(struct buf *b, const char *error)
{
	if (!error)
		return;
	buf_append(b, "<p class=\"err\">", 15);
	api_portal_esc(b, error);
	buf_append(b, "</p>", 4);
}

void api_portal_hidden_rd(struct api_ctx *c, struct buf *b, const char *rd)
{
	if (!rd || !rd[0])
		return;
	buf_append(b, "<input type=\"hidden\" name=\"rd\" value=\"", 38);
	api_portal_esc(b, rd);
	buf_append(b, "\">", 2);
	/* base64url only (api_portal_state_take), nothing to escape */
	if (c->login_state[0])
		buf_printf(b, "<input type=\"hidden\" name=\"state\" value=\"%s\">",
			   c->login_state);
}

/* The passkey way in: a button the portal's script drives. */
static void api_portal_passkey_button(struct api_ctx *c, struct buf *b, const char *rd)
{
	buf_printf(b, "<form id=\"pk-login\" method=\"post\" action=\"/login\">");
	api_portal_hidden_rd(c, b, rd);
	buf_printf(b, "<p class=\"err\" id=\"pk-err\" hidden></p>"
		   "<button type=\"submit\" id=\"pk-button\">Log in with a passkey</button>"
		   "</form>");
}

void api_portal_login_form(struct api_ctx *c, int status, const char *error, const char *rd)
{
	struct buf *b = &c->resp->body;
	struct api_portal_login how = { false, false };
	char host[AUTH_HOST_MAX + 1], path[API_PORTAL_PATH_MAX + 1];

	if (rd && rd[0] && api_portal_target(c, rd, host, path, sizeof(path)) == 0)
		api_portal_route_login(c, host, &how);
	api_portal_begin_js(c, status, "Log in", "/passkey.js");
	api_portal_error_p(b, error);
	if (how.passkey_first)
		api_portal_passkey_button(c, b, rd);
	if (how.require_passkey) {
		api_portal_end(c);
		return;
	}
	buf_printf(b, "<form method=\"post\" action=\"/login\">"
		   "<label for=\"u\">User name</label>"
		   "<input id=\"u\" name=\"username\" autocomplete=\"username\" required"
		   " autocapitalize=\"none\" maxlength=\"64\">"
		   "<label for=\"p\">Password</label>"
		   "<input id=\"p\" name=\"password\" type=\"password\""
		   " autocomplete=\"current-password\" required>");
	api_portal_hidden_rd(c, b, rd);
	buf_printf(b, "<button type=\"submit\">Log in</button></form>");
	if (!how.passkey_first)
		api_portal_passkey_button(c, b, rd);
	api_portal_end(c);
}

/* Whether `host` (normalised) is route host h: exactly, or under a
 * "*.name" route by one label. */
static bool api_portal_host_match(const char *h, const char *host)
{
	size_t hl = strlen(h), n = strlen(host);

	if (!strncmp(h, "*.", 2))
		return n > hl - 1 && !strcmp(host + n - (hl - 1), h + 1) &&
		       !memchr(host, '.', n - (hl - 1));
	return !strcmp(h, host);
}

/* Whether `host` is a route's host; with `how`, also what the policies
 * of its routes say about the way in. */
static bool api_portal_route_scan(struct api_ctx *c, const char *host,
				  struct api_portal_login *how)
{
	sqlite3_stmt *st = store_prepare(&c->api->store, "SELECT host, policy FROM routes");
	struct access_policy *pol = how ? malloc(sizeof(*pol)) : NULL;
	bool ok = false;
	char err[160];

	while (st && (!ok || how) && sqlite3_step(st) == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 0);
		if (!h || !api_portal_host_match(h, host))
			continue;
		ok = true;
		if (pol && access_policy_parse((const char *)sqlite3_column_text(st, 1), pol,
					       err, sizeof(err)) == 0) {
			how->require_passkey |= pol->require_passkey;
			how->passkey_first |= pol->passkey_first;
		}
	}
	sqlite3_finalize(st);
	free(pol);
	return ok;
}

static bool api_portal_route_host(struct api_ctx *c, const char *host)
{
	return api_portal_route_scan(c, host, NULL);
}

void api_portal_route_login(struct api_ctx *c, const char *host, struct api_portal_login *how)
{
	memset(how, 0, sizeof(*how));
	api_portal_route_scan(c, host, how);
}

/* A path to send the browser to on the route host: '/', not "//",
 * printable ASCII without spaces or back-slashes, short enough for a
 * Location field. */
static bool api_portal_path_ok(const char *p)
{
	if (p[0] != '/' || p[1] == '/' || strlen(p) > API_PORTAL_PATH_MAX)
		return false;
	for (; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == '\\')
			return false;
	return true;
}

int api_portal_target(struct api_ctx *c, const char *rd, char host[AUTH_HOST_MAX + 1],
		      char *path, size_t plen)
{
	const char *a = rd + 8, *slash;
	char hub[AUTH_HOST_MAX + 1];

	if (strncmp(rd, "https://", 8))
		return -1;
	slash = strchr(a, '/');
	if (!slash || memchr(a, '@', (size_t)(slash - a)) ||
	    auth_host_norm(str_make(a, (size_t)(slash - a)), host) < 0 ||
	    !api_portal_path_ok(slash) || strlen(slash) >= plen)
		return -1;
	if (c->req->host && auth_host_norm(str_cstr(c->req->host), hub) >= 0 &&
	    !strcmp(hub, host))
		return -1;	/* the portal itself is no route */
	if (!api_portal_route_host(c, host))
		return -1;
	snprintf(path, plen, "%s", slash);
	return 0;
}
