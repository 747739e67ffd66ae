/* wg_micro.c - deterministic single-thread micro-benchmarks of the
 * WireGuard data path, for measuring changes on a shared, loaded machine.
 *
 *   wg_micro aead IMPL SIZE N     N round trips (seal, then open back) of
 *                                 SIZE bytes in place, one keyed context
 *                                 per direction;
 *                                 IMPL: wg (crypto.c as built), evp-old
 *                                 (the EVP call sequence crypto.c used
 *                                 before: nonce re-init, update, ctrl tag,
 *                                 final), sodium (libsodium's
 *                                 chacha20poly1305_ietf detached))
 *   wg_micro device SIZE N [T]    two in-process devices (T: crypto
 *                                 threads each, 0 or 1) (tests/unit/
 *                                 wg_net.h, fake clock) after a handshake:
 *                                 N IP packets of SIZE bytes A -> B in
 *                                 batches of 128 through wg_device_send,
 *                                 a fake wire (one copy into B's pool) and
 *                                 wg_device_receive; B checks every
 *                                 delivered packet's length and bytes
 *   wg_micro gso N                N 64,000-byte TCP super-packets cut into
 *                                 MTU-sized segments and coalesced back
 *                                 (tun_gso.c: TUN read and write work)
 *
 * Prints the thread CPU time per operation (the minimum over 5 rounds: a
 * busy machine only ever adds time). Under `valgrind --tool=callgrind`
 * the instruction count is the steady figure: run with two values of N
 * and divide the difference by the difference in N (bench/wg_micro.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "core/num.h"
#include "wg/tun_gso.h"
#include "wg_net.h"

#define MICRO_ROUNDS 5

static uint64_t micro_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void micro_die(const char *what)
{
	fprintf(stderr, "wg_micro: %s\n", what);
	exit(1);
}

/* ---- AEAD implementations under comparison ---- */

struct micro_aead {
	const char *name;
	void (*seal)(void *ctx, uint64_t ctr, uint8_t *buf, size_t len);
	int (*open)(void *ctx, uint64_t ctr, uint8_t *buf, size_t len);
};

static const uint8_t micro_key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

static void micro_nonce(uint8_t n[12], uint64_t ctr)
{
	memset(n, 0, 4);
	for (int i = 0; i < 8; i++)
		n[4 + i] = (uint8_t)(ctr >> (8 * i));
}

static void micro_wg_seal(void *ctx, uint64_t ctr, uint8_t *buf, size_t len)
{
	if (wg_aead_seal_inplace(ctx, ctr, buf, len) < 0)
		micro_die("seal");
}

static int micro_wg_open(void *ctx, uint64_t ctr, uint8_t *buf, size_t len)
{
	return wg_aead_open_inplace(ctx, ctr, buf, len);
}

/* The sequence crypto.c used up to e208ce1, kept here as the baseline. */
static int micro_evp_run(EVP_CIPHER_CTX *c, bool enc, uint64_t ctr,
			 uint8_t *buf, size_t len)
{
	uint8_t nonce[12];
	int n;

	micro_nonce(nonce, ctr);
	if (EVP_CipherInit_ex2(c, NULL, NULL, nonce, enc, NULL) != 1 ||
	    EVP_CipherUpdate(c, buf, &n, buf, (int)len) != 1)
		return -1;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16,
					buf + len) != 1)
		return -1;
	if (EVP_CipherFinal_ex(c, buf + len, &n) != 1)
		return -1;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16,
				       buf + len) != 1)
		return -1;
	return 0;
}

static void micro_evp_seal(void *ctx, uint64_t ctr, uint8_t *buf, size_t len)
{
	if (micro_evp_run(ctx, true, ctr, buf, len) < 0)
		micro_die("evp seal");
}

static int micro_evp_open(void *ctx, uint64_t ctr, uint8_t *buf, size_t len)
{
	return micro_evp_run(ctx, false, ctr, buf, len);
}

static void micro_na_seal(void *ctx, uint64_t ctr, uint8_t *buf, size_t len)
{
	uint8_t nonce[12];

	micro_nonce(nonce, ctr);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(
		buf, buf + len, NULL, buf, len, NULL, 0, NULL, nonce, ctx);
}

