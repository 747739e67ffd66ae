/* config.h - the hub's bootstrap config file ([hub] section).
 *
 * Listener addresses and the worker count are fixed at start; everything
 * else (limits, timeouts, trusted proxies, routes file, certificates) is
 * re-read on SIGHUP and published to the workers in a new snapshot. The
 * keys are documented in docs/configuration.md ("hub"). */
#ifndef POSTERN_HUB_CONFIG_H
#define POSTERN_HUB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "acme/acme_mgr.h"
#include "http/http.h"
#include "core/addr.h"
#include "tls/tls.h"

#define HUB_MAX_LISTEN 8
#define HUB_MAX_TRUSTED 32
#define HUB_MAX_CERTS 16

/* Settings a reload may change; copied into each snapshot. */
struct hub_settings {
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

struct hub_cert {
	char cert[512];
	char key[512];
};

/* [wireguard]: the hub's tunnel (hub/tunnel.h). */
struct hub_wg_conf {
	bool enabled;		/* default on (needs data_dir and root) */
	uint16_t port;		/* UDP listen port, default 51820 */
	char ifname[16];	/* TUN interface, default "postern0" */
	char endpoint[300];	/* what agents dial; default hostname:port */
	unsigned mtu;		/* default 1420 */
	bool uapi;		/* serve /var/run/wireguard/IF.sock for wg(8) */
};

struct hub_config {
	char path[512];
	unsigned workers;
	struct addr listen_http[HUB_MAX_LISTEN];
	unsigned nlisten_http;
	struct addr listen_https[HUB_MAX_LISTEN];
	unsigned nlisten_https;
	struct addr metrics_listen;
	bool metrics;
	char control_socket[108];
	/* The control plane (src/hub/control.c): the store's directory
	 * ("" = no store: routes come from the routes file) and the key
	 * files, by default inside it. */
	char data_dir[512];
	char secret_key[512];
	char audit_key[512];
	char routes_file[512];
	char access_log_path[512];	/* "" = stderr */
	uint64_t shutdown_timeout;
	struct hub_cert certs[HUB_MAX_CERTS];
	unsigned ncerts;
	struct tls_conf tls;		/* [tls] (docs/tls.md) */
	struct hub_settings set;
	struct acme_mgr_cfg acme;	/* [acme]: docs/acme.md */
	struct hub_wg_conf wg;		/* [wireguard] */
};

/* Reads and checks the file. Returns 0, or -1 with "FILE:LINE: why" in
 * err. Unknown keys are errors. */
int hub_config_load(struct hub_config *cfg, const char *path, char *err,
		    size_t errlen);
/* Creates the directories the config names that the hub writes into and
 * that may not exist yet on a first start ([tls] cert_dir, 0700), before
 * anything else is opened or printed. Returns 0 or -1 with err. */
int hub_config_make_dirs(const struct hub_config *cfg, char *err, size_t errlen);

/* The defaults (also what tests without a key get). */
void hub_config_defaults(struct hub_config *cfg);

/* True when the peer is a configured trusted proxy. */
bool hub_settings_trusted(const struct hub_settings *s, const struct addr *a);

#endif
