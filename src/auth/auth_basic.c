/* auth_basic.c - route tokens in Authorization (see auth_basic.h). */
#include "auth/auth_basic.h"

#include <stdbool.h>
#include <string.h>

#include "core/enc.h"

/* RFC 9110 s11.2 token68: ALPHA DIGIT "-._~+/" then '=' padding. */
static bool auth_basic_token68(struct str s)
{
	size_t i = 0;

	while (i < s.len && (strchr("-._~+/", s.p[i]) || (s.p[i] >= '0' && s.p[i] <= '9') ||
			     (s.p[i] >= 'a' && s.p[i] <= 'z') || (s.p[i] >= 'A' && s.p[i] <= 'Z')) &&
	       s.p[i])
		i++;
	while (i < s.len && s.p[i] == '=')
		i++;
	return s.len > 0 && i == s.len;
}

/* Splits "Scheme SP+ credentials" (leading and trailing spaces
 * ignored). Returns false when there is no credential part. */
static bool auth_basic_split(struct str v, struct str *scheme, struct str *cred)
{
	size_t i = 0;

	v = str_trim_ows(v);
	while (i < v.len && v.p[i] != ' ' && v.p[i] != '\t')
		i++;
	*scheme = str_make(v.p, i);
	while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t'))
		i++;
	*cred = str_make(v.p + i, v.len - i);
	return scheme->len && cred->len;
}

static bool auth_basic_ours(struct str t)
{
	return str_has_prefix(t, STR_LIT(AUTH_ROUTE_TOKEN_PREFIX));
}

/* Basic: base64("name:password"); the password is the token. */
static int auth_basic_decode(struct str cred, char *buf, struct str *tok)
{
	long n = enc_b64std_decode((uint8_t *)buf, AUTH_BASIC_MAX, cred.p, cred.len);
	const char *colon;

	/* Not decodable or without a password: somebody else's Basic (the
	 * app's own login), not ours to judge. */
	if (n < 0)
		return 0;
	colon = memchr(buf, ':', (size_t)n);
	if (!colon)
		return 0;
	*tok = str_make(colon + 1, (size_t)(buf + n - (colon + 1)));
	if (!auth_basic_ours(*tok))
		return 0;
	/* The token itself is token68-safe (base64url); anything else in
	 * the decoded password (controls, NUL) is not one of ours. */
	return auth_basic_token68(*tok) ? 1 : -1;
}

/* auth_basic_token without its promise that *tok is empty unless 1. */
static int auth_basic_find(struct str v, char *buf, struct str *tok)
{
	struct str scheme, cred;

	if (!auth_basic_split(v, &scheme, &cred))
		return 0;
	if (str_eq_ci(scheme, STR_LIT("bearer"))) {
		if (!auth_basic_ours(cred))
			return 0;
		*tok = cred;
		return auth_basic_token68(cred) ? 1 : -1;
	}
	if (str_eq_ci(scheme, STR_LIT("basic")))
		return auth_basic_token68(cred) ? auth_basic_decode(cred, buf, tok) : 0;
	return 0;
}

int auth_basic_token(struct str v, char *buf, struct str *tok)
{
	int rc = auth_basic_find(v, buf, tok);

	if (rc <= 0)
		*tok = STR_NULL;
	return rc;
}
