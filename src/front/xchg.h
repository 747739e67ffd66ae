/* xchg.h - one proxied exchange: a request forwarded to an upstream over
 * HTTP/1.1 and its response streamed back.
 *
 * This is the stream abstraction shared by the HTTP/1.1 and HTTP/2
 * downstream sides: the downstream hands over a parsed request head, then
 * pushes request body bytes (xchg_req_body), and receives the response
 * through its xchg_ops. Both directions are bounded: a push returns how
 * much was taken and the other side is told when to resume, so a client
 * or upstream that does not read stops its peer from being read (memory
 * never grows with the body size).
 *
 * Ownership: the downstream owns the xchg; it frees it with xchg_free()
 * after ops->end or ops->fail (xchg_free writes the access log line and
 * records metrics). Until then the xchg owns its upstream connection. */
#ifndef POSTERN_FRONT_XCHG_H
#define POSTERN_FRONT_XCHG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/chunked.h"
#include "http/http.h"
#include "core/addr.h"

struct xchg;
struct worker;
struct route;
struct snap_hold;
struct upconn;

struct xchg_ops {
	/* The response head is ready (status >= 200, or 101). The
	 * downstream writes its own framing. Returns 0, or -1 when it cannot
	 * (the exchange is then aborted: ops->fail follows). */
	int (*head)(struct xchg *x, const struct http_msg *resp);
	/* Response body (or tunnel) bytes. Returns how many were taken; when
	 * fewer than n, the xchg stops reading the upstream until
	 * xchg_resp_resume(). */
	size_t (*data)(struct xchg *x, const char *p, size_t n);
	/* The response is complete; `trailers` holds forwarded trailer lines
	 * ("Name: value\r\n" each) or is empty. */
	void (*end)(struct xchg *x, const struct buf *trailers);
	/* The exchange failed. Before head: answer `status` (502/503/504).
	 * After head: abort the downstream stream. */
	void (*fail)(struct xchg *x, int status);
	/* The upstream took earlier request bytes: push more. */
	void (*req_resume)(struct xchg *x);
	/* Optional: how many response body bytes `data` would take now. The
	 * exchange reads no more than that from the upstream (a little more
	 * for the response head and chunk framing), so bytes the client is
	 * not ready for stay in the upstream's socket, not in the hub. NULL:
	 * read whole buffers. */
	size_t (*room)(const struct xchg *x);
};

/* What the downstream knows about the request and its client. */
struct auth_user;

struct xchg_req {
	const struct http_msg *msg;	/* parsed head (h1) or pseudo-head (h2) */
	struct str scheme_host;		/* Host / :authority */
	const struct addr *peer;
	const char *peer_ip;
	bool https;
	bool trusted_peer;
	/* How the downstream will deliver the body: length known (h1 CL, h2
	 * content-length), chunked/unknown (sent chunked upstream), none. */
	enum http_body body;
	uint64_t body_len;
	bool upgrade;			/* forward Upgrade + Connection: upgrade */
	/* The logged-in user of a login route (the snapshot's), or NULL:
	 * asserted upstream in X-Postern-User/-Email/-Groups. */
	const struct auth_user *who;
	/* Its signed assertion (a JWT), or NULL: set by xchg_start only,
	 * just before the head is built (see xchg_assertion). */
	const char *assertion;
	bool drop_auth;			/* the hub consumed Authorization */
	/* A refreshed session cookie (a Set-Cookie value) for the response,
	 * or NULL / "": copied by xchg_start. */
	const char *set_cookie;
};

enum xchg_state {
	XCHG_CONNECTING = 0,
	XCHG_ACTIVE,		/* request going out, response coming in */
	XCHG_TUNNEL,		/* after 101: raw bytes both ways */
	XCHG_DONE,
	XCHG_STATE_MAX
};

/* Log fields copied out of the request (views die with the read buffer). */
struct xchg_log {
	char method[16];
	char host[128];
	char path[512];
	char client[48];
	char request_id[40];
};

