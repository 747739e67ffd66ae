/* test_wg_device.c - two in-process devices: handshake and transport both
 * ways, keypair rotation, roaming, cryptokey routing on receive. */
#include <errno.h>

#include "unit.h"
#include "wg_net.h"

TEST(handshake_then_data_both_ways)
{
	struct net *n = net_new(false);
	struct wg_peer_status st;

	net_ping(n, 0, 100, 1);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_INITIATION], 1);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_RESPONSE], 1);
	/* The staged packet went out once the session existed. */
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_DATA], 1);
	CHECK_EQ_INT(n->s[1].delivered, 1);
	CHECK_EQ_INT(n->s[1].last_in_len, 120);
	CHECK_EQ_INT(n->s[1].last_in[20], 1);
	CHECK_EQ_INT(n->s[1].last_in[119], 100);
	/* The responder's session was confirmed by that packet. */
	CHECK(n->s[1].peer->cur != NULL && n->s[1].peer->next_kp == NULL);
	CHECK_EQ_INT(n->s[0].events[WG_EVENT_HANDSHAKE], 1);
	CHECK_EQ_INT(n->s[1].events[WG_EVENT_HANDSHAKE], 1);

	net_ping(n, 1, 1000, 9);
	CHECK_EQ_INT(n->s[0].delivered, 1);
	CHECK_EQ_INT(n->s[0].last_in_len, 1020);
	CHECK_EQ_INT(n->s[0].last_in[1019], (uint8_t)(9 + 999));
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_INITIATION], 0);

	wg_peer_get_status(n->s[0].peer, &st);
	CHECK(st.has_session);
	CHECK_EQ_U64(st.last_handshake_ns, NET_WALL_BASE + n->now);
	CHECK_EQ_U64(st.tx_bytes, 148 + 32 + 128);	/* init + data(100+20 -> 128) */
	CHECK_EQ_U64(st.rx_bytes, 92 + 32 + 1024);
	CHECK_EQ_INT(st.endpoint.addr.in4.sin_port, htons(51821));
	for (int i = 0; i < 50; i++) {
		net_ping(n, i & 1, 500 + i, (uint8_t)i);
	}
	CHECK_EQ_INT(n->s[0].delivered + n->s[1].delivered, 52);
	net_free(n);
}

TEST(padding_and_mtu)
{
	struct net *n = net_new(false);

	net_ping(n, 0, 1, 0);		/* 21 bytes -> padded to 32 */
	CHECK_EQ_INT(n->s[1].last_in_len, 21);
	net_ping(n, 0, 1400, 0);	/* 1420 = MTU: not padded past it */
	CHECK_EQ_INT(n->s[1].last_in_len, 1420);
	CHECK_EQ_U64(n->s[0].peer->tx_bytes, 148 + 32 + 32 + 32 + 1420);
	net_free(n);
}

TEST(source_address_must_be_allowed)
{
	struct net *n = net_new(false);
	struct wg_device_stats st;

	net_ping(n, 0, 10, 0);
	CHECK_EQ_INT(n->s[1].delivered, 1);
	/* Side 0 sends with a source side 1 does not route back to side 0. */
	net_send_ip(n, 0, "10.7.0.99", "10.7.0.2", 10, 0);
	net_pump(n);
	CHECK_EQ_INT(n->s[1].delivered, 1);
	wg_device_get_stats(n->s[1].dev, &st);
	CHECK_EQ_U64(st.rx_no_route, 1);
	/* No peer for the destination: dropped before encryption. */
	net_send_ip(n, 0, "10.7.0.1", "10.8.0.1", 10, 0);
	wg_device_get_stats(n->s[0].dev, &st);
	CHECK_EQ_U64(st.tx_no_route, 1);
	net_free(n);
}

