/* test_wg_rx.c - what the receive path accepts: mac1/mac2 and cookie
 * replies under load, handshake rate limiting, and malformed, truncated,
 * oversized or forged datagrams of every type dropped with no effect. */
#include <errno.h>

#include "unit.h"
#include "wg_net.h"

#define S NSEC_PER_SEC

/* Makes side `from` emit its next datagram and returns a copy of it
 * without delivering it. */
static struct net_frame capture(struct net *n, int from, bool data)
{
	struct net_frame f;

	if (data)
		net_send_ip(n, from, from ? "10.7.0.2" : "10.7.0.1",
			    from ? "10.7.0.1" : "10.7.0.2", 40, 3);
	f = n->q[(n->qhead + n->qlen - 1) % NET_QUEUE];
	n->qlen = 0;
	return f;
}

/* Datagrams dropped as invalid or replayed by that side. */
static unsigned long long invalid(struct net *n, int side)
{
	struct wg_device_stats st;
	wg_device_get_stats(n->s[side].dev, &st);
	return st.rx_invalid + st.rx_replayed;
}

TEST(cookie_round_trip_under_load)
{
	struct net *n = net_new(true);	/* side 1 always under load */
	struct wg_device_stats st0, st1;

	net_ping(n, 0, 10, 0);
	/* No mac2 yet: a cookie reply instead of a response. */
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_COOKIE], 1);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_RESPONSE], 0);
	CHECK_EQ_INT(n->s[1].peer->hs.state, WG_HS_ZEROED);
	wg_device_get_stats(n->s[0].dev, &st0);
	CHECK_EQ_U64(st0.cookies_received, 1);
	/* The retry carries mac2 and is answered. */
	net_advance(n, 6 * S);
	CHECK_EQ_INT(n->s[0].sent[WG_MSG_INITIATION], 2);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_RESPONSE], 1);
	CHECK_EQ_INT(n->s[1].delivered, 1);
	wg_device_get_stats(n->s[1].dev, &st1);
	CHECK_EQ_U64(st1.cookies_sent, 1);
	net_free(n);
}

/* Side 0 sends a new handshake initiation now, and the wire delivers it
 * (and whatever follows). */
static void resend_initiation(struct net *n)
{
	n->s[0].peer->have_sent_handshake = false;
	wg_tx_send_initiation(n->s[0].peer, false);
	wg_tx_flush(n->s[0].dev);
	net_pump(n);
}

TEST(cookie_expiry_both_ends)
{
	struct net *n = net_new(true);
	struct wg_device_stats st;

	net_ping(n, 0, 10, 0);
	net_advance(n, 6 * S);
	CHECK_EQ_INT(n->s[1].delivered, 1);
	/* The initiator stops using a cookie after 120 - 5 s... */
	net_advance(n, 116 * S);
	resend_initiation(n);
	wg_device_get_stats(n->s[1].dev, &st);
	CHECK_EQ_U64(st.cookies_sent, 2);
	net_advance(n, 6 * S);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_RESPONSE], 2);
	/* ...and the responder's secret changes every 120 s: a cookie the
	 * initiator still trusts is then refused and replaced. */
	net_advance(n, 121 * S);
	n->s[0].peer->cookie.cookie_birth = n->now;
	resend_initiation(n);
	wg_device_get_stats(n->s[1].dev, &st);
	CHECK_EQ_U64(st.cookies_sent, 3);
	net_free(n);
}

TEST(wrong_mac1_dropped_without_reply)
{
	struct net *n = net_new(false);
	struct net_frame f;
	unsigned long long inv = invalid(n, 1);

	net_send_ip(n, 0, "10.7.0.1", "10.7.0.2", 10, 0);
	f = capture(n, 0, false);
	CHECK_EQ_INT(wg_msg_classify(f.data, f.len), WG_MSG_INITIATION);
	f.data[116] ^= 1;		/* mac1 */
	net_inject(n, 1, f.data, f.len, &n->s[0].addr);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_RESPONSE], 0);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_COOKIE], 0);
	CHECK_EQ_U64(invalid(n, 1), inv + 1);
	CHECK_EQ_INT(n->s[1].peer->hs.state, WG_HS_ZEROED);
	/* Intact, it is answered. */
	f.data[116] ^= 1;
	net_inject(n, 1, f.data, f.len, &n->s[0].addr);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_RESPONSE], 1);
	net_free(n);
}

