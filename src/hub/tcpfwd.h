/* tcpfwd.h - raw TCP routes (tcp://HOST:PORT targets with a
 * tcp_listen_port): a public port on the hub forwarded through an agent.
 * Control thread only; see tcpfwd.c. */
#ifndef POSTERN_HUB_TCPFWD_H
#define POSTERN_HUB_TCPFWD_H

#include <stddef.h>

#include "core/loop.h"
#include "hub/config.h"
#include "store/route_spec.h"

/* Serves tcp routes on `loop` from now on, on the IPs of the config's
 * https listeners (else its http ones). `cfg` must outlive it. */
void tcpfwd_start(struct loop *loop, const struct hub_config *cfg);
/* Makes the listeners match the tcp:// routes among `specs` (other
 * specs are ignored): new ports opened, gone ones closed, the rest
 * retargeted. Connections in progress keep their target. */
void tcpfwd_sync(const struct route_spec *specs, size_t n);
/* Whether a tcp route may take public `port`: not a hub listener's, not
 * another route's, and bindable now on every public address (a probe
 * bind, closed at once). Returns 0, or -1 with why. 0 before
 * tcpfwd_start. */
int tcpfwd_port_check(unsigned port, char *why, size_t len);
/* A tcp route's port as the last sync left it: 1 listening; 0 not, with
 * why (the bind's error, or no agent to serve it); -1 before
 * tcpfwd_start. */
int tcpfwd_port_status(unsigned port, char *why, size_t len);
/* Closes every listener and connection (the hub is stopping). */
void tcpfwd_stop(void);

#endif