static int micro_na_open(void *ctx, uint64_t ctr, uint8_t *buf, size_t len)
{
	uint8_t nonce[12];

	micro_nonce(nonce, ctr);
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		buf, NULL, buf, len, buf + len, NULL, 0, nonce, ctx);
}

static const struct micro_aead micro_aeads[] = {
	{ "wg", micro_wg_seal, micro_wg_open },
	{ "evp-old", micro_evp_seal, micro_evp_open },
	{ "sodium", micro_na_seal, micro_na_open },
};

/* Makes the sealing and opening contexts for `a`. */
static void micro_aead_ctx(const struct micro_aead *a, void **s, void **o)
{
	static struct wg_aead ws, wo;
	EVP_CIPHER *c;

	if (a->seal == micro_wg_seal) {
		if (wg_aead_init(&ws, micro_key, true) < 0 ||
		    wg_aead_init(&wo, micro_key, false) < 0)
			micro_die("wg_aead_init");
		*s = &ws;
		*o = &wo;
	} else if (a->seal == micro_evp_seal) {
		c = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
		*s = EVP_CIPHER_CTX_new();
		*o = EVP_CIPHER_CTX_new();
		if (!c || !*s || !*o ||
		    EVP_CipherInit_ex2(*s, c, micro_key, NULL, 1, NULL) != 1 ||
		    EVP_CipherInit_ex2(*o, c, micro_key, NULL, 0, NULL) != 1)
			micro_die("evp init");
	} else {
		*s = *o = (void *)micro_key;
	}
}

static int micro_aead(const char *impl, unsigned size, unsigned n)
{
	const struct micro_aead *a = NULL;
	uint64_t best = UINT64_MAX;
	uint8_t *buf = calloc(1, size + 16);
	void *sctx, *octx;

	for (size_t i = 0; i < sizeof(micro_aeads) / sizeof(micro_aeads[0]); i++)
		if (!strcmp(impl, micro_aeads[i].name))
			a = &micro_aeads[i];
	if (!a || !buf)
		micro_die("unknown aead (wg, evp-old, sodium)");
	micro_aead_ctx(a, &sctx, &octx);
	for (int r = 0; r < MICRO_ROUNDS; r++) {
		uint64_t t0 = micro_cpu_ns();

		/* A round trip per op: sealed, then opened back in place. */
		for (unsigned i = 0; i < n; i++) {
			a->seal(sctx, i, buf, size);
			if (a->open(octx, i, buf, size) != 0)
				micro_die("open failed");
		}
		t0 = micro_cpu_ns() - t0;
		best = t0 < best ? t0 : best;
	}
	for (unsigned i = 0; i < size; i++)
		if (buf[i])
			micro_die("round trip changed the data");
	if (a->seal == micro_wg_seal && !wg_aead_fast())
		printf("(crypto.c is on its slow path: the probe failed)\n");
	printf("aead %-9s %5u B  %7.1f ns per seal+open  (%.2f Gbit/s)\n",
	       a->name, size, (double)best / (n ? n : 1),
	       n ? size * 8.0 * n / (double)best : 0);
	free(buf);
	return 0;
}

/* ---- the device path on a fake wire ---- */

/* An IPv4 header 10.7.0.1 -> 10.7.0.2 (the fake wire's tunnel addresses)
 * for a packet of `len` bytes of protocol `proto`. */
static void micro_ip4(uint8_t *p, size_t len, uint8_t proto)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[6] = 0x40;	/* DF */
	p[8] = 64;
	p[9] = proto;
	inet_pton(AF_INET, "10.7.0.1", p + 12);
	inet_pton(AF_INET, "10.7.0.2", p + 16);
}

struct micro_wire {
	struct net *net;
	struct pkt_batch to_b;
	uint64_t delivered, bytes, bad;
	unsigned size;
};

static struct micro_wire wire;

static void micro_wire_flush(void)
{
	if (wire.to_b.n)
		wg_device_receive(wire.net->s[1].dev, &wire.to_b);
}

