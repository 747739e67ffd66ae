/* bypass.h - a login route's bypass rules: requests that pass without a
 * login (a health check, CORS preflight, a LAN client).
 *
 *   "bypass": {"paths": ["/health", "/.well-known"],
 *              "methods": ["OPTIONS"], "cidrs": ["192.168.1.0/24"]}
 *
 * A request passes when any one rule matches: its normalised path lies
 * under one of the path prefixes (http_path_prefix_match: the same
 * case-folding and '/', '?', ';' boundary as route prefixes, so
 * "/health" covers "/HEALTH" and "/health;x" but not "/healthz" or
 * "/health/../admin", which normalises to "/admin"), its method is one
 * of the methods (exact, methods are case-sensitive), or the client is
 * in one of the ranges. The rules only lift the login: the route's
 * "access" allow/deny still applies. */
#ifndef POSTERN_ACCESS_BYPASS_H
#define POSTERN_ACCESS_BYPASS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/addr.h"
#include "core/str.h"

#define ACCESS_BYPASS_MAX 16
#define ACCESS_BYPASS_PATH_MAX 128
#define ACCESS_BYPASS_METHOD_MAX 16

struct access_bypass {
	unsigned npaths, nmethods, ncidrs;
	char paths[ACCESS_BYPASS_MAX][ACCESS_BYPASS_PATH_MAX + 1];
	size_t plen[ACCESS_BYPASS_MAX];
	char methods[ACCESS_BYPASS_MAX][ACCESS_BYPASS_METHOD_MAX + 1];
	struct cidr cidrs[ACCESS_BYPASS_MAX];
};

struct json_t;
/* Reads the policy's "bypass" object (absent: no rules) into *b. Paths
 * must already be in normal form (a '/' then no "//", dot segments,
 * '%', ';', '?', '#' or back-slash), so what the operator wrote is what
 * is compared. Returns 0 or -EINVAL with the bad member named in err. */
int access_bypass_parse(struct json_t *root, struct access_bypass *b, char *err,
			size_t errlen);

/* Whether a request (method token, normalised path, client) passes the
 * login by one of the rules. */
bool access_bypass_match(const struct access_bypass *b, struct str method, struct str path,
			 const struct addr *peer);

#endif
