/* pipeline.c - the one request pipeline (see pipeline.h for the order of
 * the steps). Each step either passes or fills the decision and stops. */
#define LOG_SUBSYS "pipeline"
#include "hub/decide.h"
#include "hub/pipeline_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "access/policy.h"
#include "acme/acme_chall.h"
#include "api/api.h"
#include "auth/auth_creds.h"
#include "auth/auth_users.h"
#include "core/enc.h"
#include "core/secure.h"
#include "core/shtext.h"
#include "http/parse.h"
#include "http/target.h"
#include "front/front_ctx.h"
#include "front/metrics.h"
#include "hub/control.h"
#include "hub/hub.h"
#include "hub/route.h"
#include "hub/tunnel.h"
#include "front/snap.h"

static const struct front_settings *pipeline_set(const struct pipeline_in *in)
{
	return &in->w->hold->snap->set;
}

static void pipeline_page(struct pipeline_out *out, int status, const char *type,
			  const char *body, size_t blen)
{
	out->act = PIPELINE_ANSWER;
	out->status = status;
	out->type = type;
	out->body = body;
	out->blen = blen;
}

#define PIPELINE_TEXT(out, status, lit) \
	pipeline_page((out), (status), "text/plain; charset=utf-8", lit, sizeof(lit) - 1)

/* The hub's standard page for status (closes an HTTP/1.1 connection). */
static void pipeline_error(struct pipeline_out *out, int status, const char *agent)
{
	out->act = PIPELINE_ANSWER;
	out->status = status;
	out->type = NULL;
	out->agent = agent;
	out->close = true;
}

static void pipeline_not_found(const struct pipeline_in *in, struct pipeline_out *out)
{
	metrics_observe(in->w->metrics, METRICS_NO_ROUTE, 404, 0, 0, 0);
	PIPELINE_TEXT(out, 404, "404 Not Found\n");
}

/* The hub's own metrics after the front's: ACME, control plane, tunnel.
 * Each text lives as long as the workers that read it here (hub.h).
 * Returns 0 or -ENOBUFS. */
static int pipeline_metrics_hub(struct hub *hub, struct buf *out)
{
	if (hub && shtext_append_to(&hub->acme_metrics, out) < 0)
		return -ENOBUFS;
	if (api_metrics_render(hub ? hub_control_api(hub) : NULL, out) < 0)
		return -ENOBUFS;
	return hub_tunnel_metrics_render(hub, out);
}

/* The metrics listener serves /metrics and nothing else, whatever the
 * HTTP version. */
static void pipeline_metrics(const struct pipeline_in *in, struct pipeline_out *out)
{
	if (!str_eq(in->m->path, STR_LIT("/metrics"))) {
		pipeline_not_found(in, out);
		return;
	}
	buf_init(&out->page, 8u << 20);
	/* The front's owner is the hub (hub_cmd_main), which keeps the ACME
	 * manager's text, the control plane (webhook counters, certificate
	 * expiry) and the tunnel's per-agent text. */
	if (metrics_render(&in->w->fc->metrics, &out->page) < 0 ||
	    pipeline_metrics_hub(in->w->fc->owner, &out->page) < 0)
		buf_reset(&out->page);
	pipeline_page(out, 200, "text/plain; version=0.0.4",
		      (const char *)buf_head(&out->page), out->page.len);
}

/* ACME HTTP-01 (RFC 8555 s8.3): /.well-known/acme-challenge/TOKEN on the
 * plain-HTTP listener answers from the challenge store for every host,
 * before anything else, so no route, redirect or policy can hide it. Its
 * answers stay out of the access log (tokens never reach a log). */
static bool pipeline_acme(const struct pipeline_in *in, struct pipeline_out *out)
{
	const struct http_msg *m = in->m;
	long n;

	if (in->kind != LISTEN_HTTP || !str_has_prefix(m->path, STR_LIT(ACME_CHALL_PREFIX)))
		return false;
	n = acme_chall_http_lookup(&in->w->fc->acme_chall, m->path.p, m->path.len, out->small,
				   sizeof(out->small));
	if (n == 0)
		return false;
	if (n < 0)
		pipeline_not_found(in, out);
	else
		pipeline_page(out, 200, "application/octet-stream", out->small, (size_t)n);
	out->log = false;
	return true;
}

