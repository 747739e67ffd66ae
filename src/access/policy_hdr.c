/* policy_hdr.c - a login route's identity field names ("headers" in its
 * policy; see policy.h). Apps read the identity from fields of their own
 * convention (Remote-User, Remote-Groups...): any name is fine that is a
 * plain field name and not one the hub frames or forwards itself, since
 * a client's copy of it is removed before the hub adds its own. */
#include "access/policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

static const char *const access_id_keys[ACCESS_ID_MAX] = {
	"user", "groups", "email", "assertion",
};
static const char *const access_id_default[ACCESS_ID_MAX] = {
	"X-Postern-User", "X-Postern-Groups", "X-Postern-Email", "X-Postern-Assertion",
};

/* Names the hub sets, frames or strips itself: renaming an identity
 * field onto one would corrupt the request or leak a credential. */
static bool access_hdr_reserved(const char *s)
{
	static const char *const no[] = {
		"host", "cookie", "set-cookie", "authorization", "proxy-authorization",
		"content-length", "content-type", "transfer-encoding", "connection", "upgrade",
		"te", "trailer", "keep-alive", "proxy-connection", "expect", "forwarded",
		"x-real-ip", "x-request-id", NULL,
	};

	for (size_t i = 0; no[i]; i++)
		if (!strcasecmp(s, no[i]))
			return true;
	return !strncasecmp(s, "x-forwarded-", 12);
}

/* NULL when `s` is an acceptable field name: 1..ACCESS_HDR_MAX letters,
 * digits and '-', starting with a letter, not reserved. */
static const char *access_hdr_check(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ACCESS_HDR_MAX ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return "a field name of 1 to 64 letters, digits and '-'";
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-'))
			return "a field name of 1 to 64 letters, digits and '-'";
	}
	return access_hdr_reserved(s) ? "a field the hub sets or removes itself" : NULL;
}

int access_headers_parse(struct json_t *root, struct access_policy *p, char *err, size_t errlen)
{
	json_t *h = json_object_get(root, "headers"), *v;
	const char *k, *why;

	if (!h)
		return 0;
	if (!json_is_object(h) || !p->login) {
		snprintf(err, errlen, "policy.headers: an object, with \"auth\": \"login\"");
		return -EINVAL;
	}
	json_object_foreach(h, k, v) {
		const char *s = json_string_value(v);
		unsigned i = 0;
		while (i < ACCESS_ID_MAX && strcmp(access_id_keys[i], k))
			i++;
		if (i == ACCESS_ID_MAX) {
			snprintf(err, errlen, "policy.headers: unknown key \"%.40s\"", k);
			return -EINVAL;
		}
		if ((why = s ? access_hdr_check(s) : "not a string")) {
			snprintf(err, errlen, "policy.headers.%s: %s", k, why);
			return -EINVAL;
		}
		snprintf(p->idhdr[i], sizeof(p->idhdr[i]), "%s", s);
	}
	for (unsigned i = 0; i < ACCESS_ID_MAX; i++)
		for (unsigned j = i + 1; j < ACCESS_ID_MAX; j++)
			if (!strcasecmp(access_id_header(p, (enum access_id)i),
					access_id_header(p, (enum access_id)j))) {
				snprintf(err, errlen, "policy.headers.%s: the same field as %s",
					 access_id_keys[j], access_id_keys[i]);
				return -EINVAL;
			}
	return 0;
}

const char *access_id_header(const struct access_policy *p, enum access_id k)
{
	return p->idhdr[k][0] ? p->idhdr[k] : access_id_default[k];
}
