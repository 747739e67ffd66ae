/* api_check.c - the string checks fields name in their tables. Each
 * returns NULL when the value is fine, else what is wrong with it. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "api/api_resource.h"
#include "auth/auth_users.h"
#include "core/addr.h"
#include "core/enc.h"
#include "core/num.h"

static bool api_in(char ch, const char *set)
{
	return ch && strchr(set, ch) != NULL;
}

#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"

const char *api_check_dns_name(const char *s)
{
	return addr_host_name_ok(s, strlen(s), 1) ? NULL
		: "must be a lower-case DNS name (letters, digits, '-', dots)";
}

const char *api_check_host(const char *s)
{
	if (!strncmp(s, "*.", 2))
		return addr_host_name_ok(s + 2, strlen(s + 2), 2)
			? NULL : "must be a DNS name, or *. and a name with a dot";
	return api_check_dns_name(s);
}

/* A path: '/' then printable ASCII without ? # % \ or spaces, and no
 * empty, "." or ".." segment (which would match differently than it
 * reads). */
static bool api_path_ok(const char *s, size_t n)
{
	size_t start = 1;

	if (n == 0 || s[0] != '/')
		return false;
	for (size_t i = 1; i <= n; i++) {
		if (i < n && s[i] != '/') {
			if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f ||
			    api_in(s[i], "?#%\\"))
				return false;
			continue;
		}
		size_t len = i - start;
		const char *p = s + start;
		if (len == 0 && i < n)
			return false;	/* "//" */
		if ((len == 1 && p[0] == '.') || (len == 2 && !memcmp(p, "..", 2)))
			return false;
		start = i + 1;
	}
	return true;
}

const char *api_check_path(const char *s)
{
	return api_path_ok(s, strlen(s)) ? NULL
		: "must start with '/', with no empty, '.' or '..' segment and "
		  "no spaces, '?', '#', '%' or '\\'";
}

/* A host whose last label is all digits is an IPv4 address to every
 * resolver, which also takes shorthand ("127.1"), one number
 * ("2130706433") and octal ("0177.0.0.1"): only a plain dotted quad is
 * accepted, so what the API stores is what the hub dials. */
static bool api_target_ipv4_ok(const char *h, size_t n)
{
	const char *last = h + n;
	char buf[16];
	struct in_addr a;

	while (last > h && last[-1] != '.')
		last--;
	if (last == h + n)
		return true;
	for (const char *p = last; p < h + n; p++)
		if (*p < '0' || *p > '9')
			return true;	/* a name */
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, h, n);
	buf[n] = '\0';
	/* inet_pton takes exactly four decimal parts, no leading zeros. */
	return inet_pton(AF_INET, buf, &a) == 1;
}

/* host[:port] of a target URL: [IPv6], IPv4, or a name (letters, digits,
 * '-', '_', dots: container names have underscores). */
static const char *api_target_hostport(const char *s, size_t n, bool need_port)
{
	const char *colon, *host = s;
	size_t hlen;
	char buf[64];
	uint64_t port;

	if (n && s[0] == '[') {
		const char *end = memchr(s, ']', n);
		if (!end || (size_t)(end - s - 1) >= sizeof(buf))
			return "has a malformed [IPv6] address";
		memcpy(buf, s + 1, (size_t)(end - s - 1));
		buf[end - s - 1] = 0;
		struct in6_addr a6;
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return "has a malformed [IPv6] address";
		colon = end + 1 < s + n ? end + 1 : NULL;
		if (colon && *colon != ':')
			return "has junk after the [IPv6] address";
	} else {
		colon = memchr(s, ':', n);
		hlen = colon ? (size_t)(colon - s) : n;
		for (size_t i = 0; i < hlen; i++)
			if (!api_in((char)(host[i] | 0x20), LOWER_DIGITS "-._"))
				return "must name a host (letters, digits, '-', '_', dots)";
		if (hlen == 0)
			return "must name a host";
		if (!api_target_ipv4_ok(host, hlen))
			return "looks like an IPv4 address but is not a dotted quad "
			       "(write 127.0.0.1, not 127.1, 2130706433 or 0177.0.0.1)";
	}
	if (!colon)
		return need_port ? "must give a port (tcp://host:port)" : NULL;
	if (num_parse_u64(colon + 1, (size_t)(s + n - colon - 1), 1, 65535, &port) < 0)
		return "must have a port from 1 to 65535";
	return NULL;
}

