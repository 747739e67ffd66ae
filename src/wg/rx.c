/* rx.c - the receive path: classify each datagram, authenticate it, and act
 * (answer a handshake, take a cookie, or decrypt transport data in place and
 * pass it inside). Anything that does not authenticate changes nothing but
 * a counter. */
#include <string.h>

#include "wg/internal.h"

#define LOG_SUBSYS "wg"
#include "core/log.h"
#include "core/secure.h"
#include "wg/proto.h"

/* Under load when handshakes arrive faster than WG_UNDER_LOAD_RATE a
 * second, and for a second after (or always, when forced). */
static bool wg_rx_under_load(struct wg_device *dev, uint64_t now)
{
	if (dev->cfg.force_cookie)
		return true;
	if (now - dev->load_window >= NSEC_PER_SEC) {
		dev->load_window = now;
		dev->load_count = 0;
	}
	if (++dev->load_count > WG_UNDER_LOAD_RATE)
		dev->load_until = now + NSEC_PER_SEC;
	return now < dev->load_until;
}

static void wg_rx_send_cookie(struct wg_device *dev, const uint8_t *msg,
			      size_t len, const struct wg_endpoint *ep,
			      uint64_t now)
{
	struct wg_msg_cookie reply;

	if (wg_cookie_reply_create(&dev->checker, &reply, msg, len, ep, now) < 0)
		return;
	wg_tx_datagram(dev, &reply, sizeof(reply), ep);
	dev->stats.cookies_sent++;
	/* Logged at powers of two: visible, but no log flood under attack. */
	if (!(dev->stats.cookies_sent & (dev->stats.cookies_sent - 1)))
		log_info("under load: cookie reply sent (%llu so far)",
			 dev->stats.cookies_sent);
}

static void wg_rx_initiation(struct wg_device *dev, struct pkt *p,
			     uint64_t now)
{
	struct wg_msg_initiation msg;
	struct wg_noise_pending pend;
	struct wg_peer *peer;

	memcpy(&msg, pkt_data(p), sizeof(msg));
	if (wg_noise_initiation_open(&dev->local, &msg, &pend) < 0) {
		dev->stats.rx_invalid++;
		return;
	}
	peer = wg_device_peer_lookup(dev, pend.remote_static);
	if (!peer || wg_noise_initiation_finish(&peer->hs, &msg, &pend, now) < 0) {
		secure_wipe(&pend, sizeof(pend));
		dev->stats.rx_invalid++;
		return;
	}
	log_debug("peer %s: received handshake initiation", wg_peer_str(peer));
	wg_peer_update_endpoint(peer, &p->ep);
	dev->stats.handshakes_rx++;
	if (wg_tx_send_response(peer) < 0)
		log_warn("peer %s: cannot answer handshake", wg_peer_str(peer));
	peer->rx_bytes += p->len;
	wg_timers_any_authenticated_packet_received(peer);
	wg_timers_any_authenticated_packet_traversal(peer);
}

static void wg_rx_response(struct wg_device *dev, struct pkt *p)
{
	struct wg_msg_response msg;
	struct wg_index_entry *e;
	struct wg_peer *peer;

	memcpy(&msg, pkt_data(p), sizeof(msg));
	e = wg_index_lookup(&dev->index, wg_le32_read(&msg.receiver),
			    WG_INDEX_HANDSHAKE);
	if (!e || wg_noise_response_consume(&((struct wg_peer *)e->obj)->hs,
					    &dev->local, &msg) < 0) {
		dev->stats.rx_invalid++;
		return;
	}
	peer = e->obj;
	log_debug("peer %s: received handshake response", wg_peer_str(peer));
	wg_peer_update_endpoint(peer, &p->ep);
	dev->stats.handshakes_rx++;
	if (wg_peer_begin_session(peer) == 0) {
		wg_timers_session_derived(peer);
		wg_timers_handshake_complete(peer);
		/* Sends what waited for the session, or a keepalive that
		 * confirms it to the responder at once. */
		wg_tx_send_keepalive(peer);
	}
	peer->rx_bytes += p->len;
	wg_timers_any_authenticated_packet_received(peer);
	wg_timers_any_authenticated_packet_traversal(peer);
}

static void wg_rx_handshake(struct wg_device *dev, struct pkt *p,
			    enum wg_msg_type type)
{
	uint64_t now = wg_now(dev);
	bool under_load = wg_rx_under_load(dev, now);
	enum wg_mac_state st;