/* A's datagrams: copied into B's pool, as a NIC would. */
static void micro_wire_send(void *ctx, struct pkt_batch *b)
{
	struct net *n = wire.net;

	(void)ctx;
	for (unsigned i = 0; i < b->n; i++) {
		struct pkt *q = pool_get(wg_device_pool(n->s[1].dev));

		if (!q)
			micro_die("B's pool is empty");
		q->off = PKT_HEADROOM;
		q->len = b->p[i]->len;
		q->ep = n->s[0].addr;
		memcpy(pkt_data(q), pkt_data(b->p[i]), q->len);
		wire.to_b.p[wire.to_b.n++] = q;
		if (wire.to_b.n == PKT_BATCH)
			micro_wire_flush();
	}
}

static void micro_wire_deliver(void *ctx, struct pkt_batch *b)
{
	(void)ctx;
	for (unsigned i = 0; i < b->n; i++) {
		const uint8_t *d = pkt_data(b->p[i]);

		wire.delivered++;
		wire.bytes += b->p[i]->len;
		if (b->p[i]->len != wire.size || d[20] != 0xa5 ||
		    d[wire.size - 1] != (uint8_t)(wire.size - 1))
			wire.bad++;
	}
}

static const struct wg_outside_ops micro_outside = { micro_wire_send };
static const struct wg_inside_ops micro_inside = { micro_wire_deliver };

/* Fills a batch of `k` IPv4 packets of `size` bytes, as a TUN read would
 * (one copy of the payload into each pool packet). */
static void micro_fill(struct wg_device *dev, struct pkt_batch *b,
		       const uint8_t *tmpl, unsigned size, unsigned k)
{
	for (unsigned i = 0; i < k; i++) {
		struct pkt *p = pool_get(wg_device_pool(dev));

		if (!p)
			micro_die("A's pool is empty");
		p->off = PKT_HEADROOM;
		p->len = (uint16_t)size;
		memcpy(pkt_data(p), tmpl, size);
		b->p[b->n++] = p;
	}
}

static uint64_t micro_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t micro_proc_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int micro_device(unsigned size, unsigned n, unsigned threads)
{
	struct net *net;
	struct wg_device *a;
	uint8_t tmpl[1500];
	uint64_t best = UINT64_MAX, best_wall = UINT64_MAX, best_proc = UINT64_MAX;

	net_crypto_threads = threads;
	net = net_new(false);
	a = net->s[0].dev;

	if (size < 21 || size > 1420)
		micro_die("device SIZE must be 21..1420");
	net_ping(net, 0, 100, 1);	/* handshake, session confirmed */
	if (net->s[1].delivered != 1)
		micro_die("no session");
	wire.net = net;
	wire.size = size;
	a->cfg.outside = &micro_outside;
	net->s[1].dev->cfg.inside = &micro_inside;
	micro_ip4(tmpl, size, IPPROTO_UDP);
	for (unsigned i = 20; i < size; i++)
		tmpl[i] = i == 20 ? 0xa5 : (uint8_t)i;
	for (int r = 0; r < MICRO_ROUNDS; r++) {
		uint64_t t0 = micro_cpu_ns(), w0 = micro_wall_ns();
		uint64_t p0 = micro_proc_ns();

		for (unsigned done = 0; done < n;) {
			struct pkt_batch b = { 0 };
			unsigned k = n - done < PKT_BATCH ? n - done : PKT_BATCH;

			micro_fill(a, &b, tmpl, size, k);
			wg_device_send(a, &b);
			micro_wire_flush();
			done += k;
		}
		t0 = micro_cpu_ns() - t0;
		w0 = micro_wall_ns() - w0;
		p0 = micro_proc_ns() - p0;
		best = t0 < best ? t0 : best;
		best_wall = w0 < best_wall ? w0 : best_wall;
		best_proc = p0 < best_proc ? p0 : best_proc;
	}
	if (wire.delivered != (uint64_t)n * MICRO_ROUNDS || wire.bad)
		micro_die("packets lost or damaged on the fake wire");
	printf("device %5u B  %7.1f ns/packet  (%.2f Gbit/s one core)",
	       size, (double)best / (n ? n : 1),
	       n ? size * 8.0 * n / (double)best : 0);
	if (threads)
		printf("  wall %.1f ns/packet, all threads %.1f ns/packet",
		       (double)best_wall / (n ? n : 1),
		       (double)best_proc / (n ? n : 1));
	printf("\n");
	net_free(net);
	return 0;
}

/* ---- TUN offload work: segmenting and coalescing (tun_gso.c) ---- */

