/* fwd.c - a forward-auth call's description of the request (fwd.h). */
#include "http/fwd.h"

#include <string.h>

#include "http/parse.h"
#include "http/target.h"

/* The one value of field `name`: 1 with *v set, 0 when absent, -1 when
 * it is sent twice. */
static int http_fwd_field(const struct http_msg *m, struct str name, struct str *v)
{
	int found = 0;

	for (unsigned i = 0; i < m->nhdr; i++) {
		if (!str_eq_ci(m->hdr[i].name, name))
			continue;
		if (found++)
			return -1;
		*v = m->hdr[i].value;
	}
	return found;
}

/* A host as an authority may carry it: letters, digits, '-', '.', '_',
 * and ':' '[' ']' for a port or an IPv6 literal; no list, no user info. */
static bool http_fwd_host_ok(struct str h)
{
	if (h.len == 0 || h.len > HTTP_FWD_HOST_MAX)
		return false;
	for (size_t i = 0; i < h.len; i++) {
		char c = h.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-._:[]", c)) || c == 0)
			return false;
	}
	return true;
}

/* The method: a token (RFC 9110 s5.6.2). */
static bool http_fwd_method_ok(struct str s)
{
	if (s.len == 0 || s.len > 32)
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!http_tchar((unsigned char)s.p[i]))
			return false;
	return true;
}

/* The URI: origin-form, visible ASCII, then normalised into f->uri. */
static bool http_fwd_uri(struct http_fwd *f, struct str u)
{
	if (u.len == 0 || u.len > HTTP_FWD_URI_MAX || u.p[0] != '/')
		return false;
	for (size_t i = 0; i < u.len; i++)
		if ((unsigned char)u.p[i] <= 0x20 || (unsigned char)u.p[i] >= 0x7f)
			return false;
	memcpy(f->uri, u.p, u.len);
	f->uri_len = u.len;
	if (http_target_normalize(f->uri, &f->uri_len) < 0)
		return false;
	f->uri[f->uri_len] = 0;
	return true;
}

int http_fwd_parse(const struct http_msg *m, struct http_fwd *f)
{
	struct str meth = m->method, proto = STR_LIT("http"), host, uri = STR_LIT("/");

	memset(f, 0, sizeof(*f));
	if (http_fwd_field(m, STR_LIT("x-forwarded-method"), &meth) < 0 ||
	    http_fwd_field(m, STR_LIT("x-forwarded-proto"), &proto) < 0 ||
	    http_fwd_field(m, STR_LIT("x-forwarded-host"), &host) != 1 ||
	    http_fwd_field(m, STR_LIT("x-forwarded-uri"), &uri) < 0)
		return -1;
	if (!http_fwd_method_ok(meth) || !http_fwd_host_ok(host) || !http_fwd_uri(f, uri))
		return -1;
	if (str_eq_ci(proto, STR_LIT("https")))
		f->https = true;
	else if (!str_eq_ci(proto, STR_LIT("http")))
		return -1;
	f->method = meth;
	f->meth = http_method_lookup(meth);
	f->host = host;
	return 0;
}
