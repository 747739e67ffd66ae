/* tx.c - the send path: staged cleartext -> transport data in place, and
 * the handshake messages we originate. Datagrams collect in dev->txb and
 * leave in batches (wg_tx_flush), so the outside can use sendmmsg/GSO;
 * transport data is sealed there too, the whole batch across the lanes. */
#include <errno.h>
#include <string.h>

#include "wg/internal.h"

#define LOG_SUBSYS "wg"
#include "core/log.h"
#include "core/secure.h"
#include "wg/proto.h"

static bool wg_ep_set(const struct wg_endpoint *ep)
{
	return ep->addr.sa.sa_family == AF_INET ||
	       ep->addr.sa.sa_family == AF_INET6;
}

/* Seals packet i of the batch if wg_tx_prepare left it for sealing
 * (owner = its keypair, nonce = its counter). Runs on any lane: it touches
 * only the packet and the lane's own cipher context. A failure leaves
 * owner set, and the packet is dropped. */
static void wg_tx_seal_one(void *ctx, unsigned i, unsigned lane)
{
	struct pkt *p = ((struct pkt_batch *)ctx)->p[i];
	struct wg_keypair *kp = p->owner;

	if (kp && wg_aead_seal_inplace(&kp->send[lane], p->nonce,
				       pkt_data(p) + WG_DATA_HEADER_LEN,
				       p->len - WG_DATA_MIN_LEN) == 0)
		p->owner = NULL;
}

/* Seals what waits in the batch; drops what failed (keeping order). */
static void wg_tx_seal_batch(struct wg_device *dev, struct pkt_batch *b)
{
	unsigned k = 0;

	wg_lanes_run(dev->lanes, b->n, wg_tx_seal_one, b);
	for (unsigned i = 0; i < b->n; i++) {
		if (b->p[i]->owner)
			pool_put(&dev->pool, b->p[i]);
		else
			b->p[k++] = b->p[i];
	}
	b->n = k;
}

void wg_tx_flush(struct wg_device *dev)
{
	struct pkt_batch *b = &dev->txb;

	if (!b->n)
		return;
	wg_tx_seal_batch(dev, b);
	if (dev->cfg.outside)
		dev->cfg.outside->send(dev->cfg.outside_ctx, b);
	else
		wg_udp_send(dev, b);
	for (unsigned i = 0; i < b->n; i++)
		pool_put(&dev->pool, b->p[i]);
	b->n = 0;
}

void wg_tx_flush_inside(struct wg_device *dev)
{
	struct pkt_batch *b = &dev->inb;

	if (!b->n)
		return;
	if (dev->cfg.inside)
		dev->cfg.inside->deliver(dev->cfg.inside_ctx, b);
	for (unsigned i = 0; i < b->n; i++)
		pool_put(&dev->pool, b->p[i]);
	b->n = 0;
}

/* Takes `p` (a finished datagram) into the outgoing batch. */
static void wg_tx_queue(struct wg_device *dev, struct pkt *p)
{
	if (dev->txb.n == PKT_BATCH)
		wg_tx_flush(dev);
	dev->txb.p[dev->txb.n++] = p;
}

void wg_tx_datagram(struct wg_device *dev, const void *msg, size_t len,
		    const struct wg_endpoint *ep)
{
	struct pkt *p = pool_get(&dev->pool);

	if (!p)
		return;
	p->owner = NULL;	/* complete as it is */
	p->off = PKT_HEADROOM;
	p->len = (uint16_t)len;
	p->ep = *ep;
	memcpy(pkt_data(p), msg, len);
	wg_tx_queue(dev, p);
}

void wg_tx_send_initiation(struct wg_peer *peer, bool is_retry)
{
	struct wg_device *dev = peer->dev;
	struct wg_msg_initiation msg;
	uint8_t tai[WG_TAI64N_LEN];
	uint64_t now = wg_now(dev);

	if (!is_retry)
		peer->t.handshake_attempts = 0;
	if (peer->have_sent_handshake &&
	    now - peer->last_sent_handshake < WG_REKEY_TIMEOUT)
		return;
	if (!wg_ep_set(&peer->ep) || !dev->local.has_key)
		return;
	wg_noise_tai64n(tai, wg_wall(dev));
	if (wg_index_insert(&dev->index, &peer->hs_entry, WG_INDEX_HANDSHAKE,
			    peer) < 0)
		return;
	if (wg_noise_initiation_create(&peer->hs, &dev->local, &msg,
				       peer->hs_entry.index, tai) < 0 ||
	    wg_cookie_add_macs(&peer->cookie, (uint8_t *)&msg, sizeof(msg),
			       now) < 0) {
		wg_index_remove(&dev->index, &peer->hs_entry);
		return;
	}
	log_debug("peer %s: sending handshake initiation", wg_peer_str(peer));
	wg_timers_any_authenticated_packet_traversal(peer);
	wg_timers_any_authenticated_packet_sent(peer);
	peer->have_sent_handshake = true;
	peer->last_sent_handshake = now;
	peer->tx_bytes += sizeof(msg);
	wg_tx_datagram(dev, &msg, sizeof(msg), &peer->ep);
	wg_timers_handshake_initiated(peer);
	secure_wipe(&msg, sizeof(msg));
}

