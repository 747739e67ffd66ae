/* front_ctx.h - what the front's workers share, owned by the daemon that
 * runs them (the hub embeds one in struct hub).
 *
 * The front sits below the hub: it never includes a hub header. What it
 * needs from above comes through this object: the listeners' addresses
 * and the side sockets (filled before the workers start), the operations
 * the hub implements (front_ops: the request pipeline's decision, the
 * store's certificates, a worker's exit), and the admin call queue to the
 * control thread with the handler the control plane registers. The
 * connection counters shared by all workers live here too (atomics). */
#ifndef POSTERN_FRONT_FRONT_CTX_H
#define POSTERN_FRONT_FRONT_CTX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "acme/acme_chall.h"
#include "api/api.h"
#include "core/addr.h"
#include "core/loop.h"
#include "front/metrics.h"
#include "tls/tls.h"

struct admin_call;
struct front_settings;
struct pipeline_in;
struct pipeline_out;
struct tls_certset;
struct tls_server;

#define FRONT_IP_SLOTS 65536

/* An admin request handler: runs on the control thread, fills `resp` and
 * calls done(arg) once it is complete, then or later (a login waits for
 * its password check), on the control thread. Without one, admin
 * requests are answered 503. */
typedef void front_admin_fn(void *ctx, const struct api_req *req,
			    struct api_resp *resp, api_done_fn *done, void *arg);

/* What the owner (the hub) implements for the front. */
struct front_ops {
	/* The one request pipeline (hub/pipeline.c, pipeline_decide): what
	 * to do with a parsed request, for every HTTP version. Never fails:
	 * an internal problem is an answer. */
	void (*decide)(const struct pipeline_in *in, struct pipeline_out *out);
	/* Adds the certificates the owner manages (its store) to a set
	 * being built for a snapshot (control thread). NULL: none. */
	void (*tls_certs)(void *owner, struct tls_certset *set);
	/* Then, once the config's and the directory's certificates are in,
	 * adds stand-ins for names the set does not cover yet (control
	 * thread). NULL: none. */
	void (*tls_fallback_certs)(void *owner, struct tls_server *srv,
				   struct tls_certset *set);
	/* A worker thread's loop ended (called on that thread). */
	void (*worker_exited)(void *owner);
};

struct front_ctx {
	const struct front_ops *ops;
	void *owner;			/* passed back to ops */
	/* Listeners: bound by every worker with SO_REUSEPORT (owner's
	 * memory, fixed for the process's life). */
	const struct addr *listen_http, *listen_https;
	unsigned nlisten_http, nlisten_https;
	uint64_t shutdown_timeout;	/* ns: drain before closing */
	int access_fd;			/* -1 = stderr */
	int metrics_fd;			/* -1 = none; worker 0 serves it */
	int control_fd;			/* -1 = none; worker 0 serves it */
	int agent_fd[2];		/* agents' API on the tunnel addresses
					 * (v4, v6; -1 = none); worker 0's */
	/* Connection limits, shared by all workers. */
	atomic_uint nconns;
	atomic_uint ip_conns[FRONT_IP_SLOTS];
	/* HTTP/2 exchanges in flight per client address (hashed like
	 * ip_conns): h2_upstream_streams_per_ip */
	atomic_uint ip_h2_up[FRONT_IP_SLOTS];
	/* Admin calls from workers to the control thread, woken through
	 * `admin_wake` (an async of the control loop, the owner's). */
	struct loop_async *admin_wake;
	pthread_mutex_t admin_lock;
	struct admin_call *admin_queue;
	front_admin_fn *admin_fn;
	void *admin_ctx;
	/* The TLS server every snapshot's certificates go into (created by
	 * the first front_tls_build, freed by front_tls_cleanup), and the
	 * [tls] policy it started with (changes need a restart). */
	struct tls_server *tls_srv;
	struct tls_conf tls_conf;
	/* The request counters: each worker's block and the route-name
	 * registry (metrics.h says which thread writes what). */
	struct metrics metrics;
	/* The ACME challenge answers the listeners give (HTTP-01 on the
	 * plain-HTTP listener, TLS-ALPN-01 in the TLS handshake): read by the
	 * workers, written by the ACME worker thread, to which the hub lends
	 * it (acme_mgr_env). */
	struct acme_chall acme_chall;
	/* The last snapshot version handed out (snap_new, on the control
	 * thread; atomic as the counter was before it moved here). */
	_Atomic uint64_t snap_version;
};

/* Sets every field to its empty value (fds -1, no ops). */
void front_ctx_init(struct front_ctx *fc);
void front_ctx_fini(struct front_ctx *fc);

/* Connection accounting. front_conn_admit returns false (and changes
 * nothing) when a limit would be exceeded. */
bool front_conn_admit(struct front_ctx *fc, const struct front_settings *s,
		      uint32_t ip_hash);
void front_conn_release(struct front_ctx *fc, uint32_t ip_hash);
/* HTTP/2 exchange accounting per client address: front_h2_up_admit
 * returns false (and changes nothing) when the address already has `max`
 * in flight; every true is paired with one front_h2_up_release. */
bool front_h2_up_admit(struct front_ctx *fc, uint32_t ip_hash, unsigned max);
void front_h2_up_release(struct front_ctx *fc, uint32_t ip_hash);

#endif
