/* hub.c - `postern hub`: start workers, run the control loop (signals,
 * reloads, admin calls), shut down gracefully. */
#define LOG_SUBSYS "hub"
#include "hub/hub.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "acme/acme_mgr.h"
#include "core/exit.h"
#include "hub/hub_cmd.h"
#include "core/log.h"
#include "front/admin.h"
#include "hub/certstore.h"
#include "front/front.h"
#include "hub/control.h"
#include "hub/decide.h"
#include "hub/route.h"
#include "hub/route_certs.h"
#include "front/snap.h"
#include "front/worker.h"

/* ---- snapshots ---- */

/* Builds a snapshot from cfg: routes file and TLS contexts. Returns NULL
 * with a message in err. */
static struct front_snap *hub_snap_build(struct hub *hub, const struct hub_config *cfg,
				       char *err, size_t errlen)
{
	struct route_table *t;
	struct front_snap *s;

	if (hub_control_active(hub))
		t = hub_control_routes(hub, err, errlen);
	else if (cfg->routes_file[0])
		t = route_file_load(&hub->route_env, cfg->routes_file, err, errlen);
	else
		t = route_table_build(&hub->route_env, NULL, 0, err, errlen);
	if (!t)
		return NULL;
	s = snap_new(&hub->front.snap_version, &cfg->set, t, route_table_free);
	if (!s) {
		route_table_free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (hub_control_active(hub)) {
		s->users = hub_control_users(hub);
		s->creds = hub_control_creds(hub);
	}
	if (cfg->nlisten_https || cfg->ncerts) {
		s->tls = front_tls_build(&hub->front, &cfg->tls, cfg->certs, cfg->ncerts,
					 &s->tls_free, err, errlen);
		if (!s->tls) {
			snap_unref(s);
			return NULL;
		}
	}
	return s;
}

static void hub_publish(struct hub *hub, struct front_snap *s)
{
	for (unsigned i = 0; i < hub->nworkers; i++) {
		snap_ref(s);
		worker_post_snap(&hub->workers[i], s);
	}
	if (hub->snap)
		snap_unref(hub->snap);
	hub->snap = s;
}

static void hub_acme_hosts(struct hub *hub);

void hub_republish(struct hub *hub)
{
	char err[512];
	struct front_snap *s = hub_snap_build(hub, &hub->cfg, err, sizeof(err));

	if (!s) {
		log_err("publish: %s (keeping the running snapshot)", err);
		return;
	}
	hub_publish(hub, s);
	log_info("published %u routes (snapshot %llu)", route_table_count(s->routes),
		 (unsigned long long)s->version);
	hub_acme_hosts(hub);
}

static void hub_reload(struct hub *hub)
{
	struct hub_config *cfg = malloc(sizeof(*cfg));
	struct front_snap *s;
	char err[512];

	if (!cfg)
		return;
	if (hub_config_load(cfg, hub->cfg.path, err, sizeof(err)) < 0) {
		log_err("reload: %s (keeping the running configuration)", err);
		free(cfg);
		return;
	}
	/* The certificate manager starts with the hub and keeps its copy. */
	if (memcmp(&cfg->acme, &hub->cfg.acme, sizeof(cfg->acme)))
		log_warn("reload: %s", hub->acme ? "[acme] changes take effect after a "
			 "restart of the hub" : "a new [acme] section needs a restart of the "
			 "hub (no certificates are ordered until then)");
	s = hub_snap_build(hub, cfg, err, sizeof(err));
	if (!s) {
		log_err("reload: %s (keeping the running configuration)", err);
		free(cfg);
		return;
	}
	if (cfg->nlisten_http != hub->cfg.nlisten_http ||
	    cfg->nlisten_https != hub->cfg.nlisten_https || cfg->workers != hub->cfg.workers)
		log_warn("reload: listener and worker changes need a restart");
	/* Keep what only a restart changes; take the rest. */
	memcpy(cfg->listen_http, hub->cfg.listen_http, sizeof(cfg->listen_http));
	cfg->nlisten_http = hub->cfg.nlisten_http;
	memcpy(cfg->listen_https, hub->cfg.listen_https, sizeof(cfg->listen_https));
	cfg->nlisten_https = hub->cfg.nlisten_https;
	cfg->workers = hub->cfg.workers;
	hub->cfg = *cfg;
	hub->front.shutdown_timeout = hub->cfg.shutdown_timeout;
	free(cfg);
	hub_publish(hub, s);
	log_info("reloaded: %u routes (snapshot %llu)", route_table_count(s->routes),
		 (unsigned long long)s->version);
	hub_acme_hosts(hub);
}

/* ---- control loop ---- */

struct hub_sig {
	struct loop_io io;
	struct hub *hub;
};

static void hub_stop(struct hub *hub)
{
	if (hub->stopping)
		return;
	hub->stopping = true;
	log_info("shutting down: finishing requests in flight");
	/* Logins waiting for a password check are answered now (503), so
	 * the workers' drain does not wait for a queue of guesses. */
	hub_control_quiesce(hub);
	for (unsigned i = 0; i < hub->nworkers; i++)
		worker_post_stop(&hub->workers[i]);
}

static void hub_signal(struct loop_io *io, uint32_t events)
{
	struct hub_sig *hs = io->data;
	struct signalfd_siginfo si;

	(void)events;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			hub_reload(hs->hub);
		else
			hub_stop(hs->hub);
	}
}

