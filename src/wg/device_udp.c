/* device_udp.c - the device's default outside: its own UDP sockets (udp.h)
 * watched on the device's loop. */
#include <errno.h>

#include "wg/internal.h"

#define LOG_SUBSYS "wg"
#include "core/log.h"

#define WG_UDP_ROUNDS 8		/* batches per wakeup */

/* A few full batches per wakeup, then the loop serves the others; if the
 * socket may hold more (the last batch was full: datagrams of a GRO receive
 * can be pending inside udp.c even when the fd is no longer readable), a
 * zero-delay timer comes back for them after this round of events. */
static void wg_udp_readable(struct loop_io *io, uint32_t events)
{
	struct wg_device *dev = io->data;
	struct pkt_batch b = { 0 };
	int n, rounds = 0;

	(void)events;
	do {
		n = udp_recv_batch(dev->udp, io->fd, &dev->pool, &b);
		if (n <= 0)
			break;
		wg_device_receive(dev, &b);
	} while (n == PKT_BATCH && ++rounds < WG_UDP_ROUNDS);
	if (n == PKT_BATCH)
		loop_timer_arm(dev->loop, io == &dev->io4 ? &dev->more4
							  : &dev->more6, 0);
	else if (n < 0 && n != -EAGAIN)
		log_debug("udp receive: %d", n);
}

static void wg_udp_more(struct loop_timer *t)
{
	struct loop_io *io = t->data;

	if (io->active)
		wg_udp_readable(io, LOOP_READ);
}

static void wg_udp_watch_stop(struct wg_device *dev)
{
	loop_io_del(dev->loop, &dev->io4);
	loop_io_del(dev->loop, &dev->io6);
	loop_timer_disarm(dev->loop, &dev->more4);
	loop_timer_disarm(dev->loop, &dev->more6);
}

static int wg_udp_watch(struct wg_device *dev, struct udp *u)
{
	int r = 0;

	loop_timer_init(&dev->more4, wg_udp_more, &dev->io4);
	loop_timer_init(&dev->more6, wg_udp_more, &dev->io6);
	if (udp_fd4(u) >= 0)
		r = loop_io_add(dev->loop, &dev->io4, udp_fd4(u), LOOP_READ,
				wg_udp_readable, dev);
	if (r == 0 && udp_fd6(u) >= 0)
		r = loop_io_add(dev->loop, &dev->io6, udp_fd6(u), LOOP_READ,
				wg_udp_readable, dev);
	if (r < 0)
		wg_udp_watch_stop(dev);
	return r;
}

int wg_udp_bind(struct wg_device *dev, uint16_t port)
{
	struct udp *u;
	int r;

	/* The new sockets first: on failure the old ones keep working. */
	if ((r = udp_open(port, dev->fwmark, &u)) < 0) {
		log_warn("cannot bind UDP port %u: %d", port, r);
		return r;
	}
	wg_udp_unbind(dev);
	if ((r = wg_udp_watch(dev, u)) < 0) {
		udp_close(u);
		return r;
	}
	dev->udp = u;
	dev->listen_port = udp_port(u);
	log_info("listening on UDP port %u", dev->listen_port);
	return 0;
}

void wg_udp_unbind(struct wg_device *dev)
{
	if (!dev->udp)
		return;
	wg_udp_watch_stop(dev);
	udp_close(dev->udp);
	dev->udp = NULL;
}

void wg_udp_send(void *ctx, struct pkt_batch *b)
{
	struct wg_device *dev = ctx;

	if (dev->udp)
		udp_send_batch(dev->udp, b);
}
