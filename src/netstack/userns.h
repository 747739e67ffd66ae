/* userns.h - the helper that lives in the agent's private namespaces.
 *
 * userns_spawn forks a child that unshares CLONE_NEWUSER|CLONE_NEWNET,
 * maps the caller's uid/gid to root inside (so it may create a TUN and
 * configure it without any privilege outside), runs tunconf_setup, and
 * passes the TUN and listener fds back over a unix socket (SCM_RIGHTS).
 * It then stays as a socket factory: every socket it creates lives in
 * the private network namespace, wherever it is used. It dies with the
 * agent (PR_SET_PDEATHSIG) or when the control socket closes. */
#ifndef POSTERN_NETSTACK_USERNS_H
#define POSTERN_NETSTACK_USERNS_H

#include <sys/types.h>

#include "netstack/tunconf.h"

struct userns {
	pid_t pid;
	int ctl;	/* SOCK_SEQPACKET to the helper */
};

/* Starts the helper; fds/nfds as tunconf_setup. Returns 0 or -errno
 * (e.g. -EPERM when user namespaces are not allowed, -EACCES when
 * /dev/net/tun is not accessible). */
int userns_spawn(struct userns *u, const struct netstack_conf *c, int *fds,
		 unsigned *nfds);
/* A non-blocking SOCK_STREAM socket of `family` made inside. fd or -errno. */
int userns_socket(struct userns *u, int family);
/* Closes the control socket and reaps the helper. */
void userns_stop(struct userns *u);

#endif