static void hub_admin_ready(struct loop_async *a)
{
	struct hub *hub = a->data;

	admin_control_run(&hub->front);
}

static void hub_exit_ready(struct loop_async *a)
{
	struct hub *hub = a->data;

	if (atomic_load(&hub->workers_left) == 0)
		loop_stop(hub->loop);
}

/* A worker thread's loop ended (called on that thread). */
static void hub_worker_exited(void *owner)
{
	struct hub *hub = owner;

	atomic_fetch_sub(&hub->workers_left, 1);
	loop_async_send(&hub->exit_async);
}

/* ---- certificates (acme/acme_mgr.h) ---- */

/* Route hosts go to the manager, which orders certificates for those no
 * certificate covers ("*.example.com" for wildcard routes). */
static void hub_acme_hosts(struct hub *hub)
{
	const struct route_table *t = hub->snap ? hub->snap->routes : NULL;
	unsigned n = route_table_count(t), k = 0;
	const char **hosts;

	certstore_sync(hub);
	if (!hub->acme || !n || !(hosts = calloc(n, sizeof(*hosts))))
		return;
	char (*buf)[258] = calloc(n, sizeof(*buf));
	for (unsigned i = 0; buf && i < n; i++) {
		const struct route *r = route_table_at(t, i);

		if (!r->host_len || !strcmp(r->host, "*"))
			continue;
		snprintf(buf[k], sizeof(buf[k]), "%s%s", r->wildcard ? "*" : "", r->host);
		if (certstore_covers(hub, buf[k]))	/* an imported certificate */
			continue;
		hosts[k] = buf[k];
		k++;
	}
	acme_mgr_set_hosts(hub->acme, hosts, k);
	free(buf);
	free(hosts);
}

/* A certificate was written to the state directory: reload, so the TLS
 * contexts built from the configured certificate files pick it up while
 * traffic flows (the same path as SIGHUP). */
static int hub_acme_install(void *arg, const char *id, const char *chain_pem,
			    const char *key_pem, char *err, size_t errlen)
{
	struct hub *hub = arg;

	(void)chain_pem, (void)key_pem, (void)err, (void)errlen;
	log_info("certificate %s stored; reloading the TLS certificates", id);
	if (!hub->stopping)
		hub_reload(hub);
	return 0;
}

static int hub_acme_start(struct hub *hub)
{
	struct acme_mgr_hooks hooks = { .install = hub_acme_install, .arg = hub };
	struct acme_mgr_env env = { .metrics = &hub->acme_metrics,
				    .chall = &hub->front.acme_chall };
	char err[512];

	if (!hub->cfg.acme.enabled)
		return 0;
	certstore_hooks(hub, &hooks);	/* with a control plane: the store */
	hub->acme = acme_mgr_new(hub->loop, &hub->cfg.acme, &hooks, &env, err, sizeof(err));
	if (!hub->acme) {
		log_err("acme: %s", err);
		return -1;
	}
	certstore_attach(hub, hub->acme);
	hub_acme_hosts(hub);
	return 0;
}

/* Before the first snapshot: every configured certificate has something
 * to serve (state_dir files, or the store with a control plane). */