struct xchg {
	const struct xchg_ops *ops;
	void *down;			/* the downstream's object */
	struct worker *w;
	struct snap_hold *hold;
	const struct route *route;
	struct upconn *up;
	enum xchg_state state;
	enum http_method meth;
	bool retryable;			/* idempotent and bodyless */
	bool sent_any;			/* request bytes reached a socket */
	bool resp_any;			/* response bytes arrived */
	bool head_done;			/* ops->head called */
	bool req_done;			/* request body complete */
	bool resp_done;
	bool resp_paused;		/* downstream full */
	bool req_chunked;		/* body sent upstream chunked */
	bool up_close;			/* upstream connection not reusable */
	bool tunnel;			/* 101 accepted */
	bool want_upgrade;
	bool req_blocked;		/* a short take: resume the downstream */
	uint64_t req_left;		/* CL body bytes still to send */
	struct buf reqhead;		/* serialized head, kept for a retry */
	/* response parsing */
	size_t resp_scan;
	enum http_body resp_body;
	uint64_t resp_left;
	struct http_chunked dech;
	int status;
	uint64_t bytes_in, bytes_out;	/* body bytes from client / to client */
	uint64_t t_start;
	struct xchg_log log;
	struct addr client;		/* for an agent stream's header */
	/* Failed because the route's agent is unreachable: the error page
	 * names the agent as offline. */
	bool agent_offline;
	bool log_quiet;		/* counted, but no access-log line (xchg_free) */
	/* What ended the exchange early, for the access log ("upstream_timeout",
	 * "upstream_error", "no_resources"), or NULL. */
	const char *error;
	/* The response's extra Set-Cookie value (owned), or NULL: added next
	 * to the upstream's own fields, which pass untouched. */
	char *set_cookie;
};

struct front_snap;
/* The signed assertion of user `u` (of snapshot `snap`) for host `host`
 * (a Host value): the worker's cached token or a new one. It lives in
 * the worker's cache until the worker signs again, so it is copied at
 * once (into a head, an answer), never kept: an h2 stream that waits
 * for an upstream slot gets its token when its head is built. NULL
 * without a key. */
const char *xchg_assertion(struct worker *w, const struct front_snap *snap,
			   const struct auth_user *u, struct str host);

/* The error page for `status`; with `agent`, the page says that agent
 * is offline (and nothing else about the upstream). */
int errpage_make_agent(struct buf *out, int status, bool head_only,
			  const char *agent);
/* The page body alone (for HTTP/2), into out. */
void errpage_body(char *out, size_t len, int status, const char *agent);

/* Starts forwarding `req` along `route` (whose snapshot `hold` the xchg
 * keeps a reference to). Returns the xchg, or NULL with *status the answer
 * the caller gives (the access log line is written): 431 when the request
 * head rebuilt for the upstream would exceed max_header_bytes + 4 KiB (the
 * hub's forwarding fields copy Host), 503 when out of memory or file
 * descriptors (logged). Upstream errors are reported through ops->fail,
 * never before this returns: failures found while starting are delivered
 * on a later loop turn. */
struct xchg *xchg_start(struct worker *w, struct snap_hold *hold,
			const struct route *route, const struct xchg_req *req,
			const struct xchg_ops *ops, void *down, int *status);

/* Pushes request body bytes (already de-framed). Returns how many were
 * taken (0..n); on a short count, wait for ops->req_resume. */
size_t xchg_req_body(struct xchg *x, const char *p, size_t n);
/* Marks the request body complete (`trailers` may be NULL or empty). */
void xchg_req_end(struct xchg *x, const struct buf *trailers);
/* The downstream has room again: resume reading the upstream. */
void xchg_resp_resume(struct xchg *x);
/* Logs, counts, and releases everything. Safe at any point: an unfinished
 * exchange closes its upstream connection instead of pooling it. */
void xchg_free(struct xchg *x);

/* Formats an error page for `status` (502, 503, 504, 400, ...) into out
 * as a complete HTTP/1.1 response with Connection: close. */
int errpage_make(struct buf *out, int status, bool head_only);
/* The body text of an error page, for h2. */
const char *errpage_status_text(int status);

#endif