TEST(under_load_without_mac2_gets_cookie_not_state)
{
	struct net *n = net_new(true);
	struct net_frame f;

	net_send_ip(n, 0, "10.7.0.1", "10.7.0.2", 10, 0);
	f = capture(n, 0, false);
	/* The same initiation, wrong mac1: no cookie either (mac1 first). */
	f.data[120] ^= 1;
	net_inject(n, 1, f.data, f.len, &n->s[0].addr);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_COOKIE], 0);
	f.data[120] ^= 1;
	/* A garbage mac2 is as good as none. */
	memset(f.data + 132, 0xaa, 16);
	net_inject(n, 1, f.data, f.len, &n->s[0].addr);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_COOKIE], 1);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_RESPONSE], 0);
	CHECK_EQ_INT(n->s[1].peer->hs.state, WG_HS_ZEROED);
	net_free(n);
}

TEST(ratelimit_under_load)
{
	struct net *n = net_new(true);
	struct net_frame f;
	struct wg_device_stats st;

	net_ping(n, 0, 10, 0);		/* gets a cookie */
	n->s[0].peer->have_sent_handshake = false;
	net_send_ip(n, 0, "10.7.0.1", "10.7.0.2", 10, 0);
	f = capture(n, 0, false);
	/* A source with a valid cookie gets a burst of 5, then 20/s. */
	for (int i = 0; i < 12; i++)
		net_inject(n, 1, f.data, f.len, &n->s[0].addr);
	wg_device_get_stats(n->s[1].dev, &st);
	CHECK_EQ_U64(st.ratelimited, 7);
	CHECK_EQ_INT(n->s[1].sent[WG_MSG_RESPONSE], 1); /* the rest replays */
	net_advance(n, S);
	net_inject(n, 1, f.data, f.len, &n->s[0].addr);
	wg_device_get_stats(n->s[1].dev, &st);
	CHECK_EQ_U64(st.ratelimited, 7);
	/* Another source is not affected. */
	struct wg_endpoint other;
	net_addr(&other, "192.0.2.200", 1);
	net_inject(n, 1, f.data, f.len, &other);
	wg_device_get_stats(n->s[1].dev, &st);
	CHECK_EQ_U64(st.ratelimited, 7);
	net_free(n);
}

/* The observable state of one side, to show a datagram changed nothing. */
struct snap {
	unsigned sent[WG_MSG_MAX], delivered;
	void *cur, *prev, *next;
	enum wg_hs_state hs;
	uint32_t hs_index;
	uint64_t rx, tx, replay_next;
	struct wg_endpoint ep;
};

static void snap_take(struct net *n, int side, struct snap *s)
{
	struct wg_peer *p = n->s[side].peer;

	memset(s, 0, sizeof(*s));
	memcpy(s->sent, n->s[side].sent, sizeof(s->sent));
	s->delivered = n->s[side].delivered;
	s->cur = p->cur;
	s->prev = p->prev_kp;
	s->next = p->next_kp;
	s->hs = p->hs.state;
	s->hs_index = p->hs.local_index;
	s->rx = p->rx_bytes;
	s->tx = p->tx_bytes;
	s->replay_next = p->cur ? p->cur->replay.next : 0;
	s->ep = p->ep;
}

static void inject_expect_nothing(struct net *n, int side, const uint8_t *d,
				  size_t len, const char *what)
{
	struct snap a, b;
	unsigned long long inv = invalid(n, side);

	snap_take(n, side, &a);
	struct wg_endpoint evil;
	net_addr(&evil, "192.0.2.99", 9999);
	net_inject(n, side, d, len, &evil);
	net_pump(n);
	snap_take(n, side, &b);
	if (memcmp(&a, &b, sizeof(a)) != 0)
		UNIT_FAIL("%s changed state", what);
	if (invalid(n, side) != inv + 1)
		UNIT_FAIL("%s not counted as invalid", what);
}

