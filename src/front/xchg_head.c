/* xchg_head.c - the request head a hub sends upstream.
 *
 * Rebuilt, not copied: the request line with the route's path rewrite,
 * the client's end-to-end fields minus hop-by-hop ones and minus
 * forwarding fields the client may not set, then the hub's own
 * X-Forwarded-For/-Proto/-Host, Forwarded and request id, and the body
 * framing the hub chose. The hub's own credentials never go upstream:
 * its cookies are taken out of Cookie (whose fields, several under
 * HTTP/2, are joined into one line: RFC 9113 s8.2.3), an Authorization
 * that carries one of its API tokens is dropped, and so is every
 * X-Postern-* field a client sent (names the hub keeps for the identity
 * it asserts), and any field a login route's policy names for that
 * identity instead (Remote-User...), in any spelling a CGI-style gateway
 * folds into the same variable ('_' for '-'). On a login route the hub
 * then adds who is logged in (xchg_head_identity), after that stripping,
 * so a client can never supply these fields itself, neither in the head
 * nor in a chunked body's trailers (xchg_head_trailers). */
#include "front/xchg_head.h"

#include <errno.h>
#include <string.h>

#include "auth/auth_users.h"
#include "http/parse.h"
#include "front/target.h"

static bool xchg_hdr_is(struct str n, const char *lit, size_t len)
{
	return n.len == len && str_eq_ci(n, str_make(lit, len));
}
#define HDR_IS(n, lit) xchg_hdr_is((n), lit, sizeof(lit) - 1)

/* The first `len` bytes of field name n read the way a CGI-style gateway
 * reads them (PHP, WSGI and Rack fold both into HTTP_X_POSTERN_USER):
 * case and '-' against '_' ignored. `lit` is lower-case, with '-'. */
static bool xchg_name_like(struct str n, const char *lit, size_t len)
{
	if (n.len < len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = str_lower_ascii(n.p[i]);
		if ((c == '_' ? '-' : c) != str_lower_ascii(lit[i]))
			return false;
	}
	return true;
}

/* Name n is `lit`, or starts with it when `prefix`, in any spelling a
 * gateway would take for it (xchg_name_like). */
static bool xchg_like(struct str n, struct str lit, bool prefix)
{
	return (prefix || n.len == lit.len) && xchg_name_like(n, lit.p, lit.len);
}
#define LIKE(n, lit) xchg_like((n), STR_LIT(lit), false)
#define LIKE_PREFIX(n, lit) xchg_like((n), STR_LIT(lit), true)

/* The prefixes of the hub's cookie names (sessions of every kind). */
static bool xchg_cookie_ours(struct str name)
{
	static const char *const ours[] = { "__Host-postern", "__Secure-postern", "postern_" };

	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (str_has_prefix_ci(name, str_cstr(ours[i])))
			return true;
	return false;
}

/* An Authorization field that carries one of the hub's API tokens. */
static bool xchg_auth_ours(struct str v)
{
	return str_has_prefix_ci(v, STR_LIT("bearer pt_"));
}

/* A field name a login route's policy gives the identity it asserts, or
 * one of the hub's X-Postern-* names, in any spelling (xchg_like): a
 * client's copy must never reach the upstream, whichever of two fields a
 * gateway that folds '-' and '_' would keep. */
static bool xchg_hdr_identity(const struct route *r, struct str n)
{
	if (LIKE_PREFIX(n, "x-postern-"))
		return true;
	for (unsigned k = 0; r->access.login && k < ACCESS_ID_MAX; k++)
		if (xchg_like(n, str_cstr(access_id_header(&r->access, (enum access_id)k)), false))
			return true;
	return false;
}

/* Forwarding fields: those the hub rebuilds (X-Forwarded-For, -Proto,
 * -Host, Forwarded) and, from a client that is no trusted proxy, every
 * other X-Forwarded-* and X-Real-IP too: an upstream that trusts the hub
 * as its proxy would take a client's X-Forwarded-Prefix or -Port (links
 * it builds) or X-Real-IP (who the client is) for the hub's word. */
static bool xchg_hdr_forwarding(struct str n, bool trusted)
{
	if (LIKE(n, "x-forwarded-for") || LIKE(n, "x-forwarded-proto") ||
	    LIKE(n, "x-forwarded-host") || LIKE(n, "forwarded"))
		return true;
	return !trusted && (LIKE_PREFIX(n, "x-forwarded-") || LIKE(n, "x-real-ip"));
}

/* Fields the hub sets itself; a client's copies are dropped (kept, for
 * the X-Forwarded family, only from a trusted proxy). */
