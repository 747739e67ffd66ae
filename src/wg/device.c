/* device.c - the device object: identity, peers, routing table, packet
 * pool, and the two entry points of the data path. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wg/internal.h"

#define LOG_SUBSYS "wg"
#include "core/clock.h"
#include "core/dlist.h"
#include "core/log.h"
#include "core/secure.h"

uint64_t wg_wall(const struct wg_device *dev)
{
	return dev->cfg.wall_clock ? dev->cfg.wall_clock(dev->cfg.wall_ctx)
				   : clock_wall_ns();
}

void wg_device_event(struct wg_device *dev, enum wg_event_type type,
		     struct wg_peer *peer)
{
	struct wg_event ev = {
		.type = type,
		.peer = peer,
		.public_key = peer->pub,
		.endpoint = &peer->ep,
	};

	if (dev->cfg.event)
		dev->cfg.event(dev->cfg.event_ctx, &ev);
}

int wg_device_new(struct loop *loop, const struct wg_device_config *cfg,
		  struct wg_device **out)
{
	struct wg_device *dev;
	size_t max_packets;
	int r;

	if ((r = wg_crypto_init()) < 0)
		return r;
	if (!(dev = calloc(1, sizeof(*dev))))
		return -ENOMEM;
	dev->loop = loop;
	if (cfg)
		dev->cfg = *cfg;
	max_packets = dev->cfg.max_packets ? dev->cfg.max_packets
					   : WG_POOL_DEFAULT;
	dev->n_lanes = 1;
	if (dev->cfg.crypto_threads) {
		if ((r = wg_lanes_new(&dev->lanes)) < 0)
			goto fail;
		dev->n_lanes = WG_LANES_MAX;
	}
	dev->staged_max = max_packets / 4;
	wg_allowedips_init(&dev->aips);
	if ((r = wg_index_init(&dev->index)) < 0 ||
	    (r = wg_ratelimit_init(&dev->rl)) < 0 ||
	    (r = pool_init(&dev->pool, PKT_SIZE, 2 * PKT_BATCH, max_packets)) < 0)
		goto fail;
	*out = dev;
	return 0;
fail:
	wg_lanes_free(dev->lanes);	/* NULL when they were not made */
	free(dev);
	return r;
}

void wg_device_free(struct wg_device *dev)
{
	if (!dev)
		return;
	while (dev->peers)
		wg_device_peer_remove(dev, dev->peers);
	wg_tx_flush(dev);
	wg_tx_flush_inside(dev);
	wg_lanes_free(dev->lanes);
	wg_udp_unbind(dev);
	wg_allowedips_free(&dev->aips);
	wg_cookie_checker_free(&dev->checker);
	pool_destroy(&dev->pool);
	secure_wipe(dev, sizeof(*dev));
	free(dev);
}

struct pool *wg_device_pool(struct wg_device *dev)
{
	return &dev->pool;
}

void wg_device_set_mtu(struct wg_device *dev, unsigned mtu)
{
	dev->mtu = mtu;
}

static unsigned wg_peer_bucket(const uint8_t pub[WG_KEY_LEN])
{
	return pub[0] & (WG_PEER_BUCKETS - 1);
}

struct wg_peer *wg_device_peer_lookup(const struct wg_device *dev,
				      const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer *p = dev->buckets[wg_peer_bucket(pub)];

	while (p && !secure_eq(p->pub, pub, WG_KEY_LEN))
		p = p->hnext;
	return p;
}

int wg_device_peer_add(struct wg_device *dev, const uint8_t pub[WG_KEY_LEN],
		       struct wg_peer **out)
{
	struct wg_peer *peer = wg_device_peer_lookup(dev, pub);
	unsigned b = wg_peer_bucket(pub);

	if (peer) {
		*out = peer;
		return 0;
	}
	if (dev->local.has_key && secure_eq(pub, dev->local.pub, WG_KEY_LEN))
		return -EINVAL;
	if (!(peer = wg_peer_new(dev, pub)))
		return -ENOMEM;
	peer->hnext = dev->buckets[b];
	dev->buckets[b] = peer;
	DLIST_PUSH(dev->peers, peer);
	dev->n_peers++;
	*out = peer;
	return 0;
}

void wg_device_peer_remove(struct wg_device *dev, struct wg_peer *peer)
{
	struct wg_peer **pp = &dev->buckets[wg_peer_bucket(peer->pub)];

	while (*pp && *pp != peer)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = peer->hnext;
	DLIST_UNLINK(dev->peers, peer);
	dev->n_peers--;
	wg_allowedips_remove_peer(&dev->aips, peer);
	/* Datagrams already queued for it go out; they hold no reference. */
	wg_peer_free(peer);
}

struct wg_peer *wg_device_peer_first(const struct wg_device *dev)
{
	return dev->peers;
}

struct wg_peer *wg_device_peer_next(const struct wg_peer *peer)
{
	return peer->next;
}

