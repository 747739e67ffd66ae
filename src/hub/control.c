/* control.c - wiring the admin API and the store into the hub. */
#define LOG_SUBSYS "control"
#include "hub/control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/api_snapshot.h"
#include "api/api_tunnel.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/pidlock.h"
#include "core/secure.h"
#include "hub/hub.h"
#include "hub/front.h"
#include "hub/route.h"
#include "hub/snap.h"
#include "hub/tcpfwd.h"
#include "hub/tunnel.h"
#include "store/secret.h"
#include "tls/cert.h"

#define CONTROL_TICK_NS (5 * NSEC_PER_SEC)

/* One hub per process: the control plane's state. */
static struct {
	struct api *api;
	struct hub *hub;
	struct loop_timer tick;
	int lock_fd;		/* DATA/lock, held while the store is open */
} control = { .lock_fd = -1 };

bool hub_control_active(void)
{
	return control.api != NULL;
}

struct api *hub_control_api(void)
{
	return control.api;
}

/* Requests from the tunnel listener carry the agent's tunnel address;
 * the agent behind it is named by its WireGuard key. Those finish at
 * once (no endpoint of theirs checks a password), so the copy of the
 * request may live on the stack. */
static void hub_control_admin(void *ctx, const struct api_req *req,
			      struct api_resp *resp, api_done_fn *done, void *arg)
{
	struct api_req r;
	uint8_t key[32];

	if (req->transport != API_TRANSPORT_TUNNEL) {
		api_handle_async(ctx, req, resp, done, arg);
		return;
	}
	r = *req;
	r.tunnel_peer_key = req->client_ip &&
		api_tunnel_key_by_addr(ctx, req->client_ip, key) == 0 ? key : NULL;
	api_handle(ctx, &r, resp);
	done(arg);
}

/* Raw TCP routes follow the store like the route table does. */
static void hub_control_tcp(void)
{
	struct api_route_specs rs;

	if (api_route_specs(control.api, &rs) < 0)
		return;
	tcpfwd_sync(rs.specs, rs.n);
	api_route_specs_free(&rs);
}

static void hub_control_publish(void *ctx, struct api *api, unsigned what)
{
	(void)api;
	if (what & API_CHANGED_AGENTS)
		hub_tunnel_sync();
	if (what & (API_CHANGED_ROUTES | API_CHANGED_AGENTS | API_CHANGED_CERTS)) {
		hub_republish(ctx);
		hub_control_tcp();
	} else if (what & API_CHANGED_USERS) {
		hub_republish(ctx);	/* a logout reaches every worker now */
	}
}

static bool hub_control_join_pin(void *ctx, char out[65])
{
	const struct hub *hub = ctx;

	return hub->cfg.set.hostname[0] && front_tls_join_pin(hub->cfg.set.hostname, out);
}

/* One hub per data directory: a second one would append to the same
 * audit chain and adopt the first one's unsigned entries. The lock is
 * taken before the store is opened (or anything printed) and held until
 * the process exits. Returns 0 or -1 with err. */
static int hub_control_lock(const char *data_dir, char *err, size_t errlen)
{
	char path[4096], why[512];

	if (mkdir(data_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "data_dir %s: %s", data_dir, strerror(errno));
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/lock", data_dir) >= sizeof(path)) {
		snprintf(err, errlen, "data_dir: path too long");
		return -1;
	}
	control.lock_fd = pidlock_take(path, true, why, sizeof(why));
	if (control.lock_fd < 0) {
		snprintf(err, errlen, "another hub uses data_dir %s: %s", data_dir, why);
		return -1;
	}
	return 0;
}

/* "https://HOSTNAME[:PORT]" from the config, or "" without a hostname. */
static void hub_control_public_url(const struct hub_config *cfg, char *out, size_t len)
{
	unsigned port = 443;

	out[0] = 0;
	if (!cfg->set.hostname[0])
		return;
	if (cfg->nlisten_https)
		port = addr_port(&cfg->listen_https[0]);
	if (port == 443)
		snprintf(out, len, "https://%s", cfg->set.hostname);
	else
		snprintf(out, len, "https://%s:%u", cfg->set.hostname, port);
}

