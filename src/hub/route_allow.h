/* route_allow.h - a route's target against the allowlist its agent
 * reported, with the agent's own rules (agent/allow.h), so that the API
 * can flag a route the agent will refuse. */
#ifndef POSTERN_HUB_ROUTE_ALLOW_H
#define POSTERN_HUB_ROUTE_ALLOW_H

#include <jansson.h>

/* `allow`: the agent's --allow values (JSON strings); `host` lower case
 * (an address literal or a name), `port`. Returns 1 when the agent would
 * let it through (for a name: that the name may be resolved; the
 * addresses it resolves to are checked by the agent when it dials), 0
 * when it would refuse it, -1 when a value cannot be read (the hub is
 * older than the agent). An api_allow_check_fn. */
int route_allow_check(const json_t *allow, const char *host, unsigned port);

#endif
