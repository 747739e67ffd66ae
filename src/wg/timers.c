/* timers.c - the protocol's per-peer timers (WireGuard paper, section 6).
 *
 * Each timer is a deadline in loop time; one loop_timer per peer is armed
 * at the earliest. Events on the data path only store deadlines, so a
 * packet costs no heap operation unless it moves the earliest deadline
 * forward in time; a timer that fires early finds nothing due and re-arms.
 * Everything reads the loop's clock, so a fake clock drives it in tests. */
#include <string.h>

#include "wg/internal.h"

#define LOG_SUBSYS "wg"
#include "core/log.h"
#include "core/secure.h"
#include "wg/proto.h"

uint64_t wg_timers_jitter(void)
{
	uint64_t r = 0;

	(void)secure_random(&r, sizeof(r));
	return r % WG_REKEY_TIMEOUT_JITTER_MAX;
}

static uint64_t wg_timers_earliest(const struct wg_timers *t)
{
	const uint64_t d[] = { t->retransmit_handshake, t->send_keepalive,
			       t->new_handshake, t->zero_key_material,
			       t->persistent_keepalive };
	uint64_t m = 0;

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (d[i] && (!m || d[i] < m))
			m = d[i];
	return m;
}

void wg_timers_sync(struct wg_peer *peer)
{
	uint64_t m = wg_timers_earliest(&peer->t);

	if (m && (!loop_timer_armed(&peer->timer) || m < peer->timer.when))
		loop_timer_arm_at(peer->dev->loop, &peer->timer, m);
}

static void wg_expired_retransmit(struct wg_peer *peer)
{
	if (peer->t.handshake_attempts > WG_MAX_TIMER_HANDSHAKES) {
		log_info("peer %s: handshake did not complete after %d "
			 "attempts, giving up", wg_peer_str(peer),
			 (int)WG_MAX_TIMER_HANDSHAKES + 2);
		peer->t.send_keepalive = 0;
		wg_peer_purge_staged(peer);
		if (!peer->t.zero_key_material)
			peer->t.zero_key_material =
				wg_now(peer->dev) + 3 * WG_REJECT_AFTER_TIME;
		wg_device_event(peer->dev, WG_EVENT_GAVE_UP, peer);
		return;
	}
	peer->t.handshake_attempts++;
	log_debug("peer %s: handshake did not complete, retrying (try %u)",
		  wg_peer_str(peer), peer->t.handshake_attempts + 1);
	/* The sticky source address may be what broke: let the kernel pick. */
	memset(&peer->ep.src, 0, sizeof(peer->ep.src));
	peer->ep.src_ifindex = 0;
	wg_tx_send_initiation(peer, true);
}

static void wg_expired_send_keepalive(struct wg_peer *peer)
{
	wg_tx_send_keepalive(peer);
	if (peer->t.need_another_keepalive) {
		peer->t.need_another_keepalive = false;
		peer->t.send_keepalive = wg_now(peer->dev) + WG_KEEPALIVE_TIMEOUT;
	}
}

static void wg_expired_new_handshake(struct wg_peer *peer)
{
	log_debug("peer %s: no reply to data for %llu s, new handshake",
		  wg_peer_str(peer), (unsigned long long)((WG_KEEPALIVE_TIMEOUT +
						      WG_REKEY_TIMEOUT) /
						     NSEC_PER_SEC));
	memset(&peer->ep.src, 0, sizeof(peer->ep.src));
	peer->ep.src_ifindex = 0;
	wg_tx_send_initiation(peer, false);
}

static void wg_expired_zero_key_material(struct wg_peer *peer)
{
	log_debug("peer %s: zeroing session keys after %llu s without a "
		  "new session", wg_peer_str(peer),
		  (unsigned long long)(3 * WG_REJECT_AFTER_TIME / NSEC_PER_SEC));
	wg_peer_clear_sessions(peer);
	wg_device_event(peer->dev, WG_EVENT_EXPIRED, peer);
}

