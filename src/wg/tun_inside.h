/* tun_inside.h - a kernel TUN interface as a device's inside.
 *
 * Reads IP packets from the TUN fd in batches and hands them to
 * wg_device_send(); writes what the device delivers back with
 * tun_write_batch(). The inside another network stack (lwIP) provides
 * later plugs into the same two calls. */
#ifndef POSTERN_WG_TUN_INSIDE_H
#define POSTERN_WG_TUN_INSIDE_H

#include "core/loop.h"
#include "wg/device.h"
#include "wg/tun.h"

struct tun_inside;

/* What the device's config points at (ctx = the tun_inside). */
extern const struct wg_inside_ops tun_inside_ops;

/* Wraps an open TUN (still the caller's, close it after stopping).
 * `on_gone` runs on the loop when the interface disappears (NULL = none).
 * Returns NULL when out of memory. */
struct tun_inside *tun_inside_new(struct loop *loop, struct tun *tun,
				  void (*on_gone)(void *ctx), void *ctx);
/* Starts moving packets between the TUN and `dev`. Returns 0 or -errno. */
int tun_inside_attach(struct tun_inside *ti, struct wg_device *dev);
/* Stops watching and frees; the TUN stays open. */
void tun_inside_free(struct tun_inside *ti);

#endif
