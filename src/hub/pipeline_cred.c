/* pipeline_cred.c - the pipeline's machine credentials on a login route:
 * a route token in Authorization (Bearer or Basic) and a share link's
 * session cookie, both checked against the snapshot only (auth_creds.h). */
#include "hub/pipeline_int.h"

#include <string.h>
#include <time.h>

#include "auth/auth_basic.h"
#include "auth/auth_creds.h"
#include "auth/auth_users.h"
#include "core/secure.h"
#include "http/parse.h"
#include "hub/route.h"
#include "front/snap.h"

/* The route tokens in Authorization fields: a token of this route
 * admits; a token of another route, an unknown or a malformed one
 * refuses, whatever else the request carries. */
static enum pipeline_cred pipeline_cred_token(const struct pipeline_in *in, const struct route *r)
{
	const struct http_msg *m = in->m;
	enum pipeline_cred res = PIPELINE_CRED_NONE;
	char buf[AUTH_BASIC_MAX];

	for (unsigned i = 0; i < m->nhdr && res != PIPELINE_CRED_BAD; i++) {
		struct auth_route_token *k;
		struct str tok;
		int rc;

		if (!str_eq_ci(m->hdr[i].name, STR_LIT("authorization")))
			continue;
		rc = auth_basic_token(m->hdr[i].value, buf, &tok);
		if (rc == 0)
			continue;
		k = rc > 0 ? auth_creds_token(in->w->hold->snap->creds, tok) : NULL;
		if (k && k->route_id == r->id) {
			auth_creds_touch(k, (int64_t)time(NULL));
			res = PIPELINE_CRED_TOKEN;
		} else {
			res = PIPELINE_CRED_BAD;
		}
	}
	secure_wipe(buf, sizeof(buf));
	return res;
}

/* A route cookie that is a share link's session for this route. */
static bool pipeline_cred_share(const struct pipeline_in *in, const struct route *r,
				const char *host)
{
	const struct front_snap *s = in->w->hold->snap;
	const struct http_msg *m = in->m;
	int64_t now = (int64_t)time(NULL);

	if (!s->creds || !s->creds->nshare || !s->users || !s->users->keyed)
		return false;
	for (unsigned i = 0; i < m->nhdr; i++) {
		struct str v = m->hdr[i].value, tok;
		if (!str_eq_ci(m->hdr[i].name, STR_LIT("cookie")))
			continue;
		while (auth_cookie_find(v, STR_LIT(AUTH_COOKIE_ROUTE), &tok)) {
			if (auth_creds_share_ok(s->creds, &in->w->cookies, s->users->key, host, tok,
						now, r->id))
				return true;
			v = str_make(tok.p + tok.len, (size_t)(v.p + v.len - (tok.p + tok.len)));
		}
	}
	return false;
}

enum pipeline_cred pipeline_cred_check(const struct pipeline_in *in, const struct route *r,
				       const char *host)
{
	enum pipeline_cred res = pipeline_cred_token(in, r);

	if (res == PIPELINE_CRED_NONE && host[0] && pipeline_cred_share(in, r, host))
		res = PIPELINE_CRED_SHARE;
	return res;
}