static bool xchg_hdr_skip(const struct route *r, const struct http_msg *m,
			  const struct http_header *h, bool trusted, const char *rid_name)
{
	struct str n = h->name;

	if (HDR_IS(n, "cookie") || xchg_hdr_identity(r, n) ||
	    (HDR_IS(n, "authorization") && xchg_auth_ours(h->value)))
		return true;
	if (HDR_IS(n, "host") || HDR_IS(n, "content-length") ||
	    HDR_IS(n, "expect") || http_msg_hop_by_hop(m, n))
		return true;
	if (xchg_like(n, str_cstr(rid_name), false))
		return !trusted || !str_eq_ci(n, str_cstr(rid_name));
	return xchg_hdr_forwarding(n, trusted);	/* rebuilt below (appended to when trusted) */
}

/* The request line's path after the route's prefix strip and base:
 * base + rest, where rest always starts with '/' ("/api?x" with prefix
 * "/api" and base "/v2" becomes "/v2/?x"). */
static int xchg_head_path(struct buf *b, const struct route *r, struct str path)
{
	struct str rest = path;

	if (r->strip_prefix && r->prefix_len > 1 && path.len >= r->prefix_len)
		rest = str_make(path.p + r->prefix_len, path.len - r->prefix_len);
	if (r->target.base_len && buf_append(b, r->target.base, r->target.base_len) < 0)
		return -1;
	if ((rest.len == 0 || rest.p[0] != '/') && buf_append(b, "/", 1) < 0)
		return -1;
	return buf_append(b, rest.p, rest.len);
}

/* Earlier values of a forwarding field from a trusted proxy, joined. */
static struct str xchg_prior(const struct http_msg *m, const char *name)
{
	int i = http_msg_find(m, str_cstr(name));
	return i >= 0 ? m->hdr[i].value : STR_NULL;
}

/* Appends "Name: value\r\n". Returns 0, -ENOBUFS or -ENOMEM. */
static int xchg_head_field(struct buf *b, struct str name, struct str value)
{
	return BUF_APPEND(b, name, STR_LIT(": "), value, STR_LIT("\r\n"));
}

static int xchg_head_forwarded(struct buf *b, const struct xchg_req *rq,
			       const char *rid_name, const char *rid)
{
	const struct http_msg *m = rq->msg;
	struct str xff = rq->trusted_peer ? xchg_prior(m, "x-forwarded-for") : STR_NULL;
	struct str fwd = rq->trusted_peer ? xchg_prior(m, "forwarded") : STR_NULL;
	struct str proto = rq->https ? STR_LIT("https") : STR_LIT("http");
	struct str ip = str_cstr(rq->peer_ip), host = rq->scheme_host;
	bool v6 = memchr(ip.p, ':', ip.len) != NULL;
	int r;

	/* A trusted proxy's lists are appended to: "prior, ours". */
	r = BUF_APPEND(b, STR_LIT("X-Forwarded-For: "), xff, xff.len ? STR_LIT(", ") : STR_NULL,
		       ip, STR_LIT("\r\nX-Forwarded-Proto: "), proto,
		       STR_LIT("\r\nX-Forwarded-Host: "), host,
		       STR_LIT("\r\nForwarded: "), fwd, fwd.len ? STR_LIT(", ") : STR_NULL,
		       STR_LIT("for="), v6 ? STR_LIT("\"[") : STR_NULL, ip,
		       v6 ? STR_LIT("]\"") : STR_NULL, STR_LIT(";host=\""), host,
		       STR_LIT("\";proto="), proto, STR_LIT("\r\n"));
	if (r == 0 && rid)
		r = xchg_head_field(b, str_cstr(rid_name), str_cstr(rid));
	return r;
}

/* One Cookie line from every Cookie field, without the hub's cookies;
 * nothing when none is left. */
static int xchg_head_cookies(struct buf *b, const struct http_msg *m)
{
	size_t start = b->len;
	bool any = false;
	int r = 0;

	for (unsigned i = 0; i < m->nhdr && r == 0; i++) {
		struct str v = m->hdr[i].value;
		if (!HDR_IS(m->hdr[i].name, "cookie"))
			continue;
		while (v.len && r == 0) {
			const char *semi = memchr(v.p, ';', v.len);
			size_t n = semi ? (size_t)(semi - v.p) : v.len;
			struct str pair = str_trim_ows(str_make(v.p, n));
			const char *eq = memchr(pair.p, '=', pair.len);
			struct str name = eq ? str_make(pair.p, (size_t)(eq - pair.p)) : pair;

			v = semi ? str_make(semi + 1, v.len - n - 1) : STR_NULL;
			if (!pair.len || xchg_cookie_ours(str_trim_ows(name)))
				continue;
			r = BUF_APPEND(b, any ? STR_LIT("; ") : STR_LIT("Cookie: "), pair);
			any = true;
		}
	}
	if (r == 0 && any)
		r = buf_append(b, "\r\n", 2);
	if (r < 0)
		b->len = start;
	return r;
}

