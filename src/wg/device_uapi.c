/* device_uapi.c - the device as the `wg` tool sees it: uapi_device_ops
 * (get = a snapshot of the configuration and peer status, set = apply a
 * parsed request). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wg/internal.h"

#include "core/clock.h"
#include "core/secure.h"

struct wg_uapi_ips {
	struct uapi_allowed_ip *v;
	size_t n;
};

static void wg_uapi_ip_add(void *ctx, int family, const uint8_t *addr,
			   unsigned cidr)
{
	struct wg_uapi_ips *ips = ctx;
	struct uapi_allowed_ip *a = &ips->v[ips->n++];

	a->family = (uint8_t)family;
	a->cidr = (uint8_t)cidr;
	memcpy(&a->addr, addr, family == AF_INET ? 4 : 16);
}

static int wg_uapi_get_peer(struct wg_device *dev, struct wg_peer *peer,
			    struct uapi_peer_state *ps)
{
	static const uint8_t zero[WG_KEY_LEN];
	struct wg_uapi_ips ips = { 0 };
	size_t n = wg_allowedips_walk_peer(&dev->aips, peer, NULL, NULL);

	memcpy(ps->public_key, peer->pub, WG_KEY_LEN);
	ps->has_preshared_key = !secure_eq(peer->hs.psk, zero, WG_KEY_LEN);
	memcpy(ps->preshared_key, peer->hs.psk, WG_KEY_LEN);
	ps->endpoint = peer->ep;
	ps->persistent_keepalive = peer->keepalive_interval;
	ps->last_handshake_sec = peer->last_handshake_wall / NSEC_PER_SEC;
	ps->last_handshake_nsec = peer->last_handshake_wall % NSEC_PER_SEC;
	ps->rx_bytes = peer->rx_bytes;
	ps->tx_bytes = peer->tx_bytes;
	if (n && !(ips.v = calloc(n, sizeof(*ips.v))))
		return -ENOMEM;
	wg_allowedips_walk_peer(&dev->aips, peer, wg_uapi_ip_add, &ips);
	ps->allowed_ips = ips.v;
	ps->n_allowed_ips = ips.n;
	return 0;
}

static int wg_uapi_get(void *ctx, struct uapi_state *st)
{
	struct wg_device *dev = ctx;
	size_t i = 0;
	int r;

	memset(st, 0, sizeof(*st));
	st->has_private_key = dev->local.has_key;
	if (dev->local.has_key)
		memcpy(st->private_key, dev->local.priv, WG_KEY_LEN);
	st->listen_port = dev->listen_port;
	st->fwmark = dev->fwmark;
	if (dev->n_peers &&
	    !(st->peers = calloc(dev->n_peers, sizeof(*st->peers)))) {
		uapi_state_free(st);
		return -ENOMEM;
	}
	for (struct wg_peer *p = dev->peers; p; p = p->next) {
		st->n_peers = ++i;
		if ((r = wg_uapi_get_peer(dev, p, &st->peers[i - 1])) < 0) {
			uapi_state_free(st);
			return r;
		}
	}
	return 0;
}

static int wg_uapi_set_peer(struct wg_device *dev,
			    const struct uapi_peer_set *ps)
{
	struct wg_peer *peer = wg_device_peer_lookup(dev, ps->public_key);
	int r;

	if (dev->local.has_key &&
	    secure_eq(ps->public_key, dev->local.pub, WG_KEY_LEN))
		return 0; /* ourselves: ignored, as wg and the kernel do */
	if (ps->remove) {
		if (peer)
			wg_device_peer_remove(dev, peer);
		return 0;
	}
	if (!peer && ps->update_only)
		return 0;
	if (!peer && (r = wg_device_peer_add(dev, ps->public_key, &peer)) < 0)
		return r;
	if (ps->has_preshared_key)
		wg_peer_set_psk(peer, ps->preshared_key);
	if (ps->has_endpoint)
		wg_peer_set_endpoint(peer, &ps->endpoint);
	if (ps->replace_allowed_ips)
		wg_peer_allowedips_clear(peer);
	for (size_t i = 0; i < ps->n_allowed_ips; i++) {
		const struct uapi_allowed_ip *a = &ps->allowed_ips[i];
		if ((r = wg_peer_allowedip_add(peer, a->family, &a->addr,
					       a->cidr)) < 0)
			return r;
	}
	if (ps->has_keepalive)
		wg_peer_set_keepalive(peer, ps->persistent_keepalive);
	return 0;
}

/* Applies a request. What can fail for reasons other than memory (binding
 * the port) is done first, so a refused request changes nothing. */
static int wg_uapi_set(void *ctx, const struct uapi_set *set)
{
	struct wg_device *dev = ctx;
	int r;

	if (set->has_listen_port &&
	    (r = wg_device_set_listen_port(dev, set->listen_port)) < 0)
		return r;
	if (set->has_fwmark && (r = wg_device_set_fwmark(dev, set->fwmark)) < 0)
		return r;
	if (set->has_private_key &&
	    (r = wg_device_set_private_key(dev, set->private_key)) < 0)
		return r;
	if (set->replace_peers)
		while (dev->peers)
			wg_device_peer_remove(dev, dev->peers);
	for (size_t i = 0; i < set->n_peers; i++)
		if ((r = wg_uapi_set_peer(dev, &set->peers[i])) < 0)
			return r;
	wg_tx_flush(dev);
	return 0;
}

const struct uapi_device_ops wg_device_uapi_ops = {
	.get = wg_uapi_get,
	.set = wg_uapi_set,
};
