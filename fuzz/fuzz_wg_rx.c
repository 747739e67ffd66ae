/* fuzz_wg_rx.c - the UDP receive path of a WireGuard device on any bytes.
 *
 * A responder device R (private key seq(0x40), peer seq(0x10) with PSK
 * seq(0xd0): the keys of tests/vectors/wg_handshake.py) and its partner I
 * live across runs on a loop with a fake clock. Byte 0 picks what the rest
 * drives, so every message type is reached past its authentication:
 *   0: datagrams for R, each [len_lo len_hi bytes...] (raw parsing; R's
 *      replay memory is reset so the seed initiation is accepted);
 *   1: I's fresh initiation XOR the input, to R; R's answer XOR the rest,
 *      back to I (initiation and response parsing, both sides);
 *   2: the input as an inner IP packet sent by I over a session, its data
 *      message XOR nothing, to R (decryption and inner packet checks);
 *   3: R under load: its cookie reply XOR the input, to I (cookie path);
 *   4: a data message for R's current session index with the input as
 *      counter and ciphertext (replay window and tag checks). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "wg/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_side {
	struct wg_device *dev;
	struct wg_peer *peer;
	struct pkt_batch out;		/* copies of what it sent */
	uint8_t buf[PKT_BATCH][PKT_SIZE];
	uint16_t len[PKT_BATCH];
	unsigned n;
};

static struct loop *fz_loop;
static uint64_t fz_now = 1000000000000ULL;
static struct fz_side R, I;

static uint64_t fz_clock(void *ctx)
{
	(void)ctx;
	return fz_now;
}

static uint64_t fz_wall(void *ctx)
{
	(void)ctx;
	return 1700000000000000000ULL + fz_now;
}

static void fz_send(void *ctx, struct pkt_batch *b)
{
	struct fz_side *s = ctx;

	for (unsigned i = 0; i < b->n && s->n < PKT_BATCH; i++, s->n++) {
		s->len[s->n] = b->p[i]->len;
		memcpy(s->buf[s->n], pkt_data(b->p[i]), b->p[i]->len);
	}
}

static void fz_deliver(void *ctx, struct pkt_batch *b)
{
	(void)ctx;
	(void)b;
}

static const struct wg_outside_ops fz_outside = { fz_send };
static const struct wg_inside_ops fz_inside = { fz_deliver };

static void fz_seq(uint8_t k[32], uint8_t start)
{
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)(start + i);
}

static void fz_side_init(struct fz_side *s, uint8_t key, uint8_t peer_key)
{
	struct wg_device_config cfg = {
		.inside = &fz_inside, .outside = &fz_outside, .outside_ctx = s,
		.wall_clock = fz_wall,
	};
	uint8_t k[32], pub[32], psk[32], any[16] = { 0 };
	struct wg_endpoint ep = { 0 };

	if (wg_device_new(fz_loop, &cfg, &s->dev) < 0)
		abort();
	fz_seq(k, key);
	wg_device_set_private_key(s->dev, k);
	fz_seq(k, peer_key);
	wg_x25519_public(pub, k);
	wg_device_peer_add(s->dev, pub, &s->peer);
	fz_seq(psk, 0xd0);
	wg_peer_set_psk(s->peer, psk);
	wg_peer_allowedip_add(s->peer, AF_INET, any, 0);
	wg_peer_allowedip_add(s->peer, AF_INET6, any, 0);
	ep.addr.in4.sin_family = AF_INET;
	ep.addr.in4.sin_port = htons(51820);
	ep.addr.in4.sin_addr.s_addr = htonl(0x7f000001);
	wg_peer_set_endpoint(s->peer, &ep);
}

static void fz_setup(void)
{
	if (fz_loop)
		return;
	log_set_level(LOG_ERR);
	fz_loop = loop_new();
	loop_set_clock(fz_loop, fz_clock, NULL);
	fz_side_init(&R, 0x40, 0x10);
	fz_side_init(&I, 0x10, 0x40);
}

