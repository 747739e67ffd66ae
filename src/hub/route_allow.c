/* route_allow.c - see route_allow.h. */
#include "hub/route_allow.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "agent/allow.h"

int route_allow_check(const json_t *allow, const char *host, unsigned port)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} u;
	struct allow a;
	char err[160];
	size_t i;
	json_t *v;
	int r = -1;

	allow_init(&a);
	json_array_foreach(allow, i, v)
		if (!json_is_string(v) || allow_add(&a, json_string_value(v), err,
						    sizeof(err)) < 0)
			goto out;
	memset(&u, 0, sizeof(u));
	if (inet_pton(AF_INET, host, &u.in4.sin_addr) == 1) {
		u.in4.sin_family = AF_INET;
		u.in4.sin_port = htons((uint16_t)port);
		r = allow_addr_check(&a, &u.sa);
	} else if (inet_pton(AF_INET6, host, &u.in6.sin6_addr) == 1) {
		u.in6.sin6_family = AF_INET6;
		u.in6.sin6_port = htons((uint16_t)port);
		r = allow_addr_check(&a, &u.sa);
	} else {
		r = allow_name_check(&a, (struct str){ host, strlen(host) }, (uint16_t)port);
	}
out:
	allow_free(&a);
	return r;
}