/* The host without its port, or a bracketed IPv6 literal. */
static struct str pipeline_host_name(struct str host)
{
	const char *colon;

	if (host.len && host.p[0] == '[') {
		const char *rb = memchr(host.p, ']', host.len);
		return rb ? str_make(host.p, (size_t)(rb - host.p) + 1) : host;
	}
	colon = host.len ? memchr(host.p, ':', host.len) : NULL;
	if (colon)
		host.len = (size_t)(colon - host.p);
	if (host.len && host.p[host.len - 1] == '.')
		host.len--;
	return host;
}

bool pipeline_hub_host(const struct front_settings *s, struct str host)
{
	return s->hostname[0] && str_eq_ci(pipeline_host_name(host), str_cstr(s->hostname));
}

/* "https://host[:port]/path" into out->location: the hub's HTTPS port,
 * never the plain-HTTP port the request came in on. */
static void pipeline_https_location(const struct pipeline_in *in, struct pipeline_out *out)
{
	struct str h = pipeline_host_name(in->m->host), p = in->m->path;
	unsigned port = pipeline_set(in)->https_port;
	char ps[8] = "";

	if (port && port != 443)
		snprintf(ps, sizeof(ps), ":%u", port);
	snprintf(out->location, sizeof(out->location), "https://%.*s%s%.*s",
		 (int)(h.len < 256 ? h.len : 256), h.p, ps,
		 (int)(p.len < 900 ? p.len : 900), p.p);
}

static void pipeline_redirect(const struct pipeline_in *in, struct pipeline_out *out)
{
	pipeline_https_location(in, out);
	pipeline_page(out, 308, "text/plain", "", 0);
}

/* The hub's own host name: the admin API and the login portal (the
 * control thread's, when the hub has a store), over TLS only. No route
 * can capture it. */
static void pipeline_hub_paths(const struct pipeline_in *in, struct pipeline_out *out)
{
	bool api = str_has_prefix(in->m->path, STR_LIT("/api/"));
	bool portal = in->w->hold->snap->users != NULL;

	if (in->kind == LISTEN_HTTPS && pipeline_fwd(in, out))
		return;
	if (in->kind == LISTEN_HTTPS && (api || portal)) {
		out->act = PIPELINE_ADMIN;
		return;
	}
	if (in->kind == LISTEN_HTTPS) {
		pipeline_not_found(in, out);
		return;
	}
	/* Plain HTTP: never the API. A credential sent in clear is already
	 * exposed, so it is refused, not redirected to be sent again. */
	if (api) {
		PIPELINE_TEXT(out, 403, "403 Forbidden\nThe admin API is served over HTTPS only.\n");
		out->close = true;
		return;
	}
	pipeline_redirect(in, out);
}

/* Access rules of the route (access/policy.h): 0 or the status. */
static int pipeline_access(const struct pipeline_in *in, const struct route *r)
{
	return access_policy_check(&r->access, in->peer);
}

/* A refreshed route cookie for the response (docs/auth.md, "Design:
 * sessions the workers check alone"), into out->set_cookie when due. */
static void pipeline_refresh(const struct auth_users *t, struct auth_cookie_cache *cc,
			     const char *host,
			     const struct auth_claims *c, int64_t now, struct pipeline_out *out)
{
	char tok[AUTH_TOKEN_MAX];
	int n = auth_users_refresh(t, cc, host, c, now, tok);

	if (n > 0)
		snprintf(out->set_cookie, sizeof(out->set_cookie), "%s=%s; Path=/; Max-Age=%lld;"
			 " Secure; HttpOnly; SameSite=Lax", AUTH_COOKIE_ROUTE, tok,
			 (long long)(c->exp - now));
	secure_wipe(tok, sizeof(tok));
}

/* The user a route cookie on this request names (the first of them that
 * is a live session for `host`), or NULL. Checked against the snapshot
 * only: the signature, the expiry, the idle limit, the user's epoch and
 * state. A live session's cookie due for a refresh gets one in `out`. */
