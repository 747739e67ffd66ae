/* acme_name.c - DNS name and token checks. */
#include "acme/acme_name.h"

#include <string.h>
#include <strings.h>

#include "core/addr.h"
#include "core/enc.h"

bool acme_name_valid(const char *name, bool allow_wildcard)
{
	if (allow_wildcard && !strncmp(name, "*.", 2))
		name += 2;
	return addr_host_name_ok(name, strlen(name), 2);
}

bool acme_name_token_ok(const char *token)
{
	size_t n = strlen(token);

	return n > 0 && n <= 256 && enc_b64url_chars(token, n);
}

bool acme_name_covers(const char *pattern, const char *host)
{
	const char *dot;

	if (!strcasecmp(pattern, host))
		return true;
	if (strncmp(pattern, "*.", 2))
		return false;
	dot = strchr(host, '.');
	return dot && dot != host && !strcasecmp(dot + 1, pattern + 2);
}