/* The client's end-to-end fields the hub passes on. */
static int xchg_head_fields(struct buf *b, const struct route *route, const struct xchg_req *rq,
			    const char *rid_name)
{
	const struct http_msg *m = rq->msg;
	int r = 0;

	for (unsigned i = 0; i < m->nhdr && r == 0; i++) {
		const struct http_header *h = &m->hdr[i];
		if (rq->drop_auth && HDR_IS(h->name, "authorization"))
			continue;	/* a route token the hub consumed */
		if (!xchg_hdr_skip(route, m, h, rq->trusted_peer, rid_name))
			r = xchg_head_field(b, h->name, h->value);
	}
	return r ? r : xchg_head_cookies(b, m);
}

/* The logged-in user of a login route: X-Postern-User, -Groups (names
 * joined with ","; empty when none), -Email (when known) and -Assertion
 * (the JWT, when the hub has a key), or the names the route's policy
 * gives them. Every value was validated when stored (no CR, LF or other
 * controls). */
static int xchg_head_identity(struct buf *b, const struct route *r, const struct xchg_req *rq)
{
	const struct access_policy *p = &r->access;
	const struct auth_user *u = rq->who;
	int rc;

	if (!u)
		return 0;
	rc = BUF_APPEND(b, str_cstr(access_id_header(p, ACCESS_ID_USER)), STR_LIT(": "),
			str_cstr(u->name), STR_LIT("\r\n"),
			str_cstr(access_id_header(p, ACCESS_ID_GROUPS)), STR_LIT(": "),
			str_cstr(u->groups), STR_LIT("\r\n"));
	if (rc == 0 && u->email[0])
		rc = xchg_head_field(b, str_cstr(access_id_header(p, ACCESS_ID_EMAIL)),
				     str_cstr(u->email));
	if (rc == 0 && rq->assertion)
		rc = xchg_head_field(b, str_cstr(access_id_header(p, ACCESS_ID_ASSERTION)),
				     str_cstr(rq->assertion));
	return rc;
}

int xchg_head_build(struct buf *b, const struct route *route,
		    const struct xchg_req *rq, const char *rid_name,
		    const char *rid)
{
	const struct http_msg *m = rq->msg;
	int r = buf_append(b, m->method.p, m->method.len);

	if (r == 0)
		r = buf_append(b, " ", 1);
	if (r == 0)
		r = xchg_head_path(b, route, m->path);
	if (r == 0)
		r = BUF_APPEND(b, STR_LIT(" HTTP/1.1\r\nHost: "), rq->scheme_host, STR_LIT("\r\n"));
	if (r == 0)
		r = xchg_head_fields(b, route, rq, rid_name);
	if (r == 0)
		r = xchg_head_identity(b, route, rq);
	if (r == 0)
		r = xchg_head_forwarded(b, rq, rid_name, rid);
	if (r == 0 && rq->upgrade)
		r = BUF_APPEND(b, STR_LIT("Connection: upgrade\r\nUpgrade: "), m->upgrade,
			       STR_LIT("\r\n"));
	if (r == 0 && rq->body == HTTP_BODY_LENGTH) {
		r = buf_append(b, "Content-Length: ", 16);
		if (r == 0)
			r = buf_append_u64(b, rq->body_len);
		if (r == 0)
			r = buf_append(b, "\r\n", 2);
	}
	if (r == 0 && rq->body == HTTP_BODY_CHUNKED)
		r = buf_append(b, "Transfer-Encoding: chunked\r\n", 28);
	return r ? r : buf_append(b, "\r\n", 2);
}

/* A request trailer field that must not reach the upstream: what the
 * head builder keeps out of the head (the hub's cookies and tokens, the
 * identity it asserts, forwarding fields; xchg_hdr_skip), as trailers
 * that some servers merge into the request's fields would otherwise
 * carry them in after the head. No trailer is the hub's own, so the
 * rules are the untrusted client's, and Cookie and Authorization go
 * whole (a trailer has no business carrying either). */
static bool xchg_trailer_skip(const struct route *r, struct str n, const char *rid_name)
{
	return HDR_IS(n, "cookie") || HDR_IS(n, "authorization") || xchg_hdr_identity(r, n) ||
	       xchg_like(n, str_cstr(rid_name), false) || xchg_hdr_forwarding(n, false);
}

int xchg_head_trailers(struct buf *b, const struct route *route, const struct buf *t,
		       const char *rid_name)
{
	const char *p = (const char *)buf_head(t), *end = p + t->len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol + 1 - p) : (size_t)(end - p);
		const char *colon = memchr(p, ':', n);

		if (colon && !xchg_trailer_skip(route, str_make(p, (size_t)(colon - p)), rid_name) &&
		    buf_append(b, p, n) < 0)
			return -ENOBUFS;
		p += n;
	}
	return 0;
}

bool xchg_resp_skip(const struct http_msg *m, struct str name)
{
	if (http_msg_hop_by_hop(m, name))
		return true;
	/* A 204 never has a length (RFC 9110 s8.6) and a 304's would only
	 * describe another response: HTTP/2 clients treat either as a
	 * malformed response, so neither goes out. */
	return (m->status == 204 || m->status == 304) && HDR_IS(name, "content-length");
}