static const struct auth_user *pipeline_session(const struct pipeline_in *in, const char *host,
						bool need_passkey, struct pipeline_out *out)
{
	const struct auth_users *t = in->w->hold->snap->users;
	const struct http_msg *m = in->m;
	int64_t now = (int64_t)time(NULL);
	struct auth_claims c;

	for (unsigned i = 0; t && i < m->nhdr; i++) {
		struct str v = m->hdr[i].value, tok;
		if (!str_eq_ci(m->hdr[i].name, STR_LIT("cookie")))
			continue;
		while (auth_cookie_find(v, STR_LIT(AUTH_COOKIE_ROUTE), &tok)) {
			const struct auth_user *u = auth_users_session_claims(t, &in->w->cookies, host,
									      tok, now, need_passkey, &c);
			if (u) {
				pipeline_refresh(t, &in->w->cookies, host, &c, now, out);
				return u;
			}
			v = str_make(tok.p + tok.len, (size_t)(v.p + v.len - (tok.p + tok.len)));
		}
	}
	return NULL;
}

/* A browser navigating (it gets the portal); anything else (an API
 * client, a script, a WebSocket upgrade) gets 401. */
static bool pipeline_browser(const struct http_msg *m)
{
	int i = http_msg_find(m, STR_LIT("accept"));
	struct str a = i >= 0 ? m->hdr[i].value : STR_NULL;

	if ((m->meth != HTTP_M_GET && m->meth != HTTP_M_HEAD) || (m->flags & HTTP_F_UPGRADE))
		return false;
	for (size_t k = 0; k + 9 <= a.len; k++)
		if (str_eq_ci(str_make(a.p + k, 9), STR_LIT("text/html")))
			return true;
	return false;
}

/* Appends `s` percent-encoded (all but unreserved) at *n; false when it
 * does not fit in `len`. */
static bool pipeline_pct(char *out, size_t len, size_t *n, struct str s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
		if (*n + (plain ? 1 : 3) >= len)
			return false;
		if (plain) {
			out[(*n)++] = (char)c;
			continue;
		}
		out[(*n)++] = '%';
		out[(*n)++] = hex[c >> 4];
		out[(*n)++] = hex[c & 15];
	}
	out[*n] = 0;
	return true;
}

/* A new login state into state (AUTH_STATE_LEN + 1 bytes) and its
 * cookie on the route host into out->set_cookie (wiped with out): the
 * new state first, then the newest of the unfinished ones the browser
 * sent, AUTH_STATE_KEEP in all. The route is HTTPS here (pipeline_auth),
 * so the __Host- prefix holds. Returns 0, or -1 when getrandom fails. */
static int pipeline_state_new(const struct pipeline_in *in, struct pipeline_out *out,
			      char state[AUTH_STATE_LEN + 1])
{
	const struct http_msg *m = in->m;
	char *sc = out->set_cookie;
	size_t n, cap = sizeof(out->set_cookie);
	unsigned kept = 1;
	uint8_t raw[32];

	_Static_assert(sizeof(AUTH_COOKIE_STATE) + AUTH_STATE_KEEP * (AUTH_STATE_LEN + 1) +
		       sizeof("; Path=/; Max-Age=600; Secure; HttpOnly; SameSite=Lax") <=
		       sizeof(out->set_cookie), "room for the kept states");
	if (secure_random(raw, sizeof(raw)) < 0)
		return -1;
	enc_b64url_encode(state, raw, sizeof(raw));
	secure_wipe(raw, sizeof(raw));
	n = (size_t)snprintf(sc, cap, AUTH_COOKIE_STATE "=%s", state);
	for (unsigned i = 0; i < m->nhdr && kept < AUTH_STATE_KEEP; i++) {
		struct str v = m->hdr[i].value, val, tok;

		if (!str_eq_ci(m->hdr[i].name, STR_LIT("cookie")))
			continue;
		while (kept < AUTH_STATE_KEEP && auth_cookie_find(v, STR_LIT(AUTH_COOKIE_STATE), &val)) {
			v = str_make(val.p + val.len, (size_t)(v.p + v.len - (val.p + val.len)));
			while (kept < AUTH_STATE_KEEP && auth_state_next(&val, &tok)) {
				n += (size_t)snprintf(sc + n, cap - n, ".%.*s", (int)tok.len, tok.p);
				kept++;
			}
		}
	}
	snprintf(sc + n, cap - n, "; Path=/; Max-Age=%d; Secure; HttpOnly; SameSite=Lax",
		 AUTH_STATE_MAX_AGE);
	return 0;
}

