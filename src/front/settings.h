/* settings.h - the front's settings: limits and timeouts a reload may
 * change, copied into each snapshot (front/snap.h). The hub reads them
 * from its config file ([hub] keys, hub/config.c; docs/configuration.md). */
#ifndef POSTERN_FRONT_SETTINGS_H
#define POSTERN_FRONT_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"
#include "http/http.h"

#define HUB_MAX_TRUSTED 32

/* Settings a reload may change; copied into each snapshot. */
struct front_settings {
	struct http_limits limits;
	uint64_t header_timeout;	/* ns: first byte to complete head */
	uint64_t body_timeout;		/* ns: idle gap while reading a body */
	uint64_t keepalive_timeout;	/* ns: idle between requests */
	uint64_t send_timeout;		/* ns: a client not reading */
	uint64_t up_connect_timeout;
	uint64_t up_header_timeout;	/* request sent -> response head */
	uint64_t up_idle_timeout;	/* idle gap while streaming */
	uint64_t up_pool_idle;		/* pooled connection lifetime */
	uint64_t tunnel_idle_timeout;	/* upgraded connections */
	unsigned up_pool_max;		/* idle connections per target/worker */
	unsigned max_conns;		/* all workers together */
	unsigned max_conns_per_ip;
	/* HTTP/2: exchanges (upstream connections) in flight at once per
	 * client connection (more streams wait) and per client address (more
	 * get REFUSED_STREAM); docs/front.md. */
	unsigned h2_up_per_conn;
	unsigned h2_up_per_ip;
	char hostname[256];		/* the hub's own name (admin API) */
	uint16_t https_port;		/* the first HTTPS listener's (redirects) */
	char request_id_header[64];
	struct cidr trusted[HUB_MAX_TRUSTED];
	unsigned ntrusted;
	bool access_log;
};

/* True when the peer is a configured trusted proxy. */
bool front_settings_trusted(const struct front_settings *s, const struct addr *a);

#endif
