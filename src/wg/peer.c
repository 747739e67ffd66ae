/* peer.c - a peer's sessions (current/previous/next keypairs), its queue of
 * packets waiting for a session, and its endpoint. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wg/internal.h"

#include "core/enc.h"
#include "core/secure.h"
#include "wg/proto.h"

struct wg_peer *wg_peer_new(struct wg_device *dev,
			    const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer *peer = calloc(1, sizeof(*peer));

	if (!peer)
		return NULL;
	peer->dev = dev;
	memcpy(peer->pub, pub, WG_KEY_LEN);
	wg_noise_handshake_init(&peer->hs, pub);
	wg_noise_precompute(&peer->hs, &dev->local);
	if (wg_cookie_maker_init(&peer->cookie, pub) < 0) {
		wg_cookie_maker_free(&peer->cookie);
		free(peer);
		return NULL;
	}
	wg_timers_init(peer);
	return peer;
}

void wg_peer_free(struct wg_peer *peer)
{
	wg_timers_stop(peer);
	wg_peer_clear_sessions(peer);
	wg_peer_purge_staged(peer);
	wg_cookie_maker_free(&peer->cookie);
	wg_noise_handshake_wipe(&peer->hs);
	secure_wipe(peer, sizeof(*peer));
	free(peer);
}

const char *wg_peer_str(const struct wg_peer *peer)
{
	static __thread char buf[B64_LEN(WG_KEY_LEN)];

	enc_b64std_encode(buf, peer->pub, WG_KEY_LEN);
	return buf;
}

void wg_keypair_free(struct wg_device *dev, struct wg_keypair *kp)
{
	if (!kp)
		return;
	/* Queued datagrams still to be sealed name it. */
	wg_tx_flush(dev);
	wg_index_remove(&dev->index, &kp->entry);
	for (unsigned i = 0; i < WG_LANES_MAX; i++) {
		wg_aead_free(&kp->send[i]);
		wg_aead_free(&kp->recv[i]);
	}
	secure_wipe(kp, sizeof(*kp));
	free(kp);
}

bool wg_keypair_can_send(const struct wg_keypair *kp, uint64_t now)
{
	return kp && now - kp->birth < WG_REJECT_AFTER_TIME &&
	       kp->send_counter < WG_REJECT_AFTER_MESSAGES;
}

bool wg_keypair_can_recv(const struct wg_keypair *kp, uint64_t now)
{
	return kp && now - kp->birth < WG_REJECT_AFTER_TIME;
}

static struct wg_keypair *wg_keypair_derive(struct wg_peer *peer)
{
	struct wg_keypair *kp = calloc(1, sizeof(*kp));
	uint8_t send[WG_KEY_LEN], recv[WG_KEY_LEN];
	uint32_t remote = peer->hs.remote_index;
	int r;

	if (!kp)
		return NULL;
	r = wg_noise_derive(&peer->hs, send, recv, &kp->initiator);
	for (unsigned i = 0; r == 0 && i < peer->dev->n_lanes; i++)
		if ((r = wg_aead_init(&kp->send[i], send, true)) == 0)
			r = wg_aead_init(&kp->recv[i], recv, false);
	if (r < 0) {
		for (unsigned i = 0; i < WG_LANES_MAX; i++) {
			wg_aead_free(&kp->send[i]);
			wg_aead_free(&kp->recv[i]);
		}
		free(kp);
		kp = NULL;
	} else {
		kp->peer = peer;
		kp->remote_index = remote;
		kp->birth = wg_now(peer->dev);
		wg_replay_init(&kp->replay);
	}
	secure_wipe(send, sizeof(send));
	secure_wipe(recv, sizeof(recv));
	return kp;
}

