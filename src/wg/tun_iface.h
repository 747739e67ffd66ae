/* tun_iface.h - a WireGuard interface on a kernel TUN device.
 *
 * The TUN, the inside pump between it and the device (tun_inside.h), the
 * device and the `wg` tool's UAPI socket, opened and closed as one: the
 * hub's tunnel and `postern tunnel` each run one. */
#ifndef POSTERN_WG_TUN_IFACE_H
#define POSTERN_WG_TUN_IFACE_H

#include "core/loop.h"
#include "wg/device.h"
#include "wg/tun.h"
#include "wg/tun_inside.h"
#include "wg/uapi.h"

struct tun_iface {
	struct tun *tun;
	struct tun_inside *inside;
	struct wg_device *dev;
	struct uapi_server *uapi;	/* NULL until the caller starts it */
};

/* Creates TUN interface `name` with `mtu`, the inside pump over it
 * (on_gone/ctx as for tun_inside_new) and a device from *cfg, whose
 * inside and inside_ctx are set here, attached to each other. Returns 0,
 * or -errno (a TUN failure is logged); on failure what was made stays in
 * *ti for tun_iface_close. *ti starts zeroed. */
int tun_iface_open(struct tun_iface *ti, struct loop *loop, const char *name,
		   unsigned mtu, struct wg_device_config *cfg,
		   void (*on_gone)(void *ctx), void *ctx);

/* Stops the UAPI server if one runs, frees the device and the pump, closes
 * the TUN, and zeroes *ti. Safe on a zeroed or half-opened one. */
void tun_iface_close(struct tun_iface *ti);

#endif