	st = wg_cookie_validate(&dev->checker, pkt_data(p), p->len, &p->ep,
				under_load, now);
	if (st == WG_MAC_INVALID) {
		dev->stats.rx_invalid++;
		return;
	}
	if (under_load && st != WG_MAC_VALID_COOKIE) {
		wg_rx_send_cookie(dev, pkt_data(p), p->len, &p->ep, now);
		return;
	}
	if (under_load && !wg_ratelimit_allow(&dev->rl, &p->ep, now)) {
		dev->stats.ratelimited++;
		return;
	}
	if (type == WG_MSG_INITIATION)
		wg_rx_initiation(dev, p, now);
	else
		wg_rx_response(dev, p);
}

static void wg_rx_cookie(struct wg_device *dev, struct pkt *p)
{
	struct wg_msg_cookie msg;
	struct wg_index_entry *e;
	struct wg_peer *peer;

	memcpy(&msg, pkt_data(p), sizeof(msg));
	e = wg_index_lookup(&dev->index, wg_le32_read(&msg.receiver),
			    WG_INDEX_ANY);
	if (!e) {
		dev->stats.rx_invalid++;
		return;
	}
	peer = e->kind == WG_INDEX_HANDSHAKE
		       ? e->obj : ((struct wg_keypair *)e->obj)->peer;
	if (wg_cookie_reply_consume(&peer->cookie, &msg, wg_now(dev)) < 0) {
		dev->stats.rx_invalid++;
		return;
	}
	dev->stats.cookies_received++;
	log_debug("peer %s: received cookie reply", wg_peer_str(peer));
}

/* The initiator re-keys shortly before REJECT_AFTER_TIME if the session is
 * still receiving but it has sent nothing that would trigger a rekey. */
static void wg_rx_keep_key_fresh(struct wg_peer *peer, uint64_t now)
{
	struct wg_keypair *kp = peer->cur;

	if (kp && kp->initiator && !peer->t.sent_lastminute_handshake &&
	    now - kp->birth >= WG_REJECT_AFTER_TIME - WG_KEEPALIVE_TIMEOUT -
				       WG_REKEY_TIMEOUT) {
		peer->t.sent_lastminute_handshake = true;
		wg_tx_send_initiation(peer, false);
	}
}

/* Length of the IP packet at ip (clen bytes with padding) and its source
 * address, or 0 when it is not a well-formed IPv4/IPv6 packet. */
static unsigned wg_rx_inner(const uint8_t *ip, unsigned clen, int *family,
			    const uint8_t **src)
{
	unsigned tot;

	if (clen >= 20 && ip[0] >> 4 == 4) {
		tot = (unsigned)ip[2] << 8 | ip[3];
		*family = AF_INET;
		*src = ip + 12;
		return tot >= 20 && tot <= clen ? tot : 0;
	}
	if (clen >= 40 && ip[0] >> 4 == 6) {
		tot = 40 + ((unsigned)ip[4] << 8 | ip[5]);
		*family = AF_INET6;
		*src = ip + 8;
		return tot <= clen ? tot : 0;
	}
	return 0;
}

/* Transport data goes through three steps so that runs of it can be
 * opened on several lanes at once while every protocol decision stays on
 * the loop thread, in batch order:
 *   1. wg_rx_lookup (loop thread): the keypair the receiver index names,
 *      which must still receive, and a counter not seen yet: annotated as
 *      p->owner and p->nonce;
 *   2. wg_rx_open_one (any lane): opened in place with the lane's context;
 *      owner cleared when the tag does not verify;
 *   3. wg_rx_accept (loop thread, in order): the keypair looked up again
 *      (an earlier packet of the run may have retired it: confirming a
 *      next keypair frees the previous one; nothing in a run of transport
 *      data allocates one, so the pointer cannot name a newer keypair),
 *      then the replay window updated (a duplicate within the run fails
 *      here) and the session confirmed. */
static bool wg_rx_lookup(struct wg_device *dev, struct pkt *p, uint64_t now)
{
	const uint8_t *d = pkt_data(p);
	struct wg_index_entry *e;
	struct wg_keypair *kp;
	uint64_t ctr = wg_le64_read(d + 8);

	e = wg_index_lookup(&dev->index, wg_le32_read(d + 4), WG_INDEX_KEYPAIR);
	if (!e || !wg_keypair_can_recv((kp = e->obj), now)) {
		dev->stats.rx_invalid++;
		return false;
	}
	if (!wg_replay_check(&kp->replay, ctr)) {
		dev->stats.rx_replayed++;
		return false;
	}
	p->owner = kp;
	p->nonce = ctr;
	return true;
}

