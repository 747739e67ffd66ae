/* wg_net.h - two in-process WireGuard devices joined by a fake wire, on one
 * loop driven by a fake clock. Used by the device-level unit tests.
 *
 * Datagrams a device sends are copied into a queue (unless its side of the
 * wire is cut) and delivered to the other device by net_pump(); cleartext
 * a device delivers inside is recorded. net_advance() moves the clock in
 * 10 ms steps, running due timers and pumping after each. */
#ifndef POSTERN_TESTS_WG_NET_H
#define POSTERN_TESTS_WG_NET_H

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/loop.h"
#include "wg/internal.h"
#include "wg/proto.h"
#include "wg/wire.h"
#include "wg_test_util.h"

#define NET_QUEUE 4096
#define NET_STEP (10 * NSEC_PER_MSEC)
#define NET_WALL_BASE (1700000000ULL * NSEC_PER_SEC)

struct net_frame {
	int from;
	uint16_t len;
	uint8_t data[PKT_SIZE];
};

struct net;

/* Worker threads the devices net_new() makes get (crypto_threads). */
static unsigned net_crypto_threads;

struct net_side {
	struct net *net;
	int idx;
	struct wg_device *dev;
	struct wg_peer *peer;		/* its peer: the other side */
	struct wg_endpoint addr;	/* its UDP address */
	uint8_t priv[32], pub[32];
	bool cut;			/* drop what it sends */
	unsigned sent[WG_MSG_MAX];	/* datagrams by type */
	uint64_t last_sent_at[WG_MSG_MAX];
	unsigned delivered;
	uint64_t in_digest;		/* net_digest of everything delivered */
	uint8_t last_in[PKT_SIZE];
	uint16_t last_in_len;
	unsigned events[WG_EVENT_TYPE_MAX];
};

struct net {
	struct loop *loop;
	uint64_t now;
	struct net_side s[2];
	struct net_frame *q;
	unsigned qhead, qlen;
};

static inline uint64_t net_clock(void *ctx)
{
	return ((struct net *)ctx)->now;
}

static inline uint64_t net_wall(void *ctx)
{
	return NET_WALL_BASE + ((struct net *)ctx)->now;
}

static inline void net_outside_send(void *ctx, struct pkt_batch *b)
{
	struct net_side *s = ctx;
	struct net *n = s->net;

	for (unsigned i = 0; i < b->n; i++) {
		struct pkt *p = b->p[i];
		enum wg_msg_type t = wg_msg_classify(pkt_data(p), p->len);

		s->sent[t]++;
		s->last_sent_at[t] = n->now;
		if (s->cut || n->qlen == NET_QUEUE)
			continue;
		struct net_frame *f = &n->q[(n->qhead + n->qlen++) % NET_QUEUE];
		f->from = s->idx;
		f->len = p->len;
		memcpy(f->data, pkt_data(p), p->len);
	}
}

/* An order-sensitive digest of a packet stream (FNV-1a over the bytes and
 * each packet's length). */
