/* tcpfwd.h - raw TCP routes (tcp://HOST:PORT targets with a
 * tcp_listen_port): a public port on the hub forwarded through an agent.
 * Control thread only; see tcpfwd.c. */
#ifndef POSTERN_HUB_TCPFWD_H
#define POSTERN_HUB_TCPFWD_H

#include <stddef.h>

#include "core/accept.h"
#include "core/loop.h"
#include "hub/config.h"
#include "store/route_spec.h"

#define TCPFWD_ROUTES 64

struct tcpfwd_route;
struct hub_tunnel_online;
struct tcpfwd_conn;

/* The hub's raw TCP routes, a field of struct hub (control thread;
 * zero until tcpfwd_start). */
struct tcpfwd {
	struct loop *loop;		/* NULL: not serving */
	const struct hub_config *cfg;
	/* The hub's agent online table (hub->online): slots are taken on
	 * the control thread, where the routes also check them. */
	struct hub_tunnel_online *online;
	struct tcpfwd_route *routes[TCPFWD_ROUTES];
	struct tcpfwd_conn *conns;	/* every open connection */
	struct accept_backoff acc;	/* every route's listeners off while out of fds */
	/* Ports the last sync could not listen on, and why (-errno): the
	 * routes' status in the API (tcpfwd_port_status). */
	struct { uint16_t port; int err; } failed[TCPFWD_ROUTES];
	unsigned nfailed;
};

/* Serves tcp routes on `loop` from now on, on the IPs of the config's
 * https listeners (else its http ones), with agents' slots in `online`.
 * `cfg` and `online` must outlive it. */
void tcpfwd_start(struct tcpfwd *f, struct loop *loop, const struct hub_config *cfg,
		  struct hub_tunnel_online *online);
/* Makes the listeners match the tcp:// routes among `specs` (other
 * specs are ignored): new ports opened, gone ones closed, the rest
 * retargeted. Connections in progress keep their target. */
void tcpfwd_sync(struct tcpfwd *f, const struct route_spec *specs, size_t n);
/* Whether a tcp route may take public `port`: not a hub listener's, not
 * another route's, and bindable now on every public address (a probe
 * bind, closed at once). Returns 0, or -1 with why. 0 before
 * tcpfwd_start. */
int tcpfwd_port_check(struct tcpfwd *f, unsigned port, char *why, size_t len);
/* A tcp route's port as the last sync left it: 1 listening; 0 not, with
 * why (the bind's error, or no agent to serve it); -1 before
 * tcpfwd_start. */
int tcpfwd_port_status(struct tcpfwd *f, unsigned port, char *why, size_t len);
/* Closes every listener and connection (the hub is stopping). */
void tcpfwd_stop(struct tcpfwd *f);

#endif
