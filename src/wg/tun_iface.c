/* tun_iface.c - a WireGuard interface on a kernel TUN device. */
#include "wg/tun_iface.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"

int tun_iface_open(struct tun_iface *ti, struct loop *loop, const char *name,
		   unsigned mtu, struct wg_device_config *cfg,
		   void (*on_gone)(void *ctx), void *ctx)
{
	int r;

	if ((r = tun_open(name, mtu, &ti->tun)) < 0) {
		log_err("cannot create interface %s: %s", name, strerror(-r));
		return r;
	}
	if (!(ti->inside = tun_inside_new(loop, ti->tun, on_gone, ctx)))
		return -ENOMEM;
	cfg->inside = &tun_inside_ops;
	cfg->inside_ctx = ti->inside;
	if ((r = wg_device_new(loop, cfg, &ti->dev)) < 0)
		return r;
	return tun_inside_attach(ti->inside, ti->dev);
}

void tun_iface_close(struct tun_iface *ti)
{
	if (ti->uapi)
		uapi_server_stop(ti->uapi);
	wg_device_free(ti->dev);
	tun_inside_free(ti->inside);
	if (ti->tun)
		tun_close(ti->tun);
	memset(ti, 0, sizeof(*ti));
}