int wg_peer_begin_session(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	struct wg_keypair *kp = wg_keypair_derive(peer);

	if (!kp) {
		wg_noise_handshake_clear(&peer->hs);
		wg_index_remove(&dev->index, &peer->hs_entry);
		return -ENOMEM;
	}
	/* The handshake's index now names the session. */
	wg_index_replace(&dev->index, &peer->hs_entry, &kp->entry,
			 WG_INDEX_KEYPAIR, kp);
	if (kp->initiator) {
		/* The response proved the peer holds the keys: use it now. A
		 * pending unconfirmed next keypair becomes the previous one
		 * (it may still carry packets in flight). */
		if (peer->next_kp) {
			wg_keypair_free(dev, peer->prev_kp);
			peer->prev_kp = peer->next_kp;
			peer->next_kp = NULL;
			wg_keypair_free(dev, peer->cur);
		} else {
			wg_keypair_free(dev, peer->prev_kp);
			peer->prev_kp = peer->cur;
		}
		peer->cur = kp;
	} else {
		/* Responder: usable only once the initiator's first packet
		 * confirms it; until then it waits as next. */
		wg_keypair_free(dev, peer->next_kp);
		peer->next_kp = kp;
		wg_keypair_free(dev, peer->prev_kp);
		peer->prev_kp = NULL;
	}
	return 0;
}

bool wg_peer_received_with(struct wg_peer *peer, struct wg_keypair *kp)
{
	if (kp != peer->next_kp)
		return false;
	wg_keypair_free(peer->dev, peer->prev_kp);
	peer->prev_kp = peer->cur;
	peer->cur = kp;
	peer->next_kp = NULL;
	return true;
}

void wg_peer_clear_sessions(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;

	wg_noise_handshake_clear(&peer->hs);
	wg_index_remove(&dev->index, &peer->hs_entry);
	wg_keypair_free(dev, peer->cur);
	wg_keypair_free(dev, peer->prev_kp);
	wg_keypair_free(dev, peer->next_kp);
	peer->cur = peer->prev_kp = peer->next_kp = NULL;
}

void wg_peer_stage(struct wg_peer *peer, struct pkt *p)
{
	struct wg_device *dev = peer->dev;

	p->next = NULL;
	if (peer->staged_tail)
		peer->staged_tail->next = p;
	else
		peer->staged_head = p;
	peer->staged_tail = p;
	peer->staged_len++;
	dev->staged_total++;
	/* Like a full NIC queue: the oldest packet goes. The device-wide
	 * bound keeps many unreachable peers from starving the pool. */
	if (peer->staged_len > WG_MAX_STAGED_PACKETS ||
	    dev->staged_total > dev->staged_max)
		pool_put(&dev->pool, wg_peer_unstage(peer));
}

struct pkt *wg_peer_unstage(struct wg_peer *peer)
{
	struct pkt *p = peer->staged_head;

	if (!p)
		return NULL;
	peer->staged_head = p->next;
	if (!peer->staged_head)
		peer->staged_tail = NULL;
	peer->staged_len--;
	peer->dev->staged_total--;
	return p;
}

void wg_peer_purge_staged(struct wg_peer *peer)
{
	struct pkt *p;

	while ((p = wg_peer_unstage(peer)))
		pool_put(&peer->dev->pool, p);
}

static bool wg_sockaddr_eq(const struct wg_endpoint *a,
			   const struct wg_endpoint *b)
{
	if (a->addr.sa.sa_family != b->addr.sa.sa_family)
		return false;
	if (a->addr.sa.sa_family == AF_INET)
		return a->addr.in4.sin_port == b->addr.in4.sin_port &&
		       a->addr.in4.sin_addr.s_addr == b->addr.in4.sin_addr.s_addr;
	if (a->addr.sa.sa_family == AF_INET6)
		return a->addr.in6.sin6_port == b->addr.in6.sin6_port &&
		       !memcmp(&a->addr.in6.sin6_addr, &b->addr.in6.sin6_addr,
			       sizeof(struct in6_addr)) &&
		       a->addr.in6.sin6_scope_id == b->addr.in6.sin6_scope_id;
	return true;
}

void wg_peer_update_endpoint(struct wg_peer *peer,
			     const struct wg_endpoint *ep)
{
	bool moved;

	if (ep->addr.sa.sa_family != AF_INET && ep->addr.sa.sa_family != AF_INET6)
		return; /* in-process tests without addresses */
	moved = !wg_sockaddr_eq(&peer->ep, ep);
	peer->ep = *ep;
	if (moved)
		wg_device_event(peer->dev, WG_EVENT_ENDPOINT, peer);
}