static int hub_acme_prepare(struct hub *hub, char *err, size_t errlen)
{
	struct acme_mgr_hooks hooks = { 0 };
	bool store = hub->cfg.acme.enabled && certstore_hooks(hub, &hooks);

	if (store)	/* the admin API's own name is served over HTTPS too */
		certstore_want_hostname(&hub->cfg.acme, hub->cfg.set.hostname);
	return acme_mgr_prepare(&hub->cfg.acme, store ? &hooks : NULL, err, errlen);
}

/* ---- setup ---- */

static int hub_open_control(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	/* The socket file is born 0600 (not umask-wide and then narrowed, which
	 * would leave a moment where others could connect). */
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));

	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int hub_open_metrics(const struct addr *a)
{
	int one = 1, fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 || listen(fd, 128) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int hub_open_side(struct hub *hub)
{
	const struct hub_config *cfg = &hub->cfg;

	struct front_ctx *fc = &hub->front;

	if (cfg->access_log_path[0]) {
		fc->access_fd = open(cfg->access_log_path,
				     O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fc->access_fd < 0) {
			log_err("access_log %s: %s", cfg->access_log_path, strerror(errno));
			return -1;
		}
	}
	if (cfg->metrics && (fc->metrics_fd = hub_open_metrics(&cfg->metrics_listen)) < 0) {
		log_err("metrics_listen: %s", strerror(-fc->metrics_fd));
		return -1;
	}
	if (cfg->control_socket[0] &&
	    (fc->control_fd = hub_open_control(cfg->control_socket)) < 0) {
		log_err("control_socket %s: %s", cfg->control_socket, strerror(-fc->control_fd));
		return -1;
	}
	return 0;
}

static int hub_start_workers(struct hub *hub)
{
	hub->nworkers = hub->cfg.workers;
	hub->workers = calloc(hub->nworkers, sizeof(*hub->workers));
	if (!hub->workers)
		return -1;
	atomic_store(&hub->workers_left, hub->nworkers);
	for (unsigned i = 0; i < hub->nworkers; i++) {
		int r = worker_init(&hub->workers[i], &hub->front, hub->snap, i);
		if (r < 0) {
			log_err("worker %u: %s", i, strerror(-r));
			return -1;
		}
	}
	for (unsigned i = 0; i < hub->nworkers; i++)
		if (worker_start(&hub->workers[i]) < 0)
			return -1;
	return 0;
}

static void hub_usage(FILE *f)
{
	fprintf(f, "usage: postern hub -c FILE\n"
		   "       postern hub init --hostname NAME --email ADDRESS (--help)\n\n"
		   "Runs the hub: the HTTPS front, control plane and tunnel endpoint.\n"
		   "SIGHUP reloads routes, certificates and settings; SIGTERM drains\n"
		   "requests in flight and exits.\n");
}

static int hub_args(int argc, char **argv, const char **path)
{
	*path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			hub_usage(stdout);
			return 1;
		}
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			*path = argv[++i];
			continue;
		}
		fprintf(stderr, "postern hub: unknown argument '%s'\n", argv[i]);
		hub_usage(stderr);
		return -1;
	}
	if (!*path) {
		hub_usage(stderr);
		return -1;
	}
	return 0;
}

static int hub_run(struct hub *hub)
{
	struct hub_sig hs = { .hub = hub };
	sigset_t set;
	int sfd, r;
	bool acme_ok;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 || loop_io_add(hub->loop, &hs.io, sfd, LOOP_READ, hub_signal, &hs) < 0 ||
	    loop_async_init(hub->loop, &hub->admin_async, hub_admin_ready, hub) < 0 ||
	    loop_async_init(hub->loop, &hub->exit_async, hub_exit_ready, hub) < 0)
		return -1;
	hub->front.admin_wake = &hub->admin_async;
	if (front_tls_control_start(&hub->front, hub->loop) < 0 || hub_start_workers(hub) < 0)
		return -1;
	/* After the workers: HTTP-01 answers need the :80 listeners. A
	 * manager that cannot start stops the hub (workers exit cleanly). */
	acme_ok = hub_acme_start(hub) == 0;
	if (!acme_ok)
		hub_stop(hub);
	log_info("ready: %u workers, %u routes", hub->nworkers,
		 route_table_count(hub->snap->routes));
	r = loop_run(hub->loop);
	hub_control_quiesce(hub);
	certstore_detach(hub);
	acme_mgr_free(hub->acme);
	hub->acme = NULL;
	for (unsigned i = 0; i < hub->nworkers; i++)
		worker_join(&hub->workers[i]);
	loop_io_del(hub->loop, &hs.io);
	close(sfd);
	log_info("stopped");
	return acme_ok ? r : -1;
}