static void wg_rx_open_one(void *ctx, unsigned i, unsigned lane)
{
	struct pkt *p = ((struct pkt **)ctx)[i];
	struct wg_keypair *kp = p->owner;

	if (wg_aead_open_inplace(&kp->recv[lane], p->nonce,
				 pkt_data(p) + WG_DATA_HEADER_LEN,
				 p->len - WG_DATA_MIN_LEN) < 0)
		p->owner = NULL;
}

/* Returns the peer of an opened packet, or NULL (dropped, counted). */
static struct wg_peer *wg_rx_accept(struct wg_device *dev, struct pkt *p)
{
	struct wg_keypair *kp = p->owner;
	struct wg_index_entry *e;

	if (!kp) {
		dev->stats.rx_invalid++;
		return NULL;
	}
	e = wg_index_lookup(&dev->index, wg_le32_read(pkt_data(p) + 4),
			    WG_INDEX_KEYPAIR);
	if (!e || e->obj != kp) {
		dev->stats.rx_invalid++;
		return NULL;
	}
	if (!wg_replay_update(&kp->replay, p->nonce)) {
		dev->stats.rx_replayed++;
		return NULL;
	}
	if (wg_peer_received_with(kp->peer, kp)) {
		wg_timers_handshake_complete(kp->peer);
		wg_tx_send_staged(kp->peer);
	}
	return kp->peer;
}

/* Takes an opened `p`: it ends up in dev->inb or back in the pool. */
static void wg_rx_data(struct wg_device *dev, struct pkt *p, uint64_t now)
{
	struct wg_peer *peer = wg_rx_accept(dev, p);
	unsigned clen = p->len - WG_DATA_MIN_LEN, tot;
	const uint8_t *src;
	int family;

	if (!peer)
		goto drop;
	wg_rx_keep_key_fresh(peer, now);
	wg_timers_any_authenticated_packet_received(peer);
	wg_timers_any_authenticated_packet_traversal(peer);
	wg_peer_update_endpoint(peer, &p->ep);
	peer->rx_bytes += p->len;
	if (clen == 0)
		goto drop; /* keepalive */
	wg_timers_data_received(peer);
	tot = wg_rx_inner(pkt_data(p) + WG_DATA_HEADER_LEN, clen, &family, &src);
	if (!tot) {
		dev->stats.rx_invalid++;
		goto drop;
	}
	if (wg_allowedips_lookup(&dev->aips, family, src) != peer) {
		dev->stats.rx_no_route++;
		goto drop;
	}
	p->off += WG_DATA_HEADER_LEN;
	p->len = (uint16_t)tot;
	if (dev->inb.n == PKT_BATCH)
		wg_tx_flush_inside(dev);
	dev->inb.p[dev->inb.n++] = p;
	return;
drop:
	pool_put(&dev->pool, p);
}

/* A handshake message, cookie reply or garbage: handled alone. */
static void wg_rx_other(struct wg_device *dev, struct pkt *p,
			enum wg_msg_type type)
{
	if (type == WG_MSG_INITIATION || type == WG_MSG_RESPONSE)
		wg_rx_handshake(dev, p, type);
	else if (type == WG_MSG_COOKIE)
		wg_rx_cookie(dev, p);
	else
		dev->stats.rx_invalid++;
	pool_put(&dev->pool, p);
}

void wg_rx_batch(struct wg_device *dev, struct pkt **pk, unsigned n)
{
	uint64_t now = wg_now(dev);
	struct pkt *run[PKT_BATCH];
	unsigned i = 0;

	while (i < n) {
		enum wg_msg_type type = wg_msg_classify(pkt_data(pk[i]),
							pk[i]->len);
		unsigned k = 0;

		if (type != WG_MSG_DATA) {
			wg_rx_other(dev, pk[i++], type);
			continue;
		}
		do {
			if (wg_rx_lookup(dev, pk[i], now))
				run[k++] = pk[i];
			else
				pool_put(&dev->pool, pk[i]);
		} while (++i < n && k < PKT_BATCH &&
			 wg_msg_classify(pkt_data(pk[i]), pk[i]->len) ==
				 WG_MSG_DATA);
		wg_lanes_run(dev->lanes, k, wg_rx_open_one, run);
		for (unsigned j = 0; j < k; j++)
			wg_rx_data(dev, run[j], now);
	}
}
