/* pipeline.h - the one request pipeline, for every HTTP version.
 *
 * HTTP/1.1 (front/front.c) and HTTP/2 (front/front_h2.c) parse their framing into a
 * struct http_msg and call pipeline_decide(), which runs every policy step
 * once, in this order:
 *
 *   listener kind -> hub's own paths (ACME, metrics, the hub's host: admin
 *   API and login portal over TLS only) -> target normalisation ->
 *   a route host's reserved /.postern/ paths (the login callback) ->
 *   route lookup -> redirect -> access rules -> authentication (a login
 *   route's bypass rules, route token or share session, then its signed
 *   cookie, all checked here without the store) -> agent
 *   offline -> body limit -> proxy
 *
 * and answers with a decision the protocol only has to frame: answer
 * (status, a Location, a body), hand to the admin API, or proxy to a
 * route. A later HTTP/3 calls the same function. Credentials of the
 * hub's own (its session cookies, its API tokens) are stripped from what
 * is forwarded by the exchange's head builder (xchg_head.c), which both
 * protocols share too. */
#ifndef POSTERN_FRONT_PIPELINE_H
#define POSTERN_FRONT_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "http/http.h"
#include "front/worker.h"

struct access_policy;
struct route;
struct front_settings;
struct auth_user;

/* The hub's reserved prefix on every route's host (pipeline_reserved:
 * matched as a backend that decodes "%2F" would read it), and in it the
 * path where the portal's one-time code is traded for the route's
 * cookie (handled by the control thread). */
#define PIPELINE_RESERVED "/.postern"
#define PIPELINE_CALLBACK "/.postern/callback"

/* Where a request came from, as the protocol saw it. */
struct pipeline_in {
	struct worker *w;
	enum listener_kind kind;
	const struct addr *peer;
	const char *ip;
	/* The request. Its path may be rewritten in place (normalised): the
	 * bytes it views must be writable and stay valid while the decision
	 * is used. */
	struct http_msg *m;
	/* The body's length is known (Content-Length), so the body limit
	 * can answer before any byte is read. */
	bool length_known;
};

enum pipeline_act {
	PIPELINE_ANSWER = 1,	/* answer it here */
	PIPELINE_ADMIN,		/* hand it to the admin API (control thread) */
	PIPELINE_PROXY,		/* forward it to `route` */
};

struct pipeline_out {
	enum pipeline_act act;
	/* PIPELINE_ANSWER */
	int status;
	const char *type;	/* NULL: the hub's standard page for status */
	const char *body;	/* with type; points into `page` or static */
	size_t blen;
	const char *agent;	/* standard page: the offline agent's name */
	char location[1200];	/* a Location field when non-empty */
	const char *www_auth;	/* a WWW-Authenticate value (401), or NULL */
	bool log;		/* write an access-log line for the answer */
	bool close;		/* close the connection after it (HTTP/1.1) */
	struct buf page;	/* a body built here (metrics); see _free */
	char small[512];	/* a short body built here (ACME) */
	/* PIPELINE_PROXY (and PIPELINE_ANSWER after a route matched) */
	const struct route *route;
	/* PIPELINE_PROXY to a login route: who is logged in (the snapshot's,
	 * valid while the request holds it), for the identity headers. */
	const struct auth_user *who;
	/* A forward-auth answer with `who`: its signed assertion (the
	 * worker's cache holds it until the worker signs again, so the
	 * answer is framed at once), or NULL. Proxied requests get theirs
	 * when their head is built (xchg_assertion). */
	const char *assertion;
	/* A forward-auth answer: it carries the identity fields named by
	 * this policy (the route's; pipeline_id_fields), empty when `who`
	 * is NULL. NULL: not a forward-auth answer. */
	const struct access_policy *idpolicy;
	/* PIPELINE_PROXY: the hub consumed the Authorization (a route
	 * token); no Authorization field goes upstream. */
	bool drop_auth;
	/* PIPELINE_PROXY to a login route: a refreshed session cookie (a
	 * whole Set-Cookie value) the response carries as an extra field,
	 * or "" (docs/auth.md, idle lifetime). */
	char set_cookie[256];
};

/* The decision function is the hub's (hub/pipeline.c, pipeline_decide),
 * reached through front_ctx.ops->decide: it reads the route table and
 * the login users, which live above the front. It fills the caller's
 * `out`; release that with pipeline_out_free() once the answer has been
 * framed. */
void pipeline_out_free(struct pipeline_out *out);

/* A forward-auth answer's identity fields (names and values, views into
 * the route, the user and the assertion): how many (0 unless
 * out->idpolicy). Defined in pipeline_out.c. */
unsigned pipeline_id_fields(const struct pipeline_out *out, struct str name[4],
			    struct str value[4]);

#endif