const char *api_check_target(const char *s)
{
	static const char *const schemes[] = { "http://", "https://", "tcp://" };
	size_t i, n;
	const char *rest, *slash;

	for (i = 0; i < 3 && strncmp(s, schemes[i], strlen(schemes[i])); i++)
		;
	if (i == 3)
		return "must start with http://, https:// or tcp://";
	rest = s + strlen(schemes[i]);
	if (strpbrk(rest, "@?# "))
		return "must not have user info, a query or a fragment";
	slash = strchr(rest, '/');
	n = slash ? (size_t)(slash - rest) : strlen(rest);
	if (slash && i == 2)
		return "tcp:// targets have no path";
	if (slash && !api_path_ok(slash, strlen(slash)))
		return "has a malformed base path";
	return api_target_hostport(rest, n, i == 2);
}

const char *api_check_name(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (!api_in(s[i], LOWER_DIGITS "-") || (i == 0 && s[i] == '-'))
			return "must be lower-case letters, digits and '-'";
	return NULL;
}

const char *api_check_username(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (!api_in(s[i], LOWER_DIGITS "._-") ||
		    (i == 0 && !api_in(s[i], LOWER_DIGITS)))
			return "must be lower-case letters, digits, '.', '_' and '-', "
			       "starting with a letter or digit";
	return NULL;
}

const char *api_check_wg_key(const char *s)
{
	uint8_t key[33];

	return enc_b64std_decode(key, sizeof(key), s, strlen(s)) == 32 ? NULL
		: "must be a WireGuard public key (base64 of 32 bytes)";
}

const char *api_check_ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1 ? NULL : "must be an IPv4 address";
}

const char *api_check_ipv6(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, s, &a) == 1 ? NULL : "must be an IPv6 address";
}

static const char *api_check_enum(const char *s, const char *const *ok,
				  const char *why)
{
	for (; *ok; ok++)
		if (!strcmp(s, *ok))
			return NULL;
	return why;
}

/* Defines check NAME: the string must be one of the listed words. */
#define API_CHECK_ONE_OF(NAME, WHY, ...) \
	const char *NAME(const char *s) \
	{ \
		static const char *const ok[] = { __VA_ARGS__, NULL }; \
		return api_check_enum(s, ok, WHY); \
	}

API_CHECK_ONE_OF(api_check_role, "must be admin, operator or viewer", "admin", "operator", "viewer")
API_CHECK_ONE_OF(api_check_scope, "must be read or write", "read", "write")
API_CHECK_ONE_OF(api_check_agent_status, "must be pending, enrolled or disabled",
		 "pending", "enrolled", "disabled")
API_CHECK_ONE_OF(api_check_agent_kind, "must be agent or wireguard", "agent", "wireguard")

const char *api_check_text(const char *s)
{
	return *s ? NULL : "must not be empty";
}

/* An address handed to upstreams in X-Postern-Email: printable ASCII,
 * no space, no comma, one '@' with something on both sides. */
const char *api_check_email(const char *s)
{
	const char *at = strchr(s, '@');

	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == ',' || *p == '"' || *p == ';')
			return "must be an e-mail address (printable, no spaces)";
	if (!at || at == s || !at[1] || strchr(at + 1, '@'))
		return "must be an e-mail address";
	return NULL;
}

const char *api_check_groups(const char *s)
{
	return auth_groups_check(s);
}