TEST(roaming_follows_authenticated_source)
{
	struct net *n = net_new(false);

	net_ping(n, 0, 10, 0);
	CHECK_EQ_INT(n->s[1].events[WG_EVENT_ENDPOINT], 0);
	/* Side 0 moves to a new address and port. */
	net_addr(&n->s[0].addr, "203.0.113.9", 40000);
	net_ping(n, 0, 10, 0);
	CHECK_EQ_INT(n->s[1].delivered, 2);
	CHECK_EQ_INT(n->s[1].events[WG_EVENT_ENDPOINT], 1);
	CHECK_EQ_INT(n->s[1].peer->ep.addr.in4.sin_port, htons(40000));
	/* Replies go to the new address (the fake wire would not care, but
	 * the peer's endpoint is what udp would use). */
	net_ping(n, 1, 10, 0);
	CHECK_EQ_INT(n->s[0].delivered, 1);
	/* An unauthenticated datagram from elsewhere moves nothing. */
	struct wg_endpoint evil;
	uint8_t junk[64] = { 4 };
	net_addr(&evil, "192.0.2.66", 666);
	wg_le32_write(junk + 4, n->s[0].peer->cur->entry.index);
	net_inject(n, 0, junk, sizeof(junk), &evil);
	CHECK_EQ_INT(n->s[0].peer->ep.addr.in4.sin_port, htons(51821));
	net_free(n);
}

TEST(simultaneous_initiation_converges)
{
	struct net *n = net_new(false);

	/* Both send before either hears from the other. */
	net_send_ip(n, 0, "10.7.0.1", "10.7.0.2", 10, 0);
	net_send_ip(n, 1, "10.7.0.2", "10.7.0.1", 10, 0);
	net_pump(n);
	net_advance(n, 12 * NSEC_PER_SEC);
	net_ping(n, 0, 10, 0);
	net_ping(n, 1, 10, 0);
	CHECK(n->s[0].delivered >= 2);
	CHECK(n->s[1].delivered >= 2);
	CHECK(n->s[0].peer->cur && n->s[1].peer->cur);
	net_free(n);
}

TEST(remove_peer_and_change_key)
{
	struct net *n = net_new(false);
	uint8_t k[32];

	net_ping(n, 0, 10, 0);
	CHECK_EQ_INT(n->s[1].delivered, 1);
	/* A new private key on side 1 drops its sessions. */
	seq32(k, 0x99);
	CHECK_EQ_INT(wg_device_set_private_key(n->s[1].dev, k), 0);
	CHECK(n->s[1].peer->cur == NULL);
	/* Setting our own public key as a peer is refused. */
	struct wg_peer *self;
	uint8_t pub[32];
	wg_device_public_key(n->s[1].dev, pub);
	CHECK_EQ_INT(wg_device_peer_add(n->s[1].dev, pub, &self), -EINVAL);
	wg_device_peer_remove(n->s[0].dev, n->s[0].peer);
	CHECK(wg_device_peer_first(n->s[0].dev) == NULL);
	net_send_ip(n, 0, "10.7.0.1", "10.7.0.2", 10, 0);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_INITIATION], 1);
	net_free(n);
}

TEST(staged_packets_bounded_oldest_dropped)
{
	struct net *n = net_new(false);

	n->s[1].cut = true;	/* no response: no session */
	for (int i = 0; i < 200; i++)
		net_send_ip(n, 0, "10.7.0.1", "10.7.0.2", 4, (uint8_t)i);
	CHECK_EQ_INT(n->s[0].peer->staged_len, WG_MAX_STAGED_PACKETS);
	CHECK_EQ_INT(n->s[0].dev->staged_total, WG_MAX_STAGED_PACKETS);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_DATA], 0);
	n->qlen = 0;
	n->s[1].cut = false;
	net_advance(n, 6 * NSEC_PER_SEC);	/* the retry completes it */
	CHECK_EQ_INT(n->s[1].delivered, WG_MAX_STAGED_PACKETS);
	/* The newest survived: the last one delivered is packet 199. */
	CHECK_EQ_INT(n->s[1].last_in[20], 199);
	CHECK_EQ_INT(n->s[0].dev->staged_total, 0);
	net_free(n);
}

int main(void)
{
	RUN(handshake_then_data_both_ways);
	RUN(padding_and_mtu);
	RUN(source_address_must_be_allowed);
	RUN(roaming_follows_authenticated_source);
	RUN(simultaneous_initiation_converges);
	RUN(remove_peer_and_change_key);
	RUN(staged_packets_bounded_oldest_dropped);
	return unit_done();
}
