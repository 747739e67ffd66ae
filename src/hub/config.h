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
#include "front/front.h"
#include "front/settings.h"
#include "tls/tls.h"

#define HUB_MAX_LISTEN 8
#define HUB_MAX_CERTS 16


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
	struct front_cert certs[HUB_MAX_CERTS];
	unsigned ncerts;
	struct tls_conf tls;		/* [tls] (docs/tls.md) */
	struct front_settings set;
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


#endif
