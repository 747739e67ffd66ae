/* fwd.h - the request a forward-auth call describes.
 *
 * A proxy that keeps its own front (Traefik forwardAuth, nginx
 * auth_request, Caddy forward_auth) asks the hub about each request it
 * receives by sending the client's head to the hub with four fields:
 *
 *   X-Forwarded-Method  GET          (absent: the call's own method)
 *   X-Forwarded-Proto   https        (absent: http, so never a portal trip)
 *   X-Forwarded-Host    app.example  (required)
 *   X-Forwarded-Uri     /path?query  (absent: "/")
 *
 * These are untrusted bytes: each field must appear at most once, hold
 * one value (no list) and fit its syntax; the URI is normalised like a
 * request target (http/target.h) so a protected prefix cannot be dodged
 * with "..", "%2e" or "//". */
#ifndef POSTERN_HTTP_FWD_H
#define POSTERN_HTTP_FWD_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"

#define HTTP_FWD_URI_MAX 2048
#define HTTP_FWD_HOST_MAX 255

struct http_fwd {
	struct str method;		/* a view into the call's head */
	enum http_method meth;
	bool https;
	struct str host;		/* a view: host[:port] */
	char uri[HTTP_FWD_URI_MAX + 1];	/* normalised copy */
	size_t uri_len;
};

/* Reads the forwarded request out of the call `m`. Returns 0, or -1 when
 * a field is repeated, missing (the host) or malformed. */
int http_fwd_parse(const struct http_msg *m, struct http_fwd *f);

#endif