#define MICRO_GSO_SIZE 1380	/* TCP payload per segment at MTU 1420 */

static unsigned micro_gso_emitted;

static int micro_gso_emit(void *ctx, const struct iovec *iov, int iovcnt,
			  unsigned npkts)
{
	(void)ctx;
	(void)iov;
	(void)iovcnt;
	micro_gso_emitted += npkts;
	return 0;
}

/* A 64,000-byte IPv4 TCP super-packet as the kernel hands it over: the
 * checksum field holds the pseudo-header sum only. */
static size_t micro_gso_build(uint8_t *p, struct virtio_net_hdr *h)
{
	size_t len = 64000;

	micro_ip4(p, len, IPPROTO_TCP);
	memset(p + 20, 0, 20);
	p[20] = 0x9c, p[22] = 0x14, p[23] = 0x51;	/* ports */
	p[32] = 5 << 4;
	p[33] = 0x10;					/* ACK */
	p[34] = 0x01;					/* window */
	for (size_t i = 40; i < len; i++)
		p[i] = (uint8_t)(i * 7);
	{
		uint16_t ps = tun_gso_csum_fold(tun_gso_csum_pseudo(p, IPPROTO_TCP,
							    (uint32_t)len - 20));
		memcpy(p + 36, &ps, 2);
	}
	memset(h, 0, sizeof(*h));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->gso_size = MICRO_GSO_SIZE;
	h->hdr_len = 40;
	h->csum_start = 20;
	h->csum_offset = 16;
	return len;
}

static int micro_gso(unsigned n)
{
	static uint8_t big[65536], seg[64][PKT_SIZE];
	static struct gro g;
	struct virtio_net_hdr h;
	size_t len = micro_gso_build(big, &h), slen[64];
	uint64_t best = UINT64_MAX;
	unsigned nseg = 0;

	tun_gro_init(&g, true, micro_gso_emit, NULL);
	for (int r = 0; r < MICRO_ROUNDS; r++) {
		uint64_t t0 = micro_cpu_ns();

		micro_gso_emitted = 0;
		for (unsigned i = 0; i < n; i++) {
			struct gso_split sp;

			if (tun_gso_split_init(&sp, &h, big, len, PKT_PAYLOAD_MAX) < 0)
				micro_die("tun_gso_split_init refused the packet");
			for (nseg = 0; nseg < 64 &&
			     (slen[nseg] = tun_gso_split_next(&sp, seg[nseg])); nseg++)
				;
			for (unsigned k = 0; k < nseg; k++)
				tun_gro_add(&g, seg[k], slen[k]);
			tun_gro_flush(&g);
		}
		t0 = micro_cpu_ns() - t0;
		best = t0 < best ? t0 : best;
		if (micro_gso_emitted != n * nseg || g.dropped)
			micro_die("segments lost between split and coalesce");
	}
	printf("gso %u segments of %u B  %7.1f ns/segment (split + coalesce)\n",
	       nseg, MICRO_GSO_SIZE + 40, (double)best / (n ? n * nseg : 1));
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t size, n, threads = 0;

	if (wg_crypto_init() < 0)
		micro_die("crypto init");
	if (argc == 5 && !strcmp(argv[1], "aead") &&
	    num_parse_cstr(argv[3], 0, 65536, &size) == 0 &&
	    num_parse_cstr(argv[4], 0, 100000000, &n) == 0)
		return micro_aead(argv[2], (unsigned)size, (unsigned)n);
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "device") &&
	    num_parse_cstr(argv[2], 0, 1420, &size) == 0 &&
	    num_parse_cstr(argv[3], 0, 100000000, &n) == 0 &&
	    (argc == 4 || num_parse_cstr(argv[4], 0, 1, &threads) == 0))
		return micro_device((unsigned)size, (unsigned)n,
				    (unsigned)threads);
	if (argc == 3 && !strcmp(argv[1], "gso") &&
	    num_parse_cstr(argv[2], 0, 100000000, &n) == 0)
		return micro_gso((unsigned)n);
	fprintf(stderr, "usage: wg_micro aead wg|evp-old|sodium SIZE N\n"
			"       wg_micro device SIZE N [CRYPTO_THREADS]\n"
			"       wg_micro gso N\n");
	return 2;
}
