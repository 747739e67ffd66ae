/* netstack_kernel.c - the kernel's TCP behind a TUN: in a private user +
 * network namespace (KERNEL) or, as root, in our own (TUN). Packets move
 * between the TUN fd and the tunnel one per syscall; the listeners go to
 * the acceptor, which then sees ordinary accepted sockets. */
#define LOG_SUBSYS "netstack"
#include "netstack/netstack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/compiler.h"
#include "core/log.h"
#include "netstack/tunconf.h"
#include "netstack/userns.h"

struct kstack {
	struct netstack base;
	int tun;
	struct loop_io io;
	bool userns;
	struct userns helper;
};

static void kstack_read(struct loop_io *io, uint32_t events)
{
	struct kstack *k = io->data;
	struct netstack *ns = &k->base;
	struct pkt_batch b = { .n = 0 };

	(void)events;
	while (b.n < PKT_BATCH) {
		struct pkt *p = pool_get(ns->pool);
		if (!p)
			break;
		ssize_t n = read(k->tun, p->buf + PKT_HEADROOM, PKT_PAYLOAD_MAX);
		if (n <= 0) {
			pool_put(ns->pool, p);
			break;
		}
		p->off = PKT_HEADROOM;
		p->len = (uint16_t)n;
		b.p[b.n++] = p;
	}
	ns->tx_packets += b.n;
	if (b.n)
		ns->output(ns->output_ctx, &b);
}

static void kstack_input(struct netstack *ns, struct pkt_batch *b)
{
	struct kstack *k = container_of(ns, struct kstack, base);

	for (unsigned i = 0; i < b->n; i++) {
		struct pkt *p = b->p[i];
		if (write(k->tun, pkt_data(p), p->len) != (ssize_t)p->len)
			ns->dropped++;
		else
			ns->rx_packets++;
	}
}

static int kstack_connect(struct netstack *ns, const struct sockaddr *to)
{
	struct kstack *k = container_of(ns, struct kstack, base);
	socklen_t len = to->sa_family == AF_INET ? sizeof(struct sockaddr_in) :
						   sizeof(struct sockaddr_in6);
	int fd, e;

	if (k->userns)
		fd = userns_socket(&k->helper, to->sa_family);
	else
		fd = socket(to->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return k->userns ? fd : -errno;
	if (connect(fd, to, len) < 0 && errno != EINPROGRESS) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static void kstack_close(struct netstack *ns)
{
	struct kstack *k = container_of(ns, struct kstack, base);

	loop_io_del(ns->loop, &k->io);
	close(k->tun);
	if (k->userns)
		userns_stop(&k->helper);
	free(k);
}

static const struct netstack_ops kstack_ops = {
	.input = kstack_input,
	.connect = kstack_connect,
	.close = kstack_close,
};

int netstack_kernel_open(const struct netstack *base, bool userns,
			 struct netstack **out)
{
	struct kstack *k = calloc(1, sizeof(*k));
	int fds[TUNCONF_FDS_MAX], rc;
	unsigned n = 0;

	if (!k)
		return -ENOMEM;
	k->base = *base;
	k->base.ops = &kstack_ops;
	k->base.mode = userns ? NETSTACK_KERNEL : NETSTACK_TUN;
	k->userns = userns;
	k->helper.ctl = -1;
	rc = userns ? userns_spawn(&k->helper, &base->conf, fds, &n) :
		      tunconf_setup(&base->conf, false, fds, &n);
	if (rc < 0) {
		free(k);
		return rc;
	}
	k->tun = fds[0];
	rc = loop_io_add(base->loop, &k->io, k->tun, LOOP_READ, kstack_read, k);
	for (unsigned i = 1; i < n; i++) {
		if (rc == 0)
			rc = base->acc.listen_fd(base->acc.ctx, fds[i]);
		else
			close(fds[i]);
	}
	if (rc < 0) {
		kstack_close(&k->base);
		return rc;
	}
	log_info("netstack %s: kernel TCP behind a TUN%s",
		 netstack_mode_name(k->base.mode),
		 userns ? " in a private user+network namespace" : "");
	*out = &k->base;
	return 0;
}
