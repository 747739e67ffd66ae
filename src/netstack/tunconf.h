/* tunconf.h - create and address the agent's TUN, and its listeners.
 *
 * Used in-process as root (NETSTACK_TUN) and inside the private user +
 * network namespace by the helper (NETSTACK_KERNEL). Only system calls:
 * it must be safe to run in a child forked from a threaded process. */
#ifndef POSTERN_NETSTACK_TUNCONF_H
#define POSTERN_NETSTACK_TUNCONF_H

#include <stdbool.h>

#include "netstack/netstack.h"

#define TUNCONF_FDS_MAX 3	/* TUN + one listener per family */

/* Creates a TUN (IFF_TUN|IFF_NO_PI, non-blocking), sets its MTU and the
 * tunnel addresses, brings it up, and listens on port on each address.
 * In a private namespace it also brings lo up and routes everything
 * through the TUN (replies reach the hub whatever its address); in the
 * host's namespace it adds only the addresses' prefix routes.
 * fds[0] is the TUN, then the listeners; *nfds their count.
 * Returns 0 or -errno (nothing left open). */
int tunconf_setup(const struct netstack_conf *c, bool private_ns, int *fds,
		  unsigned *nfds);

/* A non-blocking listener on c->port at the family's address of `c`
 * (IP_FREEBIND: a new IPv6 address may still be tentative); with
 * `ifname`, bound to that interface (SO_BINDTODEVICE). Returns the fd
 * or -errno. */
int tunconf_listen(int family, const struct netstack_conf *c, const char *ifname);

/* Sets the MTU and the addresses (with their prefix routes) of the
 * existing interface `name` in the caller's namespace and brings it up
 * (the hub's TUN). Returns 0 or -errno. */
int tunconf_address(const char *name, const struct netstack_conf *c);

#endif
