/* pipeline_fwd.c - forward-auth: the route policy check for a proxy of
 * the user's own (Traefik forwardAuth, Caddy forward_auth, nginx
 * auth_request) that sends the client's head to the hub with the request
 * described in X-Forwarded-Method/-Proto/-Host/-Uri (http/fwd.h).
 *
 * The described request goes through the same route lookup and the same
 * authentication step (pipeline_auth) as one the hub proxies itself; only
 * the answer differs: 200 with the identity fields (which the proxy
 * copies onto the request it forwards), or the refusal. For nginx, whose
 * auth_request treats anything but 2xx, 401 and 403 as an error, the
 * portal trip is a 401 carrying the Location (nginx turns it into the
 * redirect with error_page). The route's CIDR rules are not applied: the
 * hub sees the proxy's address, not the client's. */
#define LOG_SUBSYS "pipeline"
#include <string.h>

#include "access/policy.h"
#include "auth/auth_users.h"
#include "http/fwd.h"
#include "hub/pipeline_int.h"
#include "hub/route.h"
#include "front/snap.h"
#include "front/xchg.h"

static void pipeline_fwd_text(struct pipeline_out *out, int status, const char *body)
{
	out->act = PIPELINE_ANSWER;
	out->status = status;
	out->type = "text/plain; charset=utf-8";
	out->body = body;
	out->blen = strlen(body);
}

bool pipeline_fwd(const struct pipeline_in *in, struct pipeline_out *out)
{
	struct str p = in->m->path;
	const char *q = memchr(p.p, '?', p.len);
	struct str path = q ? str_make(p.p, (size_t)(q - p.p)) : p;
	bool nginx = str_eq(path, STR_LIT(PIPELINE_FWD_NGINX));
	const struct front_snap *snap = in->w->hold->snap;
	struct http_fwd f;
	struct http_msg m;
	struct pipeline_in fin = *in;
	const struct route *r;

	if (!nginx && !str_eq(path, STR_LIT(PIPELINE_FWD_AUTH)))
		return false;
	if (http_fwd_parse(in->m, &f) < 0) {
		pipeline_fwd_text(out, 400, "400 Bad Request\nX-Forwarded-Host, -Uri, -Method"
				  " or -Proto missing or malformed.\n");
		return true;
	}
	m = *in->m;
	m.method = f.method;
	m.meth = f.meth;
	m.host = f.host;
	m.path = str_make(f.uri, f.uri_len);
	m.flags &= ~HTTP_F_UPGRADE;
	fin.m = &m;
	fin.kind = f.https ? LISTEN_HTTPS : LISTEN_HTTP;
	r = pipeline_hub_host(&snap->set, f.host) ? NULL
		: route_lookup(snap->routes, m.host, m.path);
	if (r && route_path_ambiguous(snap->routes, m.host, m.path, r)) {
		pipeline_fwd_text(out, 400, "400 Bad Request\nAn encoded slash (%2F or %5C) in "
				  "X-Forwarded-Uri would take it to another route if the server "
				  "decoded it.\n");
		return true;
	}
	if (!r) {
		pipeline_fwd_text(out, 403, "403 Forbidden\nNo route of this hub serves that host.\n");
		return true;
	}
	out->route = r;
	if (pipeline_auth(&fin, r, out)) {
		if (nginx && out->status == 302) {
			out->status = 401;
			out->www_auth = "Postern realm=\"postern\"";
		}
		return true;
	}
	pipeline_fwd_text(out, 200, "");
	out->idpolicy = &r->access;
	out->assertion = xchg_assertion(in->w, snap, out->who, f.host);
	return true;
}
