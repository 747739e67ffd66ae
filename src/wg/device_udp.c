/* device_udp.c - the device's default outside: its own UDP sockets (udp.h)
 * watched on the device's loop. */
#include <errno.h>

#include "wg/internal.h"

#define LOG_SUBSYS "wg"
#include "core/log.h"

static void wg_udp_readable(struct loop_io *io, uint32_t events)
{
	struct wg_device *dev = io->data;
	struct pkt_batch b = { 0 };
	int n, rounds = 0;

	(void)events;
	/* A few batches per wakeup, then let the loop serve others. */
	do {
		n = udp_recv_batch(dev->udp, io->fd, &dev->pool, &b);
		if (n <= 0)
			break;
		wg_device_receive(dev, &b);
	} while (n == PKT_BATCH && ++rounds < 8);
	if (n < 0 && n != -EAGAIN)
		log_debug("udp receive: %d", n);
}

static void wg_udp_watch_stop(struct wg_device *dev)
{
	loop_io_del(dev->loop, &dev->io4);
	loop_io_del(dev->loop, &dev->io6);
}

static int wg_udp_watch(struct wg_device *dev, struct udp *u)
{
	int r = 0;

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