static void wg_expired_persistent_keepalive(struct wg_peer *peer)
{
	if (peer->keepalive_interval)
		wg_tx_send_keepalive(peer);
}

/* True (and the deadline cleared) when *d is due at `now`. */
static bool wg_timer_due(uint64_t *d, uint64_t now)
{
	if (!*d || *d > now)
		return false;
	*d = 0;
	return true;
}

static void wg_timers_fire(struct loop_timer *lt)
{
	struct wg_peer *peer = lt->data;
	struct wg_device *dev = peer->dev;
	uint64_t now = wg_now(dev);

	if (wg_timer_due(&peer->t.retransmit_handshake, now))
		wg_expired_retransmit(peer);
	if (wg_timer_due(&peer->t.send_keepalive, now))
		wg_expired_send_keepalive(peer);
	if (wg_timer_due(&peer->t.new_handshake, now))
		wg_expired_new_handshake(peer);
	if (wg_timer_due(&peer->t.zero_key_material, now))
		wg_expired_zero_key_material(peer);
	if (wg_timer_due(&peer->t.persistent_keepalive, now))
		wg_expired_persistent_keepalive(peer);
	wg_timers_sync(peer);
	wg_tx_flush(dev);
}

void wg_timers_init(struct wg_peer *peer)
{
	memset(&peer->t, 0, sizeof(peer->t));
	loop_timer_init(&peer->timer, wg_timers_fire, peer);
}

void wg_timers_stop(struct wg_peer *peer)
{
	loop_timer_disarm(peer->dev->loop, &peer->timer);
	memset(&peer->t, 0, sizeof(peer->t));
}

/* After an authenticated data packet went out: expect an answer within
 * KEEPALIVE_TIMEOUT + REKEY_TIMEOUT, else start a new handshake. */
void wg_timers_data_sent(struct wg_peer *peer)
{
	if (!peer->t.new_handshake) {
		peer->t.new_handshake = wg_now(peer->dev) + WG_KEEPALIVE_TIMEOUT +
					WG_REKEY_TIMEOUT + wg_timers_jitter();
		wg_timers_sync(peer);
	}
}

/* After an authenticated data packet came in: answer with a keepalive in
 * KEEPALIVE_TIMEOUT unless data goes back first. */
void wg_timers_data_received(struct wg_peer *peer)
{
	if (!peer->t.send_keepalive) {
		peer->t.send_keepalive = wg_now(peer->dev) + WG_KEEPALIVE_TIMEOUT;
		wg_timers_sync(peer);
	} else {
		peer->t.need_another_keepalive = true;
	}
}

void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer)
{
	peer->t.send_keepalive = 0;
}

void wg_timers_any_authenticated_packet_received(struct wg_peer *peer)
{
	peer->t.new_handshake = 0;
}

void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer)
{
	if (peer->keepalive_interval) {
		peer->t.persistent_keepalive = wg_now(peer->dev) +
			(uint64_t)peer->keepalive_interval * NSEC_PER_SEC;
		wg_timers_sync(peer);
	}
}

void wg_timers_handshake_initiated(struct wg_peer *peer)
{
	peer->t.retransmit_handshake = wg_now(peer->dev) + WG_REKEY_TIMEOUT +
				       wg_timers_jitter();
	wg_timers_sync(peer);
}

void wg_timers_handshake_complete(struct wg_peer *peer)
{
	peer->t.retransmit_handshake = 0;
	peer->t.handshake_attempts = 0;
	peer->t.sent_lastminute_handshake = false;
	peer->last_handshake_wall = wg_wall(peer->dev);
	wg_device_event(peer->dev, WG_EVENT_HANDSHAKE, peer);
}

/* Keys left unused for three REJECT_AFTER_TIMEs are wiped. */
void wg_timers_session_derived(struct wg_peer *peer)
{
	peer->t.zero_key_material = wg_now(peer->dev) + 3 * WG_REJECT_AFTER_TIME;
	wg_timers_sync(peer);
}