/* 302 to the portal: https://HUB[:port]/login?rd=<this URL>&state=<the
 * login state, also set as a cookie here>. A URL too long to carry
 * returns to the host's root instead. Without randomness: 503. */
static void pipeline_to_portal(const struct pipeline_in *in, struct pipeline_out *out,
			       const char *host)
{
	const struct front_settings *s = pipeline_set(in);
	/* Room for "&state=" and the state after rd. */
	size_t room = sizeof(out->location) - (sizeof("&state=") + AUTH_STATE_LEN);
	char ps[8] = "", state[AUTH_STATE_LEN + 1];
	size_t n;
	int k;

	if (pipeline_state_new(in, out, state) < 0) {
		PIPELINE_TEXT(out, 503, "503 Service Unavailable\n");
		return;
	}
	if (s->https_port && s->https_port != 443)
		snprintf(ps, sizeof(ps), ":%u", s->https_port);
	k = snprintf(out->location, room, "https://%s%s/login?rd=https%%3A%%2F%%2F",
		     s->hostname, ps);
	n = k > 0 && (size_t)k < room ? (size_t)k : 0;
	if (!n || !pipeline_pct(out->location, room, &n, str_cstr(host)) ||
	    !pipeline_pct(out->location, room, &n, in->m->path)) {
		out->location[0] = 0;
		if (n)
			snprintf(out->location, room, "https://%s%s/login?rd=https%%3A%%2F%%2F%s%%2F",
				 s->hostname, ps, host);
	}
	if (out->location[0]) {
		n = strlen(out->location);
		snprintf(out->location + n, sizeof(out->location) - n, "&state=%s", state);
	}
	secure_wipe(state, sizeof(state));
	PIPELINE_TEXT(out, 302, "302 Found: log in first\n");
}

/* 401 for a client that is not a browser (or sent a bad credential):
 * the challenges say which credentials a script may send. */
static void pipeline_unauthorized(struct pipeline_out *out)
{
	PIPELINE_TEXT(out, 401, "401 Unauthorized\nLog in through the hub's portal, or send a"
		      " route token.\n");
	out->www_auth = "Bearer realm=\"postern\", Basic realm=\"postern\", charset=\"UTF-8\"";
}

/* Authentication per route policy: a "login" route needs a bypass rule
 * that matches, a route token or share-link session of this route
 * (pipeline_cred.c), or a live route cookie for this host whose user the
 * policy admits. Returns true when it answered (302 to the portal, 401,
 * 403), false to go on with out->who set (NULL for a public route, a
 * bypass, a token or a share link: no user to name upstream). */
bool pipeline_auth(const struct pipeline_in *in, const struct route *r,
		   struct pipeline_out *out)
{
	const struct front_settings *s = pipeline_set(in);
	char host[AUTH_HOST_MAX + 1] = "";
	const struct auth_user *u;

	if (!r->access.login ||
	    access_bypass_match(&r->access.bypass, in->m->method, in->m->path, in->peer))
		return false;
	if (auth_host_norm(in->m->host, host) < 0)
		host[0] = 0;
	switch (pipeline_cred_check(in, r, host)) {
	case PIPELINE_CRED_TOKEN:
		out->drop_auth = true;
		return false;
	case PIPELINE_CRED_SHARE:
		return false;
	case PIPELINE_CRED_BAD:
		metrics_observe(in->w->metrics, r->stats_id, 401, 0, 0, 0);
		pipeline_unauthorized(out);
		return true;
	default:
		break;
	}
	u = host[0] ? pipeline_session(in, host, r->access.require_passkey, out) : NULL;
	if (u && access_policy_user_ok(&r->access, u)) {
		out->who = u;
		return false;
	}
	out->set_cookie[0] = 0;
	metrics_observe(in->w->metrics, r->stats_id, u ? 403 : 401, 0, 0, 0);
	metrics_deny(in->w->metrics, u ? METRICS_DENY_FORBIDDEN : METRICS_DENY_NO_SESSION);
	if (u) {
		PIPELINE_TEXT(out, 403, "403 Forbidden\nYour account may not use this site.\n");
		return true;
	}
	if (pipeline_browser(in->m) && s->hostname[0] && in->w->hold->snap->users &&
	    in->kind == LISTEN_HTTPS && host[0]) {
		pipeline_to_portal(in, out, host);
		return true;
	}
	pipeline_unauthorized(out);
	return true;
}