static void hub_free(struct hub *hub)
{
	if (hub->workers)
		for (unsigned i = 0; i < hub->nworkers; i++)
			worker_destroy(&hub->workers[i]);
	free(hub->workers);
	loop_async_close(hub->loop, &hub->admin_async);
	loop_async_close(hub->loop, &hub->exit_async);
	if (hub->snap)
		snap_unref(hub->snap);
	route_certs_free(&hub->route_certs);
	front_tls_cleanup(&hub->front);	/* after every connection and snapshot */
	if (hub->front.access_fd >= 0)
		close(hub->front.access_fd);
	if (hub->cfg.control_socket[0] && hub->front.control_fd >= 0)
		unlink(hub->cfg.control_socket);
	hub_control_close(hub);	/* the tunnel with it */
	loop_free(hub->loop);
	front_ctx_fini(&hub->front);
	route_pools_fini(&hub->pools);
	free(hub);
}

/* The store's certificates for a snapshot's TLS server (front_ops). */
static void hub_tls_certs(void *owner, struct tls_certset *set)
{
	struct hub *hub = owner;

	if (hub_control_active(hub))
		hub_control_certs(hub, set);
}

/* Without ACME, a self-signed certificate naming each route's host
 * (front_ops). */
static void hub_tls_fallback_certs(void *owner, struct tls_server *srv,
				   struct tls_certset *set)
{
	struct hub *hub = owner;

	if (!hub->cfg.acme.enabled && hub_control_active(hub))
		route_certs_add(&hub->route_certs, hub_control_api(hub), srv, set);
}

static const struct front_ops hub_front_ops = {
	.decide = pipeline_decide,
	.tls_certs = hub_tls_certs,
	.tls_fallback_certs = hub_tls_fallback_certs,
	.worker_exited = hub_worker_exited,
};

/* What the workers read from the config at start (listeners, drain). */
static void hub_front_listeners(struct hub *hub)
{
	struct front_ctx *fc = &hub->front;

	fc->listen_http = hub->cfg.listen_http;
	fc->nlisten_http = hub->cfg.nlisten_http;
	fc->listen_https = hub->cfg.listen_https;
	fc->nlisten_https = hub->cfg.nlisten_https;
	fc->shutdown_timeout = hub->cfg.shutdown_timeout;
}

int hub_cmd_main(int argc, char **argv)
{
	struct hub *hub;
	const char *path;
	char err[512];
	int r = hub_args(argc, argv, &path);

	if (r)
		return r > 0 ? CMD_EXIT_OK : CMD_EXIT_USAGE;
	hub = calloc(1, sizeof(*hub));
	if (!hub)
		return CMD_EXIT_FAIL;
	front_ctx_init(&hub->front);
	route_pools_init(&hub->pools);
	pthread_mutex_init(&hub->tunnel_metrics.lock, NULL);
	pthread_mutex_init(&hub->acme_metrics.lock, NULL);
	hub->route_env = (struct route_env){
		.pools = &hub->pools, .metrics = &hub->front.metrics, .online = &hub->online,
	};
	hub->front.ops = &hub_front_ops;
	hub->front.owner = hub;
	if (hub_config_load(&hub->cfg, path, err, sizeof(err)) < 0 ||
	    hub_config_make_dirs(&hub->cfg, err, sizeof(err)) < 0 ||
	    hub_control_open(hub, err, sizeof(err)) < 0 ||
	    hub_acme_prepare(hub, err, sizeof(err)) < 0 ||
	    !(hub->snap = hub_snap_build(hub, &hub->cfg, err, sizeof(err)))) {
		fprintf(stderr, "postern hub: %s\n", err);
		route_certs_free(&hub->route_certs);
	front_tls_cleanup(&hub->front);
		hub_control_close(hub);
		front_ctx_fini(&hub->front);
		route_pools_fini(&hub->pools);
		free(hub);
		return CMD_EXIT_FAIL;
	}
	hub_front_listeners(hub);
	hub->loop = loop_new();
	r = hub->loop && hub_open_side(hub) == 0 && hub_control_attach(hub) == 0 &&
	    hub_run(hub) == 0 ? CMD_EXIT_OK : CMD_EXIT_FAIL;
	hub_free(hub);
	return r;
}