static inline uint64_t net_digest(uint64_t h, const uint8_t *p, size_t len)
{
	h = (h ^ len) * 0x100000001b3ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static inline void net_inside_deliver(void *ctx, struct pkt_batch *b)
{
	struct net_side *s = ctx;

	for (unsigned i = 0; i < b->n; i++) {
		s->in_digest = net_digest(s->in_digest, pkt_data(b->p[i]),
					  b->p[i]->len);
		s->delivered++;
		s->last_in_len = b->p[i]->len;
		memcpy(s->last_in, pkt_data(b->p[i]), b->p[i]->len);
	}
}

static inline void net_event(void *ctx, const struct wg_event *ev)
{
	((struct net_side *)ctx)->events[ev->type]++;
}

static const struct wg_outside_ops net_outside = { net_outside_send };
static const struct wg_inside_ops net_inside = { net_inside_deliver };

/* Hands one datagram to device `to`, as if from `src`. */
static inline void net_inject(struct net *n, int to, const void *data, size_t len,
		       const struct wg_endpoint *src)
{
	struct pkt_batch b = { 0 };
	struct pkt *p = pool_get(wg_device_pool(n->s[to].dev));

	p->off = PKT_HEADROOM;
	p->len = (uint16_t)len;
	p->ep = *src;
	memcpy(pkt_data(p), data, len);
	b.p[b.n++] = p;
	wg_device_receive(n->s[to].dev, &b);
}

/* Delivers queued datagrams (and what they provoke) until the wire is quiet. */
static inline void net_pump(struct net *n)
{
	while (n->qlen) {
		struct net_frame f = n->q[n->qhead];
		n->qhead = (n->qhead + 1) % NET_QUEUE;
		n->qlen--;
		net_inject(n, 1 - f.from, f.data, f.len, &n->s[f.from].addr);
	}
}

static inline void net_advance(struct net *n, uint64_t ns)
{
	uint64_t end = n->now + ns;

	while (n->now < end) {
		n->now = n->now + NET_STEP < end ? n->now + NET_STEP : end;
		loop_run_once(n->loop, 0);
		net_pump(n);
	}
}

static inline void net_addr(struct wg_endpoint *ep, const char *ip, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.in4.sin_family = AF_INET;
	ep->addr.in4.sin_port = htons(port);
	inet_pton(AF_INET, ip, &ep->addr.in4.sin_addr);
}

/* Side 0 is 10.7.0.1 behind 192.0.2.1:51820, side 1 is 10.7.0.2 behind
 * 198.51.100.2:51821; each routes the other's /32 to the other. */
static inline struct net *net_new(bool force_cookie_1)
{
	struct net *n = calloc(1, sizeof(*n));
	static const char *tun[2] = { "10.7.0.1", "10.7.0.2" };

	n->q = calloc(NET_QUEUE, sizeof(*n->q));
	n->loop = loop_new();
	n->now = 1000 * NSEC_PER_SEC;
	loop_set_clock(n->loop, net_clock, n);
	net_addr(&n->s[0].addr, "192.0.2.1", 51820);
	net_addr(&n->s[1].addr, "198.51.100.2", 51821);
	for (int i = 0; i < 2; i++) {
		struct net_side *s = &n->s[i];
		struct wg_device_config cfg = {
			.inside = &net_inside, .inside_ctx = s,
			.outside = &net_outside, .outside_ctx = s,
			.event = net_event, .event_ctx = s,
			.wall_clock = net_wall, .wall_ctx = n,
			.force_cookie = i == 1 && force_cookie_1,
			.crypto_threads = net_crypto_threads,
		};
		s->net = n;
		s->idx = i;
		if (wg_device_new(n->loop, &cfg, &s->dev) != 0)
			abort();
		seq32(s->priv, (uint8_t)(0x21 + 0x40 * i));
		wg_device_set_private_key(s->dev, s->priv);
		wg_device_public_key(s->dev, s->pub);
		wg_device_set_mtu(s->dev, 1420);
	}
	for (int i = 0; i < 2; i++) {
		struct net_side *s = &n->s[i], *o = &n->s[1 - i];
		struct in_addr a;
		if (wg_device_peer_add(s->dev, o->pub, &s->peer) != 0)
			abort();
		inet_pton(AF_INET, tun[1 - i], &a);
		wg_peer_allowedip_add(s->peer, AF_INET, &a, 32);
		wg_peer_set_endpoint(s->peer, &o->addr);
	}
	return n;
}

static inline void net_free(struct net *n)
{
	for (int i = 0; i < 2; i++)
		wg_device_free(n->s[i].dev);
	loop_free(n->loop);
	free(n->q);
	free(n);
}

/* Builds an IPv4 packet src -> dst with `len` bytes of payload (byte i =
 * seed + i) and makes device `from` send it. */
static inline void net_send_ip(struct net *n, int from, const char *src,
			const char *dst, unsigned len, uint8_t seed)
{
	struct pkt_batch b = { 0 };
	struct pkt *p = pool_get(wg_device_pool(n->s[from].dev));
	uint8_t *ip;

	p->off = PKT_HEADROOM;
	p->len = (uint16_t)(20 + len);
	ip = pkt_data(p);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(p->len >> 8);
	ip[3] = (uint8_t)p->len;
	ip[8] = 64;
	ip[9] = 17;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	for (unsigned i = 0; i < len; i++)
		ip[20 + i] = (uint8_t)(seed + i);
	b.p[b.n++] = p;
	wg_device_send(n->s[from].dev, &b);
}

/* A packet from side `from` to the other's tunnel address, pumped across. */
static inline void net_ping(struct net *n, int from, unsigned len, uint8_t seed)
{
	static const char *tun[2] = { "10.7.0.1", "10.7.0.2" };

	net_send_ip(n, from, tun[from], tun[1 - from], len, seed);
	net_pump(n);
}

#endif
