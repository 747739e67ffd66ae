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
#include "core/shtext.h"
#include "front/front_ctx.h"
#include "hub/certstore.h"
#include "hub/config.h"
#include "hub/control.h"
#include "hub/route.h"
#include "hub/route_certs.h"
#include "hub/tcpfwd.h"
#include "hub/tunnel.h"

struct worker;
struct front_snap;
struct acme_mgr;

struct hub {
	struct hub_config cfg;
	struct loop *loop;		/* control loop (main thread) */
	struct worker *workers;
	unsigned nworkers;
	/* What the workers share: listeners, side sockets, connection
	 * counters, the admin queue and its handler, the TLS server. */
	struct front_ctx front;
	struct loop_async admin_async;	/* wakes the control loop for admin calls */
	struct front_snap *snap;		/* the latest published (control's ref) */
	struct acme_mgr *acme;		/* certificates (NULL without [acme]) */
	struct certstore certs;		/* acme on the store (certstore.c) */
	struct hub_control control;	/* store and admin API (control.c) */
	struct hub_tunnel tunnel;	/* WireGuard side (tunnel.c) */
	/* Agents' online slots (tunnel.h): taken on the control thread by
	 * route compilation and peer sync, handshake times written by the
	 * tunnel on the control thread and read by every worker (atomics).
	 * Outside `tunnel` because routes keep their slots while the
	 * tunnel is closed. */
	struct hub_tunnel_online online;
	/* The per-agent metrics text: replaced by the tunnel's tick on the
	 * control thread, copied out by the metrics listener's worker
	 * (its own mutex; tunnel.h). */
	struct shtext tunnel_metrics;
	/* The ACME manager's metrics text: replaced by the manager on the
	 * control thread, copied out by the metrics listener's worker (its
	 * own mutex). The hub's, not the manager's: the manager starts after
	 * the workers and is freed before they are joined. */
	struct shtext acme_metrics;
	/* Upstream pool ids (route.h), control thread (its own lock). */
	struct route_pools pools;
	/* What route_table_build draws ids from: &pools, &front.metrics,
	 * &online (set once in hub_cmd_main). */
	struct route_env route_env;
	/* Self-signed certificates per route host without ACME
	 * (route_certs.h), control thread. */
	struct route_certs route_certs;
	struct tcpfwd tcp;		/* raw TCP routes (tcpfwd.c) */
	struct loop_async exit_async;	/* a worker finished */
	atomic_uint workers_left;
	bool stopping;
};

/* Builds a snapshot from the running config (routes from the store or
 * the routes file) and publishes it; keeps the old one on failure.
 * Control thread only. */
void hub_republish(struct hub *hub);

/* `postern hub -c FILE`. */
int hub_cmd_main(int argc, char **argv);

#endif