TEST(malformed_every_type_dropped_without_effect)
{
	struct net *n = net_new(false);
	struct net_frame init, resp, data, cookie;
	uint8_t buf[PKT_SIZE];
	uint32_t x = 99;

	/* Real messages of each type to mutate. */
	net_send_ip(n, 0, "10.7.0.1", "10.7.0.2", 10, 0);
	init = capture(n, 0, false);
	net_inject(n, 1, init.data, init.len, &n->s[0].addr);
	resp = capture(n, 1, false);
	net_inject(n, 0, resp.data, resp.len, &n->s[1].addr);
	net_pump(n);
	data = capture(n, 0, true);
	{
		struct net *m = net_new(true);
		net_send_ip(m, 0, "10.7.0.1", "10.7.0.2", 10, 0);
		struct net_frame mi = capture(m, 0, false);
		net_inject(m, 1, mi.data, mi.len, &m->s[0].addr);
		cookie = capture(m, 1, false);
		net_free(m);
	}
	CHECK_EQ_INT(wg_msg_classify(cookie.data, cookie.len), WG_MSG_COOKIE);
	const struct net_frame *all[] = { &init, &resp, &data, &cookie };
	const char *names[] = { "initiation", "response", "data", "cookie" };
	/* Each side is the receiver of the message it did not send; send each
	 * to both, mutated, and expect nothing. */
	for (int side = 0; side < 2; side++) {
		for (int k = 0; k < 4; k++) {
			const struct net_frame *f = all[k];
			char what[64];

			snprintf(what, sizeof(what), "%s truncated", names[k]);
			inject_expect_nothing(n, side, f->data,
					      k == 2 ? 31 : f->len - 1u, what);
			memcpy(buf, f->data, f->len);
			buf[f->len] = 0;
			snprintf(what, sizeof(what), "%s oversized", names[k]);
			if (k != 2)
				inject_expect_nothing(n, side, buf, f->len + 1u, what);
			memcpy(buf, f->data, f->len);
			buf[1] = 1;
			snprintf(what, sizeof(what), "%s reserved byte", names[k]);
			inject_expect_nothing(n, side, buf, f->len, what);
			/* Random bodies under a valid type header. */
			for (int r = 0; r < 20; r++) {
				memcpy(buf, f->data, 4);
				for (unsigned i = 4; i < f->len; i++) {
					x = x * 1103515245 + 12345;
					buf[i] = (uint8_t)(x >> 16);
				}
				snprintf(what, sizeof(what), "%s random %d", names[k], r);
				inject_expect_nothing(n, side, buf, f->len, what);
			}
			/* One flipped bit anywhere past the header. */
			for (unsigned i = 4; i < f->len; i += 9) {
				memcpy(buf, f->data, f->len);
				buf[i] ^= 0x10;
				snprintf(what, sizeof(what), "%s bit %u", names[k], i);
				/* For data the receiver is side 1; its header
				 * index/counter are not covered by the tag but
				 * a changed one finds no key or wrong nonce. */
				inject_expect_nothing(n, side, buf, f->len, what);
			}
		}
		inject_expect_nothing(n, side, buf, 0, "empty");
		inject_expect_nothing(n, side, (const uint8_t *)"\x05\0\0\0", 4,
				      "type 5");
		memset(buf, 0, sizeof(buf));
		buf[0] = 4;
		inject_expect_nothing(n, side, buf, PKT_PAYLOAD_MAX, "huge data");
	}
	/* The genuine data message still works after all that, once. */
	unsigned d = n->s[1].delivered;
	net_inject(n, 1, data.data, data.len, &n->s[0].addr);
	CHECK_EQ_INT(n->s[1].delivered, d + 1);
	inject_expect_nothing(n, 1, data.data, data.len, "replayed data");
	net_free(n);
}

int main(void)
{
	RUN(cookie_round_trip_under_load);
	RUN(cookie_expiry_both_ends);
	RUN(wrong_mac1_dropped_without_reply);
	RUN(under_load_without_mac2_gets_cookie_not_state);
	RUN(ratelimit_under_load);
	RUN(malformed_every_type_dropped_without_effect);
	return unit_done();
}