int hub_control_open(struct hub *hub, char *err, size_t errlen)
{
	const struct hub_config *cfg = &hub->cfg;
	char url[320];
	struct api_config ac = {
		.data_dir = cfg->data_dir,
		.secret_key = cfg->secret_key[0] ? cfg->secret_key : NULL,
		.audit_key = cfg->audit_key[0] ? cfg->audit_key : NULL,
		.public_url = url,
	};

	if (!cfg->data_dir[0])
		return 0;
	if (hub_control_lock(cfg->data_dir, err, errlen) < 0)
		return -1;
	hub_control_public_url(cfg, url, sizeof(url));
	if (!url[0])
		ac.public_url = NULL;
	control.api = api_open(&ac, err, errlen);
	if (!control.api) {
		pidlock_release(control.lock_fd);
		control.lock_fd = -1;
		return -1;
	}
	control.hub = hub;
	if (api_bootstrap(control.api, stdout) < 0) {
		snprintf(err, errlen, "cannot create the first admin user");
		hub_control_close(hub);
		return -1;
	}
	api_set_publisher(control.api, hub_control_publish, hub);
	hub->admin_fn = hub_control_admin;
	hub->admin_ctx = control.api;
	log_info("control plane: store in %s", cfg->data_dir);
	return 0;
}

static void hub_control_tick(struct loop_timer *t)
{
	api_tick(control.api);
	/* The workers' route token uses, batched (never per request). */
	if (control.hub->snap)
		api_machine_flush(control.api, control.hub->snap->creds);
	loop_timer_arm(control.hub->loop, t, CONTROL_TICK_NS);
}

/* The control socket admits root and the `postern` group (the API checks
 * the peer's credentials too; this lets the group connect at all). */
static void hub_control_socket_group(const struct hub_config *cfg)
{
	struct group *g = getgrnam("postern");
	struct stat st;

	if (!cfg->control_socket[0] || !g)
		return;
	/* Under the packaged unit (Group=postern, chown filtered out by its
	 * SystemCallFilter) the socket is born in the group already. */
	if (stat(cfg->control_socket, &st) < 0 ||
	    (st.st_gid != g->gr_gid &&
	     chown(cfg->control_socket, (uid_t)-1, g->gr_gid) < 0) ||
	    chmod(cfg->control_socket, 0660) < 0)
		log_warn("control_socket: cannot give it to group postern");
}

static int hub_control_port_check(void *ctx, unsigned port, char *why, size_t len)
{
	(void)ctx;
	return tcpfwd_port_check(port, why, len);
}

static int hub_control_port_status(void *ctx, unsigned port, char *why, size_t len)
{
	(void)ctx;
	return tcpfwd_port_status(port, why, len);
}

int hub_control_attach(struct hub *hub)
{
	if (!control.api)
		return 0;
	hub_control_socket_group(&hub->cfg);
	if (api_start_workers(control.api, hub->loop) < 0)
		log_warn("no password threads: logins are checked on the control thread");
	api_set_join_pin(control.api, hub_control_join_pin, hub);
	api_set_tcp_ports(control.api, hub_control_port_check, hub_control_port_status, NULL);
	hub_tunnel_open(hub, control.api);
	tcpfwd_start(hub->loop, &hub->cfg);
	hub_control_tcp();
	api_events_start(control.api, hub->loop, NULL);	/* webhooks; logs failure */
	loop_timer_init(&control.tick, hub_control_tick, NULL);
	loop_timer_arm(hub->loop, &control.tick, CONTROL_TICK_NS);
	return 0;
}

void hub_control_quiesce(struct hub *hub)
{
	(void)hub;
	if (control.api)
		api_stop_workers(control.api);
}

