/* test_wg_timers.c - the protocol's timers on a fake clock: rekey after
 * time and after messages, reject after time, keepalives, handshake
 * retries with jitter, giving up, and zeroing keys. */
#include <errno.h>

#include "unit.h"
#include "wg_net.h"

#define S NSEC_PER_SEC

/* One packet from side 0 to side 1, then one back. */
static void ping_both(struct net *n)
{
	net_ping(n, 0, 10, 0);
	net_ping(n, 1, 10, 0);
}

/* Two sides with a session up: a packet each way has gone through. */
static struct net *net_up(void)
{
	struct net *n = net_new(false);

	ping_both(n);
	return n;
}

TEST(rekey_after_time_by_initiator)
{
	struct net *n = net_new(false);
	struct wg_keypair *first;

	net_ping(n, 0, 10, 0);
	first = n->s[0].peer->cur;
	/* Traffic both ways every second; the initiator re-keys once the
	 * session is REKEY_AFTER_TIME old, and only then. */
	for (int i = 0; i < 119; i++) {
		net_advance(n, S);
		ping_both(n);
	}
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_INITIATION], 1);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_INITIATION], 0);
	net_advance(n, S);
	net_ping(n, 0, 10, 0);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_INITIATION], 2);
	CHECK(n->s[0].peer->cur != first);
	CHECK(n->s[0].peer->prev_kp == first);
	/* Data keeps flowing on the new session, both ways. */
	unsigned d0 = n->s[0].delivered, d1 = n->s[1].delivered;
	ping_both(n);
	CHECK_EQ_INT(n->s[1].delivered, d1 + 1);
	CHECK_EQ_INT(n->s[0].delivered, d0 + 1);
	CHECK_EQ_INT(n->s[0].events[WG_EVENT_HANDSHAKE], 2);
	net_free(n);
}

TEST(rekey_after_messages)
{
	struct net *n = net_up();

	/* Either side re-keys past REKEY_AFTER_MESSAGES (the responder too). */
	n->s[1].peer->cur->send_counter = WG_REKEY_AFTER_MESSAGES - 1;
	net_ping(n, 1, 10, 0);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_INITIATION], 0);
	net_ping(n, 1, 10, 0);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_INITIATION], 1);
	CHECK(n->s[1].peer->cur->send_counter < 10);
	/* At REJECT_AFTER_MESSAGES the old key stops being used at all. */
	net_advance(n, 6 * S);
	n->s[0].peer->cur->send_counter = WG_REJECT_AFTER_MESSAGES;
	n->s[1].cut = true;
	unsigned data = n->s[0].sent[WG_MSG_DATA];
	net_ping(n, 0, 10, 0);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_DATA], data);
	CHECK(n->s[0].peer->staged_len == 1);
	net_free(n);
}

TEST(reject_after_time)
{
	struct net *n = net_new(false);
	struct net_frame old;
	struct wg_device_stats st;

	net_ping(n, 0, 10, 0);
	/* Keep a copy of a valid data message from side 1... */
	n->s[1].cut = true;
	net_ping(n, 1, 10, 0);
	n->s[1].cut = false;
	CHECK_EQ_INT(n->qlen, 0);
	/* (capture it by replaying through the queue) */
	n->s[1].peer->cur->send_counter = 100;
	net_send_ip(n, 1, "10.7.0.2", "10.7.0.1", 10, 0);
	old = n->q[n->qhead];
	net_pump(n);
	CHECK_EQ_INT(n->s[0].delivered, 1);
	/* Both sides cut: no re-key can happen. After REJECT_AFTER_TIME the
	 * session is unusable for sending and receiving. */
	n->s[0].cut = n->s[1].cut = true;
	net_advance(n, 180 * S);
	CHECK(!wg_keypair_can_send(n->s[0].peer->cur, n->now));
	unsigned data = n->s[0].sent[WG_MSG_DATA];
	net_send_ip(n, 0, "10.7.0.1", "10.7.0.2", 10, 0);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_DATA], data);
	old.data[8] = 101; /* a counter never seen: only age rejects it */
	wg_device_get_stats(n->s[0].dev, &st);
	unsigned long long inv = st.rx_invalid;
	net_inject(n, 0, old.data, old.len, &n->s[1].addr);
	wg_device_get_stats(n->s[0].dev, &st);
	CHECK_EQ_U64(st.rx_invalid, inv + 1);
	CHECK_EQ_INT(n->s[0].delivered, 1);
	net_free(n);
}

TEST(keepalive_after_receiving_data)
{
	struct net *n = net_new(false);
	uint64_t t0;

	net_ping(n, 0, 10, 0);
	t0 = n->now;
	unsigned k = n->s[1].sent[WG_MSG_DATA];
	/* Side 1 has nothing to say: it acknowledges with a keepalive after
	 * KEEPALIVE_TIMEOUT, and once only. */
	net_advance(n, 9 * S);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_DATA], k);
	net_advance(n, 2 * S);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_DATA], k + 1);
	CHECK(n->s[1].last_sent_at[WG_MSG_DATA] - t0 >= 10 * S);
	CHECK(n->s[1].last_sent_at[WG_MSG_DATA] - t0 < 10 * S + NET_STEP);
	net_advance(n, 30 * S);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_DATA], k + 1);
	/* A reply with data in time replaces the keepalive. */
	net_ping(n, 0, 10, 0);
	net_advance(n, 5 * S);
	net_ping(n, 1, 10, 0);
	net_advance(n, 20 * S);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_DATA], k + 2);
	net_free(n);
}