/* A route host's reserved paths: the login callback goes to the control
 * thread (over TLS: its cookie is Secure), every other one is the hub's
 * 404, whatever the route would have answered. Returns true when it
 * decided. */
static bool pipeline_reserved(const struct pipeline_in *in, struct pipeline_out *out)
{
	struct str p = in->m->path;
	const char *q = memchr(p.p, '?', p.len);
	struct str path = q ? str_make(p.p, (size_t)(q - p.p)) : p;

	if (!http_path_prefix_match_decoded(path, PIPELINE_RESERVED, strlen(PIPELINE_RESERVED)))
		return false;
	if (in->kind == LISTEN_HTTPS && in->w->hold->snap->users &&
	    (str_eq(path, STR_LIT(PIPELINE_CALLBACK)) || str_eq(path, STR_LIT(AUTH_SHARE_PATH)))) {
		out->act = PIPELINE_ADMIN;
		out->log = false;	/* the code (or link) stays out of the access log */
		return true;
	}
	pipeline_not_found(in, out);
	return true;
}

static void pipeline_route(const struct pipeline_in *in, struct pipeline_out *out)
{
	const struct front_settings *s = pipeline_set(in);
	const struct http_msg *m = in->m;
	const struct route_table *t = in->w->hold->snap->routes;
	const struct route *r = route_lookup(t, m->host, m->path);
	int st;

	if (route_path_ambiguous(t, m->host, m->path, r)) {
		metrics_observe(in->w->metrics, METRICS_NO_ROUTE, 400, 0, 0, 0);
		PIPELINE_TEXT(out, 400, "400 Bad Request\nAn encoded slash (%2F or %5C) in this "
			      "path would take it to another route if the server decoded it.\n");
		return;
	}
	if (!r) {
		pipeline_not_found(in, out);
		return;
	}
	out->route = r;
	if (r->redirect_https && in->kind != LISTEN_HTTPS) {
		pipeline_redirect(in, out);
		return;
	}
	if ((st = pipeline_access(in, r))) {
		metrics_observe(in->w->metrics, r->stats_id, st, 0, 0, 0);
		metrics_deny(in->w->metrics, METRICS_DENY_CIDR);
		PIPELINE_TEXT(out, 403, "403 Forbidden\n");
		out->status = st;
		return;
	}
	if (pipeline_auth(in, r, out))
		return;
	if (route_agent_offline(r)) {
		metrics_observe(in->w->metrics, r->stats_id, 502, 0, 0, 0);
		pipeline_error(out, 502, r->target.agent);
		return;
	}
	if (s->limits.max_body && in->length_known && m->content_length > s->limits.max_body) {
		pipeline_error(out, 413, NULL);
		return;
	}
	out->act = PIPELINE_PROXY;
}

void pipeline_decide(const struct pipeline_in *in, struct pipeline_out *out)
{
	struct http_msg *m = in->m;

	memset(out, 0, sizeof(*out));
	buf_init(&out->page, 0);
	out->log = true;
	switch (in->kind) {
	case LISTEN_CONTROL:
	case LISTEN_AGENT:
		out->act = PIPELINE_ADMIN;
		out->log = false;
		return;
	case LISTEN_METRICS:
		pipeline_metrics(in, out);
		out->log = false;
		return;
	default:
		break;
	}
	if (pipeline_acme(in, out))
		return;
	if (m->path.len && http_target_normalize((char *)m->path.p, &m->path.len) < 0) {
		metrics_count(in->w->metrics, METRICS_REQ_MALFORMED);
		pipeline_error(out, 400, NULL);
		return;
	}
	if (pipeline_hub_host(pipeline_set(in), m->host)) {
		pipeline_hub_paths(in, out);
		return;
	}
	if (pipeline_reserved(in, out))
		return;
	pipeline_route(in, out);
}