/* Delivers one datagram to side `to` (its bytes XOR `x`, cycled). */
static void fz_inject(struct fz_side *to, const uint8_t *d, size_t len,
		      const uint8_t *x, size_t xlen)
{
	struct pkt_batch b = { 0 };
	struct pkt *p;

	if (len > PKT_PAYLOAD_MAX || !(p = pool_get(wg_device_pool(to->dev))))
		return;
	p->off = PKT_HEADROOM;
	p->len = (uint16_t)len;
	p->ep = (to == &R ? I : R).peer->ep;
	memcpy(pkt_data(p), d, len);
	for (size_t i = 0; xlen && i < len; i++)
		pkt_data(p)[i] ^= x[i % xlen];
	b.p[b.n++] = p;
	wg_device_receive(to->dev, &b);
}

/* Runs whatever each side queued to the other, once. */
static void fz_exchange(void)
{
	for (int round = 0; round < 4 && (I.n || R.n); round++) {
		struct fz_side *from = I.n ? &I : &R, *to = from == &I ? &R : &I;
		unsigned n = from->n;
		from->n = 0;
		for (unsigned i = 0; i < n; i++)
			fz_inject(to, from->buf[i], from->len[i], NULL, 0);
	}
	I.n = R.n = 0;
}

/* A fresh initiation from I (rate limit and replay memory reset). */
static bool fz_initiate(void)
{
	fz_now += 6000000000ULL;
	I.peer->have_sent_handshake = false;
	I.n = R.n = 0;
	wg_tx_send_initiation(I.peer, false);
	wg_tx_flush(I.dev);
	return I.n == 1;
}

static void fz_session(void)
{
	if (wg_keypair_can_send(I.peer->cur, fz_now) && R.peer->cur)
		return;
	if (fz_initiate())
		fz_exchange();
	/* A keepalive confirms R's side. */
	wg_tx_send_keepalive(I.peer);
	wg_tx_flush(I.dev);
	fz_exchange();
}

static void fz_raw(const uint8_t *d, size_t n)
{
	memset(R.peer->hs.latest_timestamp, 0, sizeof(R.peer->hs.latest_timestamp));
	R.peer->hs.have_consumed = false;
	while (n >= 2) {
		size_t len = (size_t)d[0] | (size_t)d[1] << 8;
		d += 2;
		n -= 2;
		if (len > n)
			len = n;
		fz_inject(&R, d, len, NULL, 0);
		d += len;
		n -= len;
	}
	R.n = 0;
}

static void fz_handshake(const uint8_t *d, size_t n)
{
	size_t half = n / 2;

	if (!fz_initiate())
		return;
	fz_inject(&R, I.buf[0], I.len[0], d, half);
	I.n = 0;
	if (R.n)
		fz_inject(&I, R.buf[0], R.len[0], d + half, n - half);
	I.n = R.n = 0;
}

static void fz_inner(const uint8_t *d, size_t n)
{
	struct pkt *p;

	fz_session();
	if (n > 1500 || !(p = pool_get(wg_device_pool(I.dev))))
		return;
	p->off = PKT_HEADROOM;
	p->len = (uint16_t)n;
	memcpy(pkt_data(p), d, n);
	/* Route it even when it is no IP packet: send it as if it were. */
	wg_peer_stage(I.peer, p);
	wg_tx_send_staged(I.peer);
	wg_tx_flush(I.dev);
	fz_exchange();
}

static void fz_cookie(const uint8_t *d, size_t n)
{
	R.dev->cfg.force_cookie = true;
	if (fz_initiate()) {
		fz_inject(&R, I.buf[0], I.len[0], NULL, 0);
		if (R.n)
			fz_inject(&I, R.buf[0], R.len[0], d, n);
	}
	R.dev->cfg.force_cookie = false;
	I.n = R.n = 0;
}

static void fz_data(const uint8_t *d, size_t n)
{
	uint8_t msg[PKT_PAYLOAD_MAX];

	fz_session();
	if (!R.peer->cur || n + 8 > sizeof(msg))
		return;
	wg_le32_write(msg, WG_MSG_DATA);
	wg_le32_write(msg + 4, R.peer->cur->entry.index);
	memcpy(msg + 8, d, n);
	fz_inject(&R, msg, n + 8, NULL, 0);
	R.n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_setup();
	if (size < 1)
		return 0;
	fz_now += 1000000ULL;
	switch (data[0] % 5) {
	case 0: fz_raw(data + 1, size - 1); break;
	case 1: fz_handshake(data + 1, size - 1); break;
	case 2: fz_inner(data + 1, size - 1); break;
	case 3: fz_cookie(data + 1, size - 1); break;
	default: fz_data(data + 1, size - 1); break;
	}
	return 0;
}
