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
#include "front/front.h"
#include "hub/route.h"
#include "front/snap.h"
#include "hub/route_allow.h"
#include "hub/tcpfwd.h"
#include "hub/tunnel.h"
#include "store/cert.h"
#include "store/secret.h"
#include "tls/cert.h"

#define CONTROL_TICK_NS (5 * NSEC_PER_SEC)

bool hub_control_active(const struct hub *hub)
{
	return hub->control.api != NULL;
}

struct api *hub_control_api(const struct hub *hub)
{
	return hub->control.api;
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
static void hub_control_tcp(struct hub *hub)
{
	struct api_route_specs rs;

	if (api_route_specs(hub->control.api, &rs) < 0)
		return;
	tcpfwd_sync(&hub->tcp, rs.specs, rs.n);
	api_route_specs_free(&rs);
}

static void hub_control_publish(void *ctx, struct api *api, unsigned what)
{
	(void)api;
	if (what & API_CHANGED_AGENTS)
		hub_tunnel_sync(ctx);
	if (what & (API_CHANGED_ROUTES | API_CHANGED_AGENTS | API_CHANGED_CERTS)) {
		hub_republish(ctx);
		hub_control_tcp(ctx);
	} else if (what & API_CHANGED_USERS) {
		hub_republish(ctx);	/* a logout reaches every worker now */
	}
}

static bool hub_control_join_pin(void *ctx, char out[65])
{
	const struct hub *hub = ctx;

	return hub->cfg.set.hostname[0] && front_tls_join_pin(&hub->front, hub->cfg.set.hostname, out);
}

/* One hub per data directory: a second one would append to the same
 * audit chain and adopt the first one's unsigned entries. The lock is
 * taken before the store is opened (or anything printed) and held until
 * the process exits. Returns 0 or -1 with err. */
static int hub_control_lock(struct hub *hub, const char *data_dir, char *err,
			    size_t errlen)
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
	hub->control.lock_fd = pidlock_take(path, true, why, sizeof(why));
	if (hub->control.lock_fd < 0) {
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
	struct hub_control *ctl = &hub->control;
	char url[320];
	struct api_config ac = {
		.data_dir = cfg->data_dir,
		.secret_key = cfg->secret_key[0] ? cfg->secret_key : NULL,
		.audit_key = cfg->audit_key[0] ? cfg->audit_key : NULL,
		.public_url = url,
	};

	ctl->lock_fd = -1;
	if (!cfg->data_dir[0])
		return 0;
	if (hub_control_lock(hub, cfg->data_dir, err, errlen) < 0)
		return -1;
	hub_control_public_url(cfg, url, sizeof(url));
	if (!url[0])
		ac.public_url = NULL;
	ctl->api = api_open(&ac, err, errlen);
	if (!ctl->api) {
		pidlock_release(ctl->lock_fd);
		ctl->lock_fd = -1;
		return -1;
	}
	if (api_bootstrap(ctl->api, stdout) < 0) {
		snprintf(err, errlen, "cannot create the first admin user");
		hub_control_close(hub);
		return -1;
	}
	api_set_publisher(ctl->api, hub_control_publish, hub);
	hub->front.admin_fn = hub_control_admin;
	hub->front.admin_ctx = ctl->api;
	log_info("control plane: store in %s", cfg->data_dir);
	return 0;
}

static void hub_control_tick(struct loop_timer *t)
{
	struct hub *hub = t->data;

	api_tick(hub->control.api);
	/* The workers' route token uses, batched (never per request). */
	if (hub->snap)
		api_machine_flush(hub->control.api, hub->snap->creds);
	loop_timer_arm(hub->loop, t, CONTROL_TICK_NS);
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
	struct hub *hub = ctx;

	return tcpfwd_port_check(&hub->tcp, port, why, len);
}

static int hub_control_port_status(void *ctx, unsigned port, char *why, size_t len)
{
	struct hub *hub = ctx;

	return tcpfwd_port_status(&hub->tcp, port, why, len);
}

int hub_control_attach(struct hub *hub)
{
	struct hub_control *ctl = &hub->control;

	if (!ctl->api)
		return 0;
	hub_control_socket_group(&hub->cfg);
	if (api_start_workers(ctl->api, hub->loop) < 0)
		log_warn("no password threads: logins are checked on the control thread");
	api_set_join_pin(ctl->api, hub_control_join_pin, hub);
	api_set_tcp_ports(ctl->api, hub_control_port_check, hub_control_port_status, hub);
	api_set_allow_check(ctl->api, route_allow_check);
	hub_tunnel_open(hub, ctl->api);
	tcpfwd_start(&hub->tcp, hub->loop, &hub->cfg, &hub->online);
	hub_control_tcp(hub);
	api_events_start(ctl->api, hub->loop, NULL);	/* webhooks; logs failure */
	loop_timer_init(&ctl->tick, hub_control_tick, hub);
	loop_timer_arm(hub->loop, &ctl->tick, CONTROL_TICK_NS);
	return 0;
}

void hub_control_quiesce(struct hub *hub)
{
	if (hub->control.api)
		api_stop_workers(hub->control.api);
}

void hub_control_close(struct hub *hub)
{
	struct hub_control *ctl = &hub->control;

	if (!ctl->api)
		return;
	api_events_stop(ctl->api);
	tcpfwd_stop(&hub->tcp);
	hub_tunnel_close(hub);
	if (hub->loop)
		loop_timer_disarm(hub->loop, &ctl->tick);
	api_close(ctl->api);
	ctl->api = NULL;
	pidlock_release(ctl->lock_fd);	/* after the audit tail is signed */
	ctl->lock_fd = -1;
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
static struct route_table *hub_control_build(const struct route_env *env,
					     const struct api_route_specs *rs,
					     char *err, size_t errlen)
{
	struct route_table *t = route_table_build(env, rs->specs, rs->nhttp, err, errlen);
	struct route_spec *good;
	size_t kept = 0;
	char why[256];

	if (t)
		return t;
	good = calloc(rs->nhttp ? rs->nhttp : 1, sizeof(*good));
	if (!good)
		return NULL;
	for (size_t i = 0; i < rs->nhttp; i++) {
		struct route_table *one = route_table_build(env, &rs->specs[i], 1, why, sizeof(why));
		if (one) {
			good[kept++] = rs->specs[i];	/* borrows the strings */
			route_table_free(one);
			continue;
		}
		log_warn("not serving %s (%s -> %s): %s", rs->specs[i].name,
			 rs->specs[i].host, rs->specs[i].target, why);
	}
	t = route_table_build(env, good, kept, err, errlen);
	free(good);
	return t;
}

struct route_table *hub_control_routes(struct hub *hub, char *err, size_t errlen)
{
	struct api_route_specs rs;
	struct route_table *t;

	if (api_route_specs(hub->control.api, &rs) < 0) {
		snprintf(err, errlen, "cannot read the routes from the store");
		return NULL;
	}
	hub_control_http_only(&rs);
	t = hub_control_build(&hub->route_env, &rs, err, errlen);
	api_route_specs_free(&rs);
	return t;
}

struct auth_users *hub_control_users(struct hub *hub)
{
	return hub->control.api ? api_auth_users(hub->control.api) : NULL;
}

struct auth_creds *hub_control_creds(struct hub *hub)
{
	const struct front_snap *cur = hub->snap;

	return hub->control.api ? api_machine_creds(hub->control.api, cur ? cur->creds : NULL)
				: NULL;
}

/* One stored certificate into the set. */
static void hub_control_cert(struct api *api, struct tls_certset *set,
			     struct store *s, int64_t id, const char *name,
			     const char *pem)
{
	uint8_t *key = NULL;
	size_t klen = 0;
	char why[256];

	if (secret_get(s, api_keys(api), "certificate", id, "key", &key, &klen) < 0) {
		log_warn("certificate %s: its key cannot be opened; not served", name);
		return;
	}
	if (tls_certset_add_pem(set, pem, strlen(pem), (const char *)key, klen, why,
				sizeof(why)) < 0)
		log_warn("certificate %s not served: %s", name, why);
	secure_free(key, klen + 1);
}

/* store_cert_each's callback: the set and the store it reads keys from. */
struct hub_control_certs_ctx {
	struct api *api;
	struct tls_certset *set;
	struct store *s;
};

static void hub_control_cert_row(void *arg, int64_t id, const char *name,
				 const char *chain)
{
	struct hub_control_certs_ctx *c = arg;

	hub_control_cert(c->api, c->set, c->s, id, name, chain);
}

void hub_control_certs(struct hub *hub, struct tls_certset *set)
{
	struct hub_control_certs_ctx c = { hub->control.api, set,
					   api_store(hub->control.api) };

	store_cert_each(c.s, hub_control_cert_row, &c);
}
