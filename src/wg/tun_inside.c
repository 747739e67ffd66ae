/* tun_inside.c - TUN <-> device glue on the loop. */
#include "wg/tun_inside.h"

#include <errno.h>
#include <stdlib.h>

#define LOG_SUBSYS "wg"
#include "core/clock.h"
#include "core/log.h"

#define TUN_INSIDE_ROUNDS 8		/* batches per wakeup */
#define TUN_INSIDE_MTU_POLL NSEC_PER_SEC

struct tun_inside {
	struct loop *loop;
	struct tun *tun;
	struct wg_device *dev;
	struct loop_io io;
	struct loop_timer mtu_timer;
	struct loop_timer more;		/* the TUN had more than we took */
	void (*on_gone)(void *ctx);
	void *ctx;
};

static void tun_inside_deliver(void *ctx, struct pkt_batch *b)
{
	struct tun_inside *ti = ctx;

	tun_write_batch(ti->tun, b);
}

const struct wg_inside_ops tun_inside_ops = { tun_inside_deliver };

static void tun_inside_gone(struct tun_inside *ti, int err)
{
	log_warn("interface %s: %d, stopping", tun_name(ti->tun), err);
	loop_io_del(ti->loop, &ti->io);
	loop_timer_disarm(ti->loop, &ti->more);
	if (ti->on_gone)
		ti->on_gone(ti->ctx);
}

/* A few full batches per wakeup; when the last was full (segments of a
 * super-packet may be pending in tun.c with the fd no longer readable), a
 * zero-delay timer comes back after the loop served the other events. */
static void tun_inside_readable(struct loop_io *io, uint32_t events)
{
	struct tun_inside *ti = io->data;
	struct pkt_batch b = { 0 };
	int n, rounds = 0;

	(void)events;
	do {
		n = tun_read_batch(ti->tun, wg_device_pool(ti->dev), &b);
		if (n > 0)
			wg_device_send(ti->dev, &b);
	} while (n == PKT_BATCH && ++rounds < TUN_INSIDE_ROUNDS);
	if (n == PKT_BATCH)
		loop_timer_arm(ti->loop, &ti->more, 0);
	else if (n < 0 && n != -EAGAIN && n != -ENOBUFS && n != -EINTR)
		tun_inside_gone(ti, n);
}

static void tun_inside_more(struct loop_timer *t)
{
	struct tun_inside *ti = t->data;

	if (ti->io.active)
		tun_inside_readable(&ti->io, LOOP_READ);
}

/* The MTU may be changed with `ip link` at any time; padding follows it. */
static void tun_inside_mtu_poll(struct loop_timer *t)
{
	struct tun_inside *ti = t->data;
	unsigned mtu = tun_mtu(ti->tun);

	if (mtu)
		wg_device_set_mtu(ti->dev, mtu);
	loop_timer_arm(ti->loop, t, TUN_INSIDE_MTU_POLL);
}

struct tun_inside *tun_inside_new(struct loop *loop, struct tun *tun,
				  void (*on_gone)(void *ctx), void *ctx)
{
	struct tun_inside *ti = calloc(1, sizeof(*ti));

	if (!ti)
		return NULL;
	ti->loop = loop;
	ti->tun = tun;
	ti->on_gone = on_gone;
	ti->ctx = ctx;
	loop_timer_init(&ti->mtu_timer, tun_inside_mtu_poll, ti);
	loop_timer_init(&ti->more, tun_inside_more, ti);
	return ti;
}

int tun_inside_attach(struct tun_inside *ti, struct wg_device *dev)
{
	ti->dev = dev;
	tun_inside_mtu_poll(&ti->mtu_timer);
	return loop_io_add(ti->loop, &ti->io, tun_fd(ti->tun), LOOP_READ,
			   tun_inside_readable, ti);
}

void tun_inside_free(struct tun_inside *ti)
{
	if (!ti)
		return;
	loop_io_del(ti->loop, &ti->io);
	loop_timer_disarm(ti->loop, &ti->mtu_timer);
	loop_timer_disarm(ti->loop, &ti->more);
	free(ti);
}
