/* xchg_head.h - serializing the upstream request head (internal). */
#ifndef POSTERN_FRONT_XCHG_HEAD_H
#define POSTERN_FRONT_XCHG_HEAD_H

#include "front/xchg.h"

/* Appends the HTTP/1.1 request head for `rq` along `route` to b, with the
 * request id field `rid_name: rid` (rid NULL: keep the trusted client's).
 * Returns 0, -ENOBUFS when b's limit is hit (the head is too large), or
 * -ENOMEM. */
int xchg_head_build(struct buf *b, const struct route *route,
		    const struct xchg_req *rq, const char *rid_name,
		    const char *rid);

/* Appends to b the request trailer lines of t ("Name: value\r\n" each,
 * as the chunked decoder kept them) that may go upstream along `route`
 * (its identity fields, the hub's credentials and forwarding fields,
 * the request id `rid_name` do not). Returns 0 or -ENOBUFS. */
int xchg_head_trailers(struct buf *b, const struct route *route, const struct buf *t,
		       const char *rid_name);

/* True when a response field of the upstream's must not be passed on:
 * hop-by-hop fields, and Content-Length on a 204 or 304. */
bool xchg_resp_skip(const struct http_msg *m, struct str name);

#endif
