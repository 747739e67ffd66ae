/* xchg_head.c - the request head a hub sends upstream.
 *
 * Rebuilt, not copied: the request line with the route's path rewrite,
 * the client's end-to-end fields minus hop-by-hop ones and minus
 * forwarding fields the client may not set, then the hub's own
 * X-Forwarded-For/-Proto/-Host, Forwarded and request id, and the body
 * framing the hub chose. */
#include "hub/xchg_head.h"

#include <stdio.h>
#include <string.h>

#include "http/parse.h"
#include "hub/route.h"

static bool xchg_hdr_is(struct str n, const char *lit, size_t len)
{
	return n.len == len && str_eq_ci(n, str_make(lit, len));
}
#define HDR_IS(n, lit) xchg_hdr_is((n), lit, sizeof(lit) - 1)

/* Fields the hub sets itself; a client's copies are dropped (kept, for
 * the X-Forwarded family, only from a trusted proxy). */
static bool xchg_hdr_skip(const struct http_msg *m, struct str n, bool trusted,
			  const char *rid_name)
{
	if (HDR_IS(n, "host") || HDR_IS(n, "content-length") ||
	    HDR_IS(n, "expect") || http_msg_hop_by_hop(m, n))
		return true;
	if (str_eq_ci(n, str_cstr(rid_name)))
		return !trusted;
	if (HDR_IS(n, "x-forwarded-for") || HDR_IS(n, "x-forwarded-proto") ||
	    HDR_IS(n, "x-forwarded-host") || HDR_IS(n, "forwarded"))
		return true;	/* rebuilt below (appended to when trusted) */
	return false;
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

static int xchg_head_forwarded(struct buf *b, const struct xchg_req *rq,
			       const char *rid_name, const char *rid)
{
	const struct http_msg *m = rq->msg;
	struct str xff = rq->trusted_peer ? xchg_prior(m, "x-forwarded-for") : STR_NULL;
	struct str fwd = rq->trusted_peer ? xchg_prior(m, "forwarded") : STR_NULL;
	const char *proto = rq->https ? "https" : "http";
	bool v6 = strchr(rq->peer_ip, ':') != NULL;
	int r;

	if (xff.len)
		r = buf_printf(b, "X-Forwarded-For: %.*s, %s\r\n", (int)xff.len, xff.p, rq->peer_ip);
	else
		r = buf_printf(b, "X-Forwarded-For: %s\r\n", rq->peer_ip);
	if (r == 0)
		r = buf_printf(b, "X-Forwarded-Proto: %s\r\nX-Forwarded-Host: %.*s\r\n",
			       proto, (int)rq->scheme_host.len, rq->scheme_host.p);
	if (r == 0)
		r = buf_printf(b, "Forwarded: %.*s%sfor=%s%s%s;host=\"%.*s\";proto=%s\r\n",
			       (int)fwd.len, fwd.p, fwd.len ? ", " : "",
			       v6 ? "\"[" : "", rq->peer_ip, v6 ? "]\"" : "",
			       (int)rq->scheme_host.len, rq->scheme_host.p, proto);
	if (r == 0 && rid)
		r = buf_printf(b, "%s: %s\r\n", rid_name, rid);
	return r;
}

/* Appends "Name: value\r\n". Returns 0, -ENOBUFS or -ENOMEM. */
static int xchg_head_field(struct buf *b, struct str name, struct str value)
{
	int r = buf_append(b, name.p, name.len);

	if (r == 0)
		r = buf_append(b, ": ", 2);
	if (r == 0)
		r = buf_append(b, value.p, value.len);
	return r ? r : buf_append(b, "\r\n", 2);
}

/* The client's end-to-end fields the hub passes on. */
static int xchg_head_fields(struct buf *b, const struct xchg_req *rq, const char *rid_name)
{
	const struct http_msg *m = rq->msg;
	int r = 0;

	for (unsigned i = 0; i < m->nhdr && r == 0; i++) {
		const struct http_header *h = &m->hdr[i];
		if (!xchg_hdr_skip(m, h->name, rq->trusted_peer, rid_name))
			r = xchg_head_field(b, h->name, h->value);
	}
	return r;
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
		r = buf_printf(b, " HTTP/1.1\r\nHost: %.*s\r\n", (int)rq->scheme_host.len,
			       rq->scheme_host.p);
	if (r == 0)
		r = xchg_head_fields(b, rq, rid_name);
	if (r == 0)
		r = xchg_head_forwarded(b, rq, rid_name, rid);
	if (r == 0 && rq->upgrade)
		r = buf_printf(b, "Connection: upgrade\r\nUpgrade: %.*s\r\n",
			       (int)m->upgrade.len, m->upgrade.p);
	if (r == 0 && rq->body == HTTP_BODY_LENGTH)
		r = buf_printf(b, "Content-Length: %llu\r\n", (unsigned long long)rq->body_len);
	if (r == 0 && rq->body == HTTP_BODY_CHUNKED)
		r = buf_append(b, "Transfer-Encoding: chunked\r\n", 28);
	return r ? r : buf_append(b, "\r\n", 2);
}