int wg_device_set_private_key(struct wg_device *dev,
			      const uint8_t key[WG_DEVICE_KEY_LEN])
{
	static const uint8_t zero[WG_KEY_LEN];
	struct wg_noise_local local = { 0 };
	struct wg_peer *peer;
	int r;

	if (key && !secure_eq(key, zero, WG_KEY_LEN)) {
		memcpy(local.priv, key, WG_KEY_LEN);
		local.priv[0] &= 248;
		local.priv[31] = (local.priv[31] & 127) | 64;
		if ((r = wg_x25519_public(local.pub, local.priv)) < 0) {
			secure_wipe(&local, sizeof(local));
			return r;
		}
		local.has_key = true;
	}
	if (local.has_key && dev->local.has_key &&
	    secure_eq(local.priv, dev->local.priv, WG_KEY_LEN)) {
		secure_wipe(&local, sizeof(local));
		return 0; /* unchanged: keep the sessions */
	}
	if (local.has_key && (r = wg_cookie_checker_init(&dev->checker,
							 local.pub)) < 0) {
		secure_wipe(&local, sizeof(local));
		return r;
	}
	dev->checker.ready = local.has_key;
	dev->local = local;
	secure_wipe(&local, sizeof(local));
	if (dev->local.has_key && (peer = wg_device_peer_lookup(dev, dev->local.pub)))
		wg_device_peer_remove(dev, peer);
	/* Sessions were made with the old identity: drop them. */
	for (peer = dev->peers; peer; peer = peer->next) {
		wg_peer_clear_sessions(peer);
		wg_noise_precompute(&peer->hs, &dev->local);
	}
	return 0;
}

bool wg_device_public_key(const struct wg_device *dev,
			  uint8_t out[WG_DEVICE_KEY_LEN])
{
	if (!dev->local.has_key)
		return false;
	memcpy(out, dev->local.pub, WG_KEY_LEN);
	return true;
}

int wg_device_set_listen_port(struct wg_device *dev, uint16_t port)
{
	if (dev->cfg.outside) {
		dev->listen_port = port;
		return 0;
	}
	if (dev->udp && port == dev->listen_port && port != 0)
		return 0;
	return wg_udp_bind(dev, port);
}

uint16_t wg_device_listen_port(const struct wg_device *dev)
{
	return dev->listen_port;
}

int wg_device_set_fwmark(struct wg_device *dev, uint32_t fwmark)
{
	int r = 0;

	if (dev->udp)
		r = udp_set_fwmark(dev->udp, fwmark);
	if (r == 0)
		dev->fwmark = fwmark;
	return r;
}

void wg_device_get_stats(const struct wg_device *dev,
			 struct wg_device_stats *st)
{
	*st = dev->stats;
}

/* ---- peer settings ---- */

void wg_peer_set_psk(struct wg_peer *peer, const uint8_t *psk)
{
	if (psk)
		memcpy(peer->hs.psk, psk, WG_KEY_LEN);
	else
		secure_wipe(peer->hs.psk, WG_KEY_LEN);
}

void wg_peer_set_endpoint(struct wg_peer *peer, const struct wg_endpoint *ep)
{
	peer->ep = *ep;
}

void wg_peer_set_keepalive(struct wg_peer *peer, uint16_t seconds)
{
	bool was_off = peer->keepalive_interval == 0;

	peer->keepalive_interval = seconds;
	if (!seconds) {
		peer->t.persistent_keepalive = 0;
		return;
	}
	if (was_off && peer->dev->local.has_key) {
		wg_tx_send_keepalive(peer);
		wg_tx_flush(peer->dev);
	}
}

int wg_peer_allowedip_add(struct wg_peer *peer, int family, const void *addr,
			  unsigned cidr)
{
	return wg_allowedips_insert(&peer->dev->aips, family, addr, cidr, peer);
}

int wg_peer_allowedip_remove(struct wg_peer *peer, int family,
			     const void *addr, unsigned cidr)
{
	return wg_allowedips_remove(&peer->dev->aips, family, addr, cidr, peer);
}

void wg_peer_allowedips_clear(struct wg_peer *peer)
{
	wg_allowedips_remove_peer(&peer->dev->aips, peer);
}

void wg_peer_get_status(const struct wg_peer *peer, struct wg_peer_status *st)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->public_key, peer->pub, WG_KEY_LEN);
	st->endpoint = peer->ep;
	st->last_handshake_ns = peer->last_handshake_wall;
	st->rx_bytes = peer->rx_bytes;
	st->tx_bytes = peer->tx_bytes;
	st->keepalive = peer->keepalive_interval;
	st->has_session = wg_keypair_can_send(peer->cur, wg_now(peer->dev));
}

/* ---- data path entry points ---- */

/* The peer an outgoing IP packet is routed to, or NULL. */
static struct wg_peer *wg_device_route(struct wg_device *dev, struct pkt *p)
{
	const uint8_t *ip = pkt_data(p);

	if (p->len >= 20 && ip[0] >> 4 == 4)
		return wg_allowedips_lookup(&dev->aips, AF_INET, ip + 16);
	if (p->len >= 40 && ip[0] >> 4 == 6)
		return wg_allowedips_lookup(&dev->aips, AF_INET6, ip + 24);
	return NULL;
}

void wg_device_send(struct wg_device *dev, struct pkt_batch *b)
{
	struct wg_peer *peer;

	for (unsigned i = 0; i < b->n; i++) {
		struct pkt *p = b->p[i];

		if (!(peer = wg_device_route(dev, p))) {
			dev->stats.tx_no_route++;
			pool_put(&dev->pool, p);
			continue;
		}
		wg_peer_stage(peer, p);
		if (!peer->in_tx_list) {
			peer->in_tx_list = true;
			peer->tx_next = dev->tx_list;
			dev->tx_list = peer;
		}
	}
	b->n = 0;
	while ((peer = dev->tx_list)) {
		dev->tx_list = peer->tx_next;
		peer->in_tx_list = false;
		wg_tx_send_staged(peer);
	}
	wg_tx_flush(dev);
}

void wg_device_receive(struct wg_device *dev, struct pkt_batch *b)
{
	wg_rx_batch(dev, b->p, b->n);
	b->n = 0;
	wg_tx_flush_inside(dev);
	wg_tx_flush(dev);
}