TEST(persistent_keepalive)
{
	struct net *n = net_new(false);

	net_ping(n, 0, 10, 0);
	net_advance(n, 11 * S);
	wg_peer_set_keepalive(n->s[0].peer, 25);
	unsigned k = n->s[0].sent[WG_MSG_DATA];	/* the one sent at once */
	net_advance(n, 24 * S);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_DATA], k);
	net_advance(n, 2 * S);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_DATA], k + 1);
	net_advance(n, 25 * S);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_DATA], k + 2);
	wg_peer_set_keepalive(n->s[0].peer, 0);
	net_advance(n, 60 * S);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_DATA], k + 2);
	net_free(n);
}

TEST(new_handshake_when_data_goes_unanswered)
{
	struct net *n = net_new(false);
	uint64_t t0;

	net_ping(n, 0, 10, 0);
	net_advance(n, 20 * S);
	n->s[1].cut = true;	/* side 1 goes silent (keepalives lost) */
	net_ping(n, 0, 10, 0);
	t0 = n->now;
	net_advance(n, 14 * S);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_INITIATION], 1);
	net_advance(n, 2 * S);
	/* KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (+ jitter) after the data. */
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_INITIATION], 2);
	uint64_t d = n->s[0].last_sent_at[WG_MSG_INITIATION] - t0;
	CHECK(d >= 15 * S && d <= 15 * S + WG_REKEY_TIMEOUT_JITTER_MAX + NET_STEP);
	net_free(n);
}

TEST(handshake_retries_jitter_and_give_up)
{
	struct net *n = net_new(false);
	uint64_t prev, start;
	unsigned count = 0;

	n->s[1].cut = true;	/* responses never arrive */
	net_send_ip(n, 0, "10.7.0.1", "10.7.0.2", 10, 0);
	start = prev = n->now;
	count = n->s[0].sent[WG_MSG_INITIATION];
	CHECK_EQ_INT(count, 1);
	/* Each retry comes REKEY_TIMEOUT plus up to 1/3 s of jitter later. */
	while (n->now - start < 200 * S) {
		net_advance(n, NET_STEP);
		if (n->s[0].sent[WG_MSG_INITIATION] != count) {
			uint64_t gap = n->now - prev;
			if (gap < WG_REKEY_TIMEOUT ||
			    gap > WG_REKEY_TIMEOUT + WG_REKEY_TIMEOUT_JITTER_MAX + NET_STEP)
				UNIT_FAIL("retry gap %llu ms",
					  (unsigned long long)(gap / NSEC_PER_MSEC));
			count = n->s[0].sent[WG_MSG_INITIATION];
			prev = n->now;
		}
	}
	/* 1 + 19 retries (MAX_TIMER_HANDSHAKES + 2 attempts), then silence. */
	CHECK_EQ_INT(count, WG_MAX_TIMER_HANDSHAKES + 2);
	CHECK(prev - start <= WG_REKEY_ATTEMPT_TIME + 10 * S);
	CHECK_EQ_INT(n->s[0].events[WG_EVENT_GAVE_UP], 1);
	CHECK_EQ_INT(n->s[0].peer->staged_len, 0);	/* purged */
	/* The half-done handshake is wiped 3 * REJECT_AFTER_TIME later. */
	CHECK(n->s[0].peer->hs.state == WG_HS_CREATED_INITIATION);
	net_advance(n, 3 * WG_REJECT_AFTER_TIME);
	CHECK(n->s[0].peer->hs.state == WG_HS_ZEROED);
	CHECK_EQ_INT(n->s[0].events[WG_EVENT_EXPIRED], 1);
	net_free(n);
}

TEST(zero_keys_after_three_reject_times)
{
	struct net *n = net_up();

	CHECK(n->s[0].peer->cur && n->s[1].peer->cur);
	net_advance(n, 3 * WG_REJECT_AFTER_TIME - 11 * S);
	CHECK(n->s[0].peer->cur != NULL);
	net_advance(n, 12 * S);
	CHECK(n->s[0].peer->cur == NULL && n->s[0].peer->prev_kp == NULL);
	CHECK(n->s[1].peer->cur == NULL);
	CHECK_EQ_INT(n->s[0].events[WG_EVENT_EXPIRED], 1);
	CHECK_EQ_INT(n->s[0].dev->index.count, 0);
	/* A new packet starts over with a fresh handshake. */
	net_ping(n, 0, 10, 0);
	CHECK_EQ_INT(n->s[1].delivered, 2);
	net_free(n);
}

TEST(initiator_rekeys_before_reject_when_only_receiving)
{
	struct net *n = net_up();

	/* An initiator that sends nothing itself (keepalives would re-key at
	 * REKEY_AFTER_TIME) still re-keys when a received packet finds the
	 * session REJECT - KEEPALIVE - REKEY_TIMEOUT old: age it to just
	 * short of that, then just past. */
	n->s[0].peer->cur->birth -= 164 * S;
	net_ping(n, 1, 10, 0);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_INITIATION], 1);
	net_advance(n, 6 * S);	/* past the initiation rate limit */
	n->s[0].peer->cur->birth -= 2 * S;
	net_ping(n, 1, 10, 0);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_INITIATION], 2);
	CHECK_EQ_INT(n->s[0].events[WG_EVENT_HANDSHAKE], 2);
	net_free(n);
}

int main(void)
{
	RUN(rekey_after_time_by_initiator);
	RUN(rekey_after_messages);
	RUN(reject_after_time);
	RUN(keepalive_after_receiving_data);
	RUN(persistent_keepalive);
	RUN(new_handshake_when_data_goes_unanswered);
	RUN(handshake_retries_jitter_and_give_up);
	RUN(zero_keys_after_three_reject_times);
	RUN(initiator_rekeys_before_reject_when_only_receiving);
	return unit_done();
}
