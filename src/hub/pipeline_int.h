/* pipeline_int.h - steps of the request pipeline shared between its
 * files (pipeline.c, pipeline_fwd.c); not for the protocols. */
#ifndef POSTERN_HUB_PIPELINE_INT_H
#define POSTERN_HUB_PIPELINE_INT_H

#include "hub/decide.h"

/* Where a proxy of the user's own asks about a request (on the hub's host). */
#define PIPELINE_FWD_AUTH "/.postern/forward-auth"	/* Traefik, Caddy: 302 */
#define PIPELINE_FWD_NGINX "/.postern/auth-request"	/* nginx: 401 + Location */

/* Authentication per route policy: a "login" route needs a live route
 * cookie for this host whose user the policy admits. Returns true when
 * it answered (302 to the portal, 401, 403), false to go on with
 * out->who set (or NULL for a public route). */
bool pipeline_auth(const struct pipeline_in *in, const struct route *r,
		   struct pipeline_out *out);

/* The forward-auth endpoint, for a request on the hub's host over TLS:
 * true when the path was one of its own and it answered. */
bool pipeline_fwd(const struct pipeline_in *in, struct pipeline_out *out);

/* Machine credentials on a login route (pipeline_cred.c): a route token
 * of this route in Authorization (consumed: never forwarded), a share
 * link's session cookie, none, or a credential that must be refused (a
 * token of another route, unknown, malformed). `host` is normalised. */
enum pipeline_cred {
	PIPELINE_CRED_NONE = 0,
	PIPELINE_CRED_TOKEN,
	PIPELINE_CRED_SHARE,
	PIPELINE_CRED_BAD,
};
enum pipeline_cred pipeline_cred_check(const struct pipeline_in *in, const struct route *r,
				       const char *host);

#endif
