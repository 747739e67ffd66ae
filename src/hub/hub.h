/* hub.h - the hub daemon: config, workers, the control thread, reloads.
 *
 * The process's main thread runs the control loop (signals, reloads,
 * admin API calls); N worker threads run the front. State shared between
 * them is the connection counters (atomics), the snapshot mailboxes and
 * the admin call queue; nothing else. */
#ifndef POSTERN_HUB_HUB_H
#define POSTERN_HUB_HUB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "api/api.h"
#include "core/loop.h"
#include "hub/config.h"

struct worker;
struct hub_snap;
struct acme_mgr;

#define HUB_IP_SLOTS 65536

/* An admin request handler: runs on the control thread, fills `resp` and
 * calls done(arg) once it is complete, then or later (a login waits for
 * its password check), on the control thread. The default answers 503
 * until the control plane registers one. */
typedef void hub_admin_fn(void *ctx, const struct api_req *req,
			  struct api_resp *resp, api_done_fn *done, void *arg);

/* Builds server TLS contexts from the config's certificates for a new
 * snapshot. Returns an opaque object (freed with *free_fn) or NULL with
 * a message in err. Registered by the TLS module's glue; NULL = no TLS. */
typedef void *hub_tls_build_fn(const struct hub_config *cfg,
			       void (**free_fn)(void *), char *err,
			       size_t errlen);

struct hub {
	struct hub_config cfg;
	struct loop *loop;		/* control loop (main thread) */
	struct worker *workers;
	unsigned nworkers;
	int access_fd;			/* -1 = stderr */
	/* connection limits, shared by all workers */
	atomic_uint nconns;
	atomic_uint ip_conns[HUB_IP_SLOTS];
	/* HTTP/2 exchanges in flight per client address (hashed like
	 * ip_conns): h2_upstream_streams_per_ip */
	atomic_uint ip_h2_up[HUB_IP_SLOTS];
	/* admin calls from workers */
	struct loop_async admin_async;
	pthread_mutex_t admin_lock;
	struct admin_call *admin_queue;
	hub_admin_fn *admin_fn;
	void *admin_ctx;
	struct hub_snap *snap;		/* the latest published (control's ref) */
	struct acme_mgr *acme;		/* certificates (NULL without [acme]) */
	int metrics_fd;			/* -1 = none; worker 0 serves it */
	int control_fd;			/* -1 = none; worker 0 serves it */
	int agent_fd[2];		/* agents' API on the tunnel addresses
					 * (v4, v6; -1 = none); worker 0's */
	struct loop_async exit_async;	/* a worker finished */
	atomic_uint workers_left;
	bool stopping;
};

/* Registers the admin API handler (control plane). Call before hub_run. */
void hub_set_admin_handler(hub_admin_fn *fn, void *ctx);
/* Registers the TLS context builder (tls glue). */
void hub_set_tls_builder(hub_tls_build_fn *fn);

/* Builds a snapshot from the running config (routes from the store or
 * the routes file) and publishes it; keeps the old one on failure.
 * Control thread only. */
void hub_republish(struct hub *hub);

/* `postern hub -c FILE`. */
int hub_cmd_main(int argc, char **argv);

/* Connection accounting. hub_conn_admit returns false (and changes
 * nothing) when a limit would be exceeded. */
bool hub_conn_admit(struct hub *hub, const struct hub_settings *s,
		    uint32_t ip_hash);
void hub_conn_release(struct hub *hub, uint32_t ip_hash);
/* HTTP/2 exchange accounting per client address: hub_h2_up_admit returns
 * false (and changes nothing) when the address already has `max` in
 * flight; every true is paired with one hub_h2_up_release. */
bool hub_h2_up_admit(struct hub *hub, uint32_t ip_hash, unsigned max);
void hub_h2_up_release(struct hub *hub, uint32_t ip_hash);
/* A worker thread's loop ended (called on that thread). */
void hub_worker_exited(struct hub *hub);

#endif