void hub_control_close(struct hub *hub)
{
	if (!control.api)
		return;
	api_events_stop(control.api);
	tcpfwd_stop();
	hub_tunnel_close();
	if (hub->loop)
		loop_timer_disarm(hub->loop, &control.tick);
	api_close(control.api);
	control.api = NULL;
	control.hub = NULL;
	pidlock_release(control.lock_fd);	/* after the audit tail is signed */
	control.lock_fd = -1;
}

/* tcp:// routes are tcpfwd's, not the HTTP table's: moved past the end
 * (the free function still sees them). */
static void hub_control_http_only(struct api_route_specs *rs)
{
	size_t k = 0;

	for (size_t i = 0; i < rs->n; i++) {
		if (rs->specs[i].target && !strncmp(rs->specs[i].target, "tcp://", 6))
			continue;
		struct route_spec tmp = rs->specs[k];
		rs->specs[k++] = rs->specs[i];
		rs->specs[i] = tmp;
	}
	rs->nhttp = k;
}

/* Builds the table from the specs that compile, logging the others. */
static struct route_table *hub_control_build(const struct api_route_specs *rs,
					     char *err, size_t errlen)
{
	struct route_table *t = route_table_build(rs->specs, rs->nhttp, err, errlen);
	struct route_spec *good;
	size_t kept = 0;
	char why[256];

	if (t)
		return t;
	good = calloc(rs->nhttp ? rs->nhttp : 1, sizeof(*good));
	if (!good)
		return NULL;
	for (size_t i = 0; i < rs->nhttp; i++) {
		struct route_table *one = route_table_build(&rs->specs[i], 1, why, sizeof(why));
		if (one) {
			good[kept++] = rs->specs[i];	/* borrows the strings */
			route_table_free(one);
			continue;
		}
		log_warn("not serving %s (%s -> %s): %s", rs->specs[i].name,
			 rs->specs[i].host, rs->specs[i].target, why);
	}
	t = route_table_build(good, kept, err, errlen);
	free(good);
	return t;
}

struct route_table *hub_control_routes(char *err, size_t errlen)
{
	struct api_route_specs rs;
	struct route_table *t;

	if (api_route_specs(control.api, &rs) < 0) {
		snprintf(err, errlen, "cannot read the routes from the store");
		return NULL;
	}
	hub_control_http_only(&rs);
	t = hub_control_build(&rs, err, errlen);
	api_route_specs_free(&rs);
	return t;
}

struct auth_users *hub_control_users(void)
{
	return control.api ? api_auth_users(control.api) : NULL;
}

struct auth_creds *hub_control_creds(void)
{
	const struct hub_snap *cur = control.hub ? control.hub->snap : NULL;

	return control.api ? api_machine_creds(control.api, cur ? cur->creds : NULL) : NULL;
}

/* One stored certificate into the set. */
static void hub_control_cert(struct tls_certset *set, struct store *s, int64_t id,
			     const char *name, const char *pem)
{
	uint8_t *key = NULL;
	size_t klen = 0;
	char why[256];

	if (secret_get(s, api_keys(control.api), "certificate", id, "key", &key, &klen) < 0) {
		log_warn("certificate %s: its key cannot be opened; not served", name);
		return;
	}
	if (tls_certset_add_pem(set, pem, strlen(pem), (const char *)key, klen, why,
				sizeof(why)) < 0)
		log_warn("certificate %s not served: %s", name, why);
	secure_free(key, klen + 1);
}

void hub_control_certs(struct tls_certset *set)
{
	struct store *s = api_store(control.api);
	sqlite3_stmt *st = store_prepare(s, "SELECT id, name, cert_pem FROM certificates"
					 " ORDER BY id");

	if (!st)
		return;
	while (sqlite3_step(st) == SQLITE_ROW)
		hub_control_cert(set, s, sqlite3_column_int64(st, 0),
				 (const char *)sqlite3_column_text(st, 1),
				 (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
}
