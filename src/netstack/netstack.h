/* netstack.h - where the agent's TCP lives (the tunnel's "inside").
 *
 * The WireGuard device hands the netstack the IP packets it decrypted
 * (netstack_input) and sends whatever the netstack emits (the output
 * callback). The netstack terminates TCP for the agent's tunnel addresses
 * and gives every connection to AGENT_STREAM_PORT to the acceptor. Modes:
 *
 *   KERNEL  a TUN inside a private user + network namespace: a forked
 *           helper unshares CLONE_NEWUSER|CLONE_NEWNET, maps our uid to
 *           root there, creates the TUN and the listening sockets, and
 *           passes the fds back (SCM_RIGHTS); it stays as a socket factory
 *           for sockets the agent needs inside (netstack_socket). No root
 *           needed; the kernel's TCP does the work; the WireGuard UDP
 *           socket stays in the agent's own namespace.
 *   LWIP    lwIP's TCP in this process, for where user namespaces are not
 *           allowed (containers); each connection is bridged to the
 *           acceptor through a socketpair.
 *   TUN     as root: the same TUN, in the agent's own namespace.
 *   AUTO    KERNEL, else LWIP.
 *
 * Everything runs on the agent's loop thread. */
#ifndef POSTERN_NETSTACK_NETSTACK_H
#define POSTERN_NETSTACK_NETSTACK_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/pool.h"
#include "wg/pkt.h"

enum netstack_mode {
	NETSTACK_AUTO = 0,
	NETSTACK_KERNEL,
	NETSTACK_LWIP,
	NETSTACK_TUN,
	NETSTACK_MODE_MAX
};

struct netstack_conf {
	bool has4, has6;
	struct in_addr addr4;	/* the agent's tunnel addresses */
	unsigned prefix4;
	struct in6_addr addr6;
	unsigned prefix6;
	unsigned mtu;		/* tunnel MTU (e.g. 1420) */
	uint16_t port;		/* AGENT_STREAM_PORT */
};

/* Packets the netstack emits; they belong to the callee (pool_put them
 * into the pool given to netstack_open when done). */
typedef void netstack_output_fn(void *ctx, struct pkt_batch *b);

struct netstack;

struct netstack_ops {
	void (*input)(struct netstack *ns, struct pkt_batch *b);
	int (*connect)(struct netstack *ns, const struct sockaddr *to);
	void (*close)(struct netstack *ns);
};

/* Where accepted streams go (the agent's acceptor: the netstack sits
 * below the agent and knows it only through this). listen_fd: a
 * listening socket the acceptor accepts from itself (kernel mode); take:
 * one connected stream. The fd becomes the callee's; 0 or -errno. */
struct netstack_accept {
	int (*listen_fd)(void *ctx, int fd);
	int (*take)(void *ctx, int fd);
	void *ctx;
};

struct netstack {
	const struct netstack_ops *ops;
	enum netstack_mode mode;	/* the mode actually running */
	struct loop *loop;
	struct netstack_accept acc;
	struct pool *pool;		/* PKT_SIZE packets */
	netstack_output_fn *output;
	void *output_ctx;
	struct netstack_conf conf;
	unsigned long long rx_packets, tx_packets, dropped;
};

/* Parses "auto", "kernel", "lwip", "tun". Returns 0 or -EINVAL. */
int netstack_mode_parse(const char *s, enum netstack_mode *out);
const char *netstack_mode_name(enum netstack_mode m);

/* Brings up a netstack of `mode` (AUTO tries KERNEL then LWIP). Accepted
 * streams go to `acc` (copied); emitted packets to output(ctx, batch), built from
 * `pool`. Returns 0 with *out set, or -errno (message logged). */
int netstack_open(enum netstack_mode mode, struct loop *loop,
		  const struct netstack_conf *conf, const struct netstack_accept *acc,
		  struct pool *pool, netstack_output_fn *output, void *ctx,
		  struct netstack **out);

/* Feeds IP packets from the tunnel in. The packets stay the caller's. */
static inline void netstack_input(struct netstack *ns, struct pkt_batch *b)
{
	ns->ops->input(ns, b);
}

/* A non-blocking TCP stream to `to` (the hub's tunnel address) through
 * the netstack, connecting: writable once connected (bytes written
 * earlier may be buffered), EOF or an error if the connect fails.
 * Returns the fd (the caller's) or -errno. */
static inline int netstack_connect(struct netstack *ns, const struct sockaddr *to)
{
	return ns->ops->connect(ns, to);
}

static inline void netstack_close(struct netstack *ns)
{
	ns->ops->close(ns);
}

/* Mode back ends (netstack_kernel.c, netstack_lwip.c): each allocates
 * its state with `base` copied in front. Return 0 or -errno. */
int netstack_kernel_open(const struct netstack *base, bool userns,
			 struct netstack **out);
int netstack_lwip_open(const struct netstack *base, struct netstack **out);

#endif