int wg_tx_send_response(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	struct wg_msg_response msg;
	int r;

	wg_timers_any_authenticated_packet_traversal(peer);
	wg_timers_any_authenticated_packet_sent(peer);
	if ((r = wg_index_insert(&dev->index, &peer->hs_entry,
				 WG_INDEX_HANDSHAKE, peer)) < 0)
		return r;
	if ((r = wg_noise_response_create(&peer->hs, &dev->local, &msg,
					  peer->hs_entry.index)) < 0 ||
	    (r = wg_cookie_add_macs(&peer->cookie, (uint8_t *)&msg,
				    sizeof(msg), wg_now(dev))) < 0 ||
	    (r = wg_peer_begin_session(peer)) < 0) {
		wg_noise_handshake_clear(&peer->hs);
		wg_index_remove(&dev->index, &peer->hs_entry);
		return r;
	}
	wg_timers_session_derived(peer);
	peer->tx_bytes += sizeof(msg);
	wg_tx_datagram(dev, &msg, sizeof(msg), &peer->ep);
	return 0;
}

void wg_tx_send_keepalive(struct wg_peer *peer)
{
	struct pkt *p;

	if (!peer->staged_head) {
		if (!(p = pool_get(&peer->dev->pool)))
			return;
		p->off = PKT_HEADROOM;
		p->len = 0;
		wg_peer_stage(peer, p);
	}
	wg_tx_send_staged(peer);
}

/* Pads to 16 bytes (not beyond the MTU), prepends the header and points
 * the packet at the whole datagram, tag room included; the sealing itself
 * happens in wg_tx_flush, for the whole batch across the lanes. */
static int wg_tx_prepare(struct wg_device *dev, struct wg_keypair *kp,
			 struct pkt *p, uint64_t ctr)
{
	unsigned len = p->len, padded = (len + WG_PADDING_MULTIPLE - 1) &
					~(WG_PADDING_MULTIPLE - 1u);
	uint8_t *hdr;

	if (dev->mtu && padded > dev->mtu)
		padded = len > dev->mtu ? len : dev->mtu;
	if (p->off < WG_DATA_HEADER_LEN ||
	    (size_t)p->off + padded + WG_TAG_LEN > PKT_BUF)
		return -ENOBUFS; /* an inside that broke the pkt.h contract */
	memset(pkt_data(p) + len, 0, padded - len);
	p->off -= WG_DATA_HEADER_LEN;
	hdr = pkt_data(p);
	wg_le32_write(hdr, WG_MSG_DATA);
	wg_le32_write(hdr + 4, kp->remote_index);
	wg_le64_write(hdr + 8, ctr);
	p->len = (uint16_t)(WG_DATA_HEADER_LEN + padded + WG_TAG_LEN);
	p->owner = kp;
	p->nonce = ctr;
	return 0;
}

/* Starts a new handshake when the current session is getting old. */
static void wg_tx_keep_key_fresh(struct wg_peer *peer, uint64_t now)
{
	struct wg_keypair *kp = peer->cur;

	if (kp && (kp->send_counter > WG_REKEY_AFTER_MESSAGES ||
		   (kp->initiator && now - kp->birth >= WG_REKEY_AFTER_TIME)))
		wg_tx_send_initiation(peer, false);
}

void wg_tx_send_staged(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	struct wg_keypair *kp = peer->cur;
	uint64_t now = wg_now(dev);
	bool data = false, sent = false;

	if (!peer->staged_head)
		return;
	if (!wg_keypair_can_send(kp, now) || !wg_ep_set(&peer->ep)) {
		wg_tx_send_initiation(peer, false);
		return;
	}
	while (peer->staged_head &&
	       kp->send_counter < WG_REJECT_AFTER_MESSAGES) {
		struct pkt *p = wg_peer_unstage(peer);

		data |= p->len != 0;
		if (wg_tx_prepare(dev, kp, p, kp->send_counter++) < 0) {
			pool_put(&dev->pool, p);
			continue;
		}
		p->ep = peer->ep;
		peer->tx_bytes += p->len;
		wg_tx_queue(dev, p);
		sent = true;
	}
	if (sent) {
		wg_timers_any_authenticated_packet_traversal(peer);
		wg_timers_any_authenticated_packet_sent(peer);
		if (data)
			wg_timers_data_sent(peer);
	}
	if (peer->staged_head) /* counter exhausted mid-batch */
		wg_tx_send_initiation(peer, false);
	else
		wg_tx_keep_key_fresh(peer, now);
}
