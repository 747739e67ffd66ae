/* test_tun_gso.c - TSO/USO segmentation and TCP coalescing on synthetic
 * packets, checked with an independent (byte-wise, big-endian) checksum. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "unit.h"
#include "wg/tun_gso.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

/* ------------------------------------------------ reference checksum */

static uint32_t ref_sum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static int l3len_of(const uint8_t *p)
{
	return (p[0] >> 4) == 4 ? (p[0] & 15) * 4 : 40;
}

static uint8_t proto_of(const uint8_t *p)
{
	return (p[0] >> 4) == 4 ? p[9] : p[6];
}

static uint32_t ref_pseudo(const uint8_t *p, size_t l4len)
{
	uint32_t s;

	if ((p[0] >> 4) == 4)
		s = ref_sum(p + 12, 8, 0);
	else
		s = ref_sum(p + 8, 32, 0) + (uint32_t)(l4len >> 16);
	return s + proto_of(p) + (uint32_t)(l4len & 0xffff);
}

/* True when the IP (v4) and transport checksums verify. */
static bool ref_valid(const uint8_t *p, size_t len)
{
	int l3 = l3len_of(p);

	if ((p[0] >> 4) == 4 && ref_fold(ref_sum(p, (size_t)l3, 0)) != 0xffff)
		return false;
	return ref_fold(ref_sum(p + l3, len - (size_t)l3,
				ref_pseudo(p, len - (size_t)l3))) == 0xffff;
}

/* Stores a correct transport checksum (and IP header checksum). */
static void ref_fill(uint8_t *p, size_t len)
{
	int l3 = l3len_of(p);
	uint8_t *ck = p + l3 + (proto_of(p) == IPPROTO_TCP ? 16 : 6);
	uint16_t c;

	if ((p[0] >> 4) == 4) {
		p[10] = p[11] = 0;
		c = (uint16_t)~ref_fold(ref_sum(p, (size_t)l3, 0));
		p[10] = (uint8_t)(c >> 8);
		p[11] = (uint8_t)c;
	}
	ck[0] = ck[1] = 0;
	c = (uint16_t)~ref_fold(ref_sum(p + l3, len - (size_t)l3,
					ref_pseudo(p, len - (size_t)l3)));
	ck[0] = (uint8_t)(c >> 8);
	ck[1] = (uint8_t)c;
}

/* ------------------------------------------------- packet builders */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v & 0xffff);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 8) * 13);
}

/* Writes an IP header for `l4len` transport bytes. Returns its length. */
static size_t put_ip(uint8_t *p, int ver, uint8_t proto, size_t l4len,
		     uint16_t id, uint8_t last_addr)
{
	if (ver == 4) {
		memset(p, 0, 20);
		p[0] = 0x45;
		wr16(p + 2, (unsigned)(20 + l4len));
		wr16(p + 4, id);
		p[6] = 0x40;	/* DF */
		p[8] = 64;
		p[9] = proto;
		p[12] = 10, p[15] = 1;
		p[16] = 10, p[19] = last_addr;
		return 20;
	}
	memset(p, 0, 40);
	p[0] = 0x60;
	wr16(p + 4, (unsigned)l4len);
	p[6] = proto;
	p[7] = 64;
	p[8] = 0xfd, p[23] = 1;
	p[24] = 0xfd, p[39] = last_addr;
	return 40;
}

struct tcp_opts {
	uint16_t sport;
	uint32_t seq;
	uint8_t flags;
	uint32_t tsval;		/* timestamp option value */
};

/* An IPv4/6 TCP segment (12 bytes of options: NOP NOP TS) with `plen`
 * payload bytes taken from pattern(off + i). Returns the length. */
static size_t build_tcp(uint8_t *p, int ver, const struct tcp_opts *o,
			size_t plen, size_t off, uint16_t id)
{
	size_t l3 = put_ip(p, ver, IPPROTO_TCP, 32 + plen, id, 2);
	uint8_t *t = p + l3;

	memset(t, 0, 32);
	wr16(t, o->sport);
	wr16(t + 2, 80);
	wr32(t + 4, o->seq);
	wr32(t + 8, 777);
	t[12] = 8 << 4;
	t[13] = o->flags;
	wr16(t + 14, 512);
	t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10;
	wr32(t + 24, o->tsval);
	for (size_t i = 0; i < plen; i++)
		t[32 + i] = pattern(off + i);
	ref_fill(p, l3 + 32 + plen);
	return l3 + 32 + plen;
}

static size_t build_udp(uint8_t *p, int ver, size_t plen)
{
	size_t l3 = put_ip(p, ver, IPPROTO_UDP, 8 + plen, 9, 2);
	uint8_t *u = p + l3;

	wr16(u, 5353);
	wr16(u + 2, 53);
	wr16(u + 4, (unsigned)(8 + plen));
	for (size_t i = 0; i < plen; i++)
		u[8 + i] = pattern(i);
	ref_fill(p, l3 + 8 + plen);
	return l3 + 8 + plen;
}

/* The kernel's view of a GSO packet: the transport checksum field holds
 * the pseudo-header sum only. */
static void to_partial(uint8_t *p, size_t len, struct virtio_net_hdr *h,
		       unsigned type, unsigned gso_size)
{
	int l3 = l3len_of(p);
	bool tcp = proto_of(p) == IPPROTO_TCP;
	uint16_t ps = ref_fold(ref_pseudo(p, len - (size_t)l3));

	wr16(p + l3 + (tcp ? 16 : 6), ps);
	memset(h, 0, sizeof(*h));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = (uint8_t)type;
	h->gso_size = (uint16_t)gso_size;
	h->csum_start = (uint16_t)l3;
	h->csum_offset = tcp ? 16 : 6;
	h->hdr_len = (uint16_t)(l3 + (tcp ? 32 : 8));
}

static uint8_t big[70000], seg[4096];

/* ------------------------------------------------------ segmentation */

static void check_tso(int ver)
{
	struct tcp_opts o = { 40000, 1000, TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR, 5 };
	struct virtio_net_hdr h;
	struct gso_split s;
	size_t len = build_tcp(big, ver, &o, 5000, 0, 0x1234), n, got = 0;
	int l3 = l3len_of(big);
	unsigned i = 0;

	to_partial(big, len, &h, ver == 4 ? VIRTIO_NET_HDR_GSO_TCPV4
					  : VIRTIO_NET_HDR_GSO_TCPV6, 1448);
	CHECK_EQ_INT(tun_gso_split_init(&s, &h, big, len, 1600), 0);
	CHECK_EQ_INT(s.nseg, 4);
	while ((n = tun_gso_split_next(&s, seg)) > 0) {
		const uint8_t *t = seg + l3;
		size_t plen = n - (size_t)l3 - 32;
		CHECK_EQ_INT(plen, i < 3 ? 1448 : 5000 - 3 * 1448);
		CHECK(ref_valid(seg, n));
		if (ver == 4) {
			CHECK_EQ_INT(rd16(seg + 2), n);
			CHECK_EQ_INT(rd16(seg + 4), 0x1234 + i);
		} else {
			CHECK_EQ_INT(rd16(seg + 4), n - 40);
		}
		CHECK_EQ_U64(rd32(t + 4), 1000 + i * 1448);
		CHECK_EQ_INT(!!(t[13] & TCP_CWR), i == 0);
		CHECK_EQ_INT(!!(t[13] & TCP_FIN), i == 3);
		CHECK_EQ_INT(!!(t[13] & TCP_PSH), i == 3);
		CHECK(t[13] & TCP_ACK);
		CHECK_EQ_U64(rd32(t + 24), 5);	/* options copied */
		for (size_t k = 0; k < plen; k++)
			if (t[32 + k] != pattern(got + k)) {
				UNIT_FAIL("payload byte %zu of segment %u", k, i);
				break;
			}
		got += plen;
		i++;
	}
	CHECK_EQ_INT(i, 4);
	CHECK_EQ_INT(got, 5000);
}

TEST(tso_v4) { check_tso(4); }
TEST(tso_v6) { check_tso(6); }

static void check_uso(int ver)
{
	struct virtio_net_hdr h;
	struct gso_split s;
	size_t len = build_udp(big, ver, 3000), n, got = 0;
	int l3 = l3len_of(big);
	unsigned i = 0;

	to_partial(big, len, &h, VIRTIO_NET_HDR_GSO_UDP_L4, 1200);
	CHECK_EQ_INT(tun_gso_split_init(&s, &h, big, len, 1500), 0);
	CHECK_EQ_INT(s.nseg, 3);
	while ((n = tun_gso_split_next(&s, seg)) > 0) {
		size_t plen = n - (size_t)l3 - 8;
		CHECK_EQ_INT(plen, i < 2 ? 1200 : 600);
		CHECK_EQ_INT(rd16(seg + l3 + 4), plen + 8);
		CHECK(ref_valid(seg, n));
		for (size_t k = 0; k < plen; k++)
			if (seg[l3 + 8 + k] != pattern(got + k)) {
				UNIT_FAIL("payload byte %zu of datagram %u", k, i);
				break;
			}
		got += plen;
		i++;
	}
	CHECK_EQ_INT(i, 3);
}

TEST(uso_v4) { check_uso(4); }
TEST(uso_v6) { check_uso(6); }

TEST(needs_csum_completed)
{
	for (int ver = 4; ver <= 6; ver += 2) {
		struct virtio_net_hdr h;
		struct gso_split s;
		size_t len = build_udp(big, ver, 333), n;
		to_partial(big, len, &h, VIRTIO_NET_HDR_GSO_NONE, 0);
		CHECK(!ref_valid(big, len));
		CHECK_EQ_INT(tun_gso_split_init(&s, &h, big, len, 1500), 0);
		n = tun_gso_split_next(&s, seg);
		CHECK_EQ_INT(n, len);
		CHECK(ref_valid(seg, n));
		CHECK_EQ_INT(tun_gso_split_next(&s, seg), 0);

		struct tcp_opts o = { 1, 1, TCP_ACK, 1 };
		len = build_tcp(big, ver, &o, 999, 0, 1);
		to_partial(big, len, &h, VIRTIO_NET_HDR_GSO_NONE, 0);
		CHECK_EQ_INT(tun_gso_split_init(&s, &h, big, len, 1500), 0);
		n = tun_gso_split_next(&s, seg);
		CHECK(ref_valid(seg, n));
	}
}

TEST(plain_packet_untouched)
{
	struct virtio_net_hdr h = { 0 };
	struct gso_split s;
	size_t len = build_udp(big, 4, 100);

	CHECK_EQ_INT(tun_gso_split_init(&s, &h, big, len, 1500), 0);
	CHECK_EQ_INT(tun_gso_split_next(&s, seg), len);
	CHECK_EQ_MEM(seg, big, len);
}

TEST(split_rejects_malformed)
{
	struct tcp_opts o = { 1, 1, TCP_ACK, 1 };
	struct virtio_net_hdr h, bad;
	struct gso_split s;
	size_t len = build_tcp(big, 4, &o, 3000, 0, 1);

	to_partial(big, len, &h, VIRTIO_NET_HDR_GSO_TCPV4, 1000);
	CHECK_EQ_INT(tun_gso_split_init(&s, &h, big, len, 1500), 0);
	bad = h, bad.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;	/* wrong family */
	CHECK_EQ_INT(tun_gso_split_init(&s, &bad, big, len, 1500), -EINVAL);
	bad = h, bad.gso_type = VIRTIO_NET_HDR_GSO_UDP;	/* UFO */
	CHECK_EQ_INT(tun_gso_split_init(&s, &bad, big, len, 1500), -EINVAL);
	bad = h, bad.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;	/* not UDP */
	CHECK_EQ_INT(tun_gso_split_init(&s, &bad, big, len, 1500), -EINVAL);
	bad = h, bad.gso_size = 0;
	CHECK_EQ_INT(tun_gso_split_init(&s, &bad, big, len, 1500), -EINVAL);
	bad = h, bad.csum_start = 24;
	CHECK_EQ_INT(tun_gso_split_init(&s, &bad, big, len, 1500), -EINVAL);
	bad = h, bad.gso_size = 1480;	/* segment would exceed seg_max */
	CHECK_EQ_INT(tun_gso_split_init(&s, &bad, big, len, 1500), -EINVAL);
	CHECK_EQ_INT(tun_gso_split_init(&s, &h, big, len - 1, 1500), -EINVAL);
	CHECK_EQ_INT(tun_gso_split_init(&s, &h, big, 30, 1500), -EINVAL);
	big[6] |= 0x20;	/* MF: a fragment cannot be GSO */
	CHECK_EQ_INT(tun_gso_split_init(&s, &h, big, len, 1500), -EINVAL);
	big[6] &= (uint8_t)~0x20;
	big[20 + 12] = 4 << 4;	/* TCP data offset below 20 bytes */
	CHECK_EQ_INT(tun_gso_split_init(&s, &h, big, len, 1500), -EINVAL);
	big[20 + 12] = 8 << 4;
	big[0] = 0x55;		/* version 5 */
	CHECK_EQ_INT(tun_gso_split_init(&s, &h, big, len, 1500), -EINVAL);
	big[0] = 0x4f;		/* IHL beyond the packet is fine, 60 < len */
	big[0] = 0x44;		/* IHL 16 bytes: invalid */
	CHECK_EQ_INT(tun_gso_split_init(&s, &h, big, len, 1500), -EINVAL);
	big[0] = 0x45;
	memset(&bad, 0, sizeof(bad));	/* plain packet larger than seg_max */
	CHECK_EQ_INT(tun_gso_split_init(&s, &bad, big, len, 1500), -EINVAL);
	len = build_udp(big, 4, 100);
	to_partial(big, len, &bad, VIRTIO_NET_HDR_GSO_NONE, 0);
	bad.csum_offset = 200;	/* checksum field past the end */
	CHECK_EQ_INT(tun_gso_split_init(&s, &bad, big, len, 1500), -EINVAL);
}

/* ------------------------------------------------------- coalescing */

struct out_unit {
	struct virtio_net_hdr h;
	unsigned npkts;
	size_t len;
	uint8_t data[70000];
};

static struct out_unit outs[16];
static unsigned nouts;

static int capture(void *ctx, const struct iovec *iov, int iovcnt, unsigned npkts)
{
	struct out_unit *u = &outs[nouts++];

	(void)ctx;
	memcpy(&u->h, iov[0].iov_base, sizeof(u->h));
	u->npkts = npkts;
	u->len = 0;
	for (int i = 1; i < iovcnt; i++) {
		memcpy(u->data + u->len, iov[i].iov_base, iov[i].iov_len);
		u->len += iov[i].iov_len;
	}
	return 0;
}

static uint8_t segs[12][1600];
static size_t seglen[12];

/* Feeds segments [0, n) to a coalescer and flushes. */
static bool gro_udp;

static void run_gro(unsigned n, bool merge)
{
	static struct gro g;

	nouts = 0;
	tun_gro_init(&g, merge, capture, NULL);
	tun_gro_set_udp(&g, gro_udp);
	for (unsigned i = 0; i < n; i++)
		tun_gro_add(&g, segs[i], seglen[i]);
	tun_gro_flush(&g);
}

/* Makes segment i of a flow: payload plen, seq from `seq`. */
static void mk(unsigned i, int ver, uint16_t sport, uint32_t seq, size_t plen,
	       uint8_t flags)
{
	struct tcp_opts o = { sport, seq, flags, 42 };
	seglen[i] = build_tcp(segs[i], ver, &o, plen, seq, (uint16_t)(100 + i));
}

/* Makes segments [first, first + n) of flow 1, back to back from `seq`,
 * plen bytes of payload each. */
static void mk_flow(unsigned first, unsigned n, int ver, uint32_t seq, size_t plen,
		    uint8_t flags)
{
	for (unsigned i = 0; i < n; i++)
		mk(first + i, ver, 1, seq + (uint32_t)(i * plen), plen, flags);
}

/* Segments a captured super-packet again and compares with the inputs. */
static void check_roundtrip(const struct out_unit *u, unsigned first, unsigned n)
{
	struct gso_split s;
	uint8_t copy[70000];
	size_t len;
	int l3 = l3len_of(u->data);

	memcpy(copy, u->data, u->len);
	/* What the kernel does with NEEDS_CSUM: the sum includes the
	 * pseudo-header value left in the field. */
	uint16_t c = (uint16_t)~ref_fold(ref_sum(copy + l3, u->len - (size_t)l3, 0));
	wr16(copy + l3 + 16, c);
	CHECK(ref_valid(copy, u->len));
	CHECK_EQ_INT(tun_gso_split_init(&s, &u->h, u->data, u->len, 1600), 0);
	CHECK_EQ_INT(s.nseg, n);
	for (unsigned i = 0; i < n; i++) {
		len = tun_gso_split_next(&s, seg);
		CHECK_EQ_INT(len, seglen[first + i]);
		CHECK_EQ_MEM(seg, segs[first + i], len);
	}
}

static void check_merge_flow(int ver)
{
	size_t l3 = ver == 4 ? 20 : 40;

	mk_flow(0, 3, ver, 5000, 1400, TCP_ACK);
	mk(3, ver, 1, 9200, 300, TCP_ACK | TCP_PSH);
	run_gro(4, true);
	CHECK_EQ_INT(nouts, 1);
	CHECK_EQ_INT(outs[0].npkts, 4);
	CHECK_EQ_INT(outs[0].h.gso_type, ver == 4 ? VIRTIO_NET_HDR_GSO_TCPV4
						    : VIRTIO_NET_HDR_GSO_TCPV6);
	CHECK_EQ_INT(outs[0].h.gso_size, 1400);
	CHECK_EQ_INT(outs[0].h.hdr_len, l3 + 32);
	CHECK_EQ_INT(outs[0].h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ_INT(outs[0].h.csum_start, l3);
	CHECK_EQ_INT(outs[0].h.csum_offset, 16);
	CHECK_EQ_INT(outs[0].len, l3 + 32 + 3 * 1400 + 300);
	CHECK(outs[0].data[l3 + 13] & TCP_PSH);
	check_roundtrip(&outs[0], 0, 4);
}

TEST(gro_merges_v4) { check_merge_flow(4); }
TEST(gro_merges_v6) { check_merge_flow(6); }

TEST(gro_refuses_gap)
{
	mk(0, 4, 1, 5000, 1400, TCP_ACK);
	mk(1, 4, 1, 6401, 1400, TCP_ACK);	/* one byte missing */
	run_gro(2, true);
	CHECK_EQ_INT(nouts, 2);
	CHECK_EQ_INT(outs[0].npkts + outs[1].npkts, 2);
	CHECK_EQ_INT(outs[0].h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
}

TEST(gro_flag_changes)
{
	/* FIN never merges and goes out after the data before it. */
	mk_flow(0, 2, 4, 5000, 1400, TCP_ACK);
	mk(2, 4, 1, 7800, 1400, TCP_ACK | TCP_FIN);
	run_gro(3, true);
	CHECK_EQ_INT(nouts, 2);
	CHECK_EQ_INT(outs[0].npkts, 2);
	CHECK_EQ_INT(outs[1].npkts, 1);
	CHECK_EQ_MEM(outs[1].data, segs[2], seglen[2]);
	/* PSH ends a super-packet: what follows starts a new one. */
	mk(0, 4, 1, 5000, 1400, TCP_ACK);
	mk(1, 4, 1, 6400, 1400, TCP_ACK | TCP_PSH);
	mk_flow(2, 2, 4, 7800, 1400, TCP_ACK);
	run_gro(4, true);
	CHECK_EQ_INT(nouts, 2);
	CHECK_EQ_INT(outs[0].npkts, 2);
	CHECK_EQ_INT(outs[1].npkts, 2);
	check_roundtrip(&outs[0], 0, 2);
	check_roundtrip(&outs[1], 2, 2);
	/* SYN and pure ACKs go alone. */
	mk(0, 4, 1, 5000, 0, TCP_ACK);
	mk(1, 4, 1, 5000, 0, TCP_ACK);
	mk(2, 4, 2, 1, 0, TCP_SYN);
	run_gro(3, true);
	CHECK_EQ_INT(nouts, 3);
}

TEST(gro_short_segment_is_last)
{
	mk(0, 4, 1, 5000, 1400, TCP_ACK);
	mk_flow(1, 2, 4, 6400, 700, TCP_ACK);
	run_gro(3, true);
	CHECK_EQ_INT(nouts, 2);
	CHECK_EQ_INT(outs[0].npkts, 2);
	/* A bigger segment after a smaller first does not merge either. */
	mk(0, 4, 1, 5000, 700, TCP_ACK);
	mk(1, 4, 1, 5700, 1400, TCP_ACK);
	run_gro(2, true);
	CHECK_EQ_INT(nouts, 2);
}

/* Segment 1 follows segment 0 of the same IPv4 flow but for the `width`
 * (1 or 4) bytes at `off` set to `value`, checksums made good again: the
 * coalescer must send the two apart. */
static void check_field_splits(size_t off, unsigned width, uint32_t value)
{
	mk_flow(0, 2, 4, 5000, 1400, TCP_ACK);
	if (width == 1)
		segs[1][off] = (uint8_t)value;
	else
		wr32(segs[1] + off, value);
	ref_fill(segs[1], seglen[1]);
	run_gro(2, true);
	CHECK_EQ_INT(nouts, 2);
}

TEST(gro_flows_kept_apart)
{
	mk(0, 4, 1, 5000, 1400, TCP_ACK);
	mk(1, 4, 2, 9000, 1400, TCP_ACK);
	mk(2, 4, 1, 6400, 1400, TCP_ACK);
	mk(3, 4, 2, 10400, 1400, TCP_ACK);
	run_gro(4, true);
	CHECK_EQ_INT(nouts, 2);
	CHECK_EQ_INT(outs[0].npkts, 2);
	CHECK_EQ_INT(outs[1].npkts, 2);
	CHECK_EQ_INT(rd16(outs[0].data + 20), 1);
	CHECK_EQ_INT(rd16(outs[1].data + 20), 2);
	/* different destination address: another flow */
	check_field_splits(19, 1, 3);
}

TEST(gro_option_and_field_changes)
{
	struct tcp_opts o = { 1, 6400, TCP_ACK, 43 };	/* new timestamp */

	mk(0, 4, 1, 5000, 1400, TCP_ACK);
	seglen[1] = build_tcp(segs[1], 4, &o, 1400, 6400, 101);
	run_gro(2, true);
	CHECK_EQ_INT(nouts, 2);
	check_field_splits(8, 1, 63);		/* TTL */
	check_field_splits(20 + 8, 4, 778);	/* ack number */
}

TEST(gro_bad_checksum_alone)
{
	mk(0, 4, 1, 5000, 1400, TCP_ACK);
	mk(1, 4, 1, 6400, 1400, TCP_ACK);
	segs[1][100] ^= 1;
	run_gro(2, true);
	CHECK_EQ_INT(nouts, 2);
	CHECK_EQ_MEM(outs[1].data, segs[1], seglen[1]);
}

TEST(gro_other_protocols_and_off)
{
	seglen[0] = build_udp(segs[0], 4, 1000);
	seglen[1] = build_udp(segs[1], 4, 1000);
	run_gro(2, true);
	CHECK_EQ_INT(nouts, 2);
	mk(0, 6, 1, 5000, 1400, TCP_ACK);
	mk(1, 6, 1, 6400, 1400, TCP_ACK);
	run_gro(2, false);
	CHECK_EQ_INT(nouts, 2);
	CHECK_EQ_INT(outs[0].h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	CHECK_EQ_MEM(outs[0].data, segs[0], seglen[0]);
}

TEST(gro_size_limit)
{
	/* 64 KiB of IP packet at most: 50 x 1400 does not fit in one. */
	static struct gro g;
	static uint8_t many[50][1500];
	unsigned total = 0;

	nouts = 0;
	tun_gro_init(&g, true, capture, NULL);
	for (unsigned i = 0; i < 50; i++) {
		struct tcp_opts o = { 1, 1000 + i * 1400, TCP_ACK, 1 };
		size_t n = build_tcp(many[i], 4, &o, 1400, i * 1400, 1);
		tun_gro_add(&g, many[i], n);
	}
	tun_gro_flush(&g);
	CHECK_EQ_INT(nouts, 2);
	for (unsigned i = 0; i < nouts; i++) {
		CHECK(outs[i].len <= 65535);
		total += outs[i].npkts;
	}
	CHECK_EQ_INT(total, 50);
}

/* A UDP datagram of `plen` bytes whose payload starts with `tag`. */
static void mku(unsigned i, int ver, size_t plen, uint8_t tag)
{
	seglen[i] = build_udp(segs[i], ver, plen);
	segs[i][(ver == 4 ? 20 : 40) + 8] = tag;
	ref_fill(segs[i], seglen[i]);
}

static void check_udp_merge(int ver)
{
	size_t l3 = ver == 4 ? 20 : 40;

	gro_udp = true;
	mku(0, ver, 1200, 1);
	mku(1, ver, 1200, 2);
	mku(2, ver, 1200, 3);
	mku(3, ver, 500, 4);
	mku(4, ver, 1200, 5);	/* after a short one: a new super-packet */
	run_gro(5, true);
	CHECK_EQ_INT(nouts, 2);
	CHECK_EQ_INT(outs[0].npkts, 4);
	CHECK_EQ_INT(outs[0].h.gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
	CHECK_EQ_INT(outs[0].h.gso_size, 1200);
	CHECK_EQ_INT(outs[0].h.csum_offset, 6);
	CHECK_EQ_INT(outs[0].h.hdr_len, l3 + 8);
	CHECK_EQ_INT(rd16(outs[0].data + l3 + 4), 8 + 3 * 1200 + 500);
	/* complete as the kernel would, then segment back */
	struct gso_split s;
	uint8_t copy[8000];
	memcpy(copy, outs[0].data, outs[0].len);
	wr16(copy + l3 + 6, (uint16_t)~ref_fold(ref_sum(copy + l3, outs[0].len - l3, 0)));
	CHECK(ref_valid(copy, outs[0].len));
	CHECK_EQ_INT(tun_gso_split_init(&s, &outs[0].h, outs[0].data, outs[0].len, 1600), 0);
	for (unsigned i = 0; i < 4; i++) {
		size_t n = tun_gso_split_next(&s, seg);
		CHECK_EQ_INT(n, seglen[i]);
		CHECK(ref_valid(seg, n));
		CHECK_EQ_MEM(seg + l3 + 8, segs[i] + l3 + 8, n - l3 - 8);
	}
	CHECK_EQ_INT(outs[1].npkts, 1);
	/* bigger after smaller, other ports, zero checksum: not merged */
	mku(0, ver, 500, 1);
	mku(1, ver, 1200, 2);
	mku(2, ver, 1200, 3);
	wr16(segs[2] + l3, 9999);
	ref_fill(segs[2], seglen[2]);
	run_gro(3, true);
	CHECK_EQ_INT(nouts, 3);
	if (ver == 4) {
		mku(0, 4, 1000, 1);
		mku(1, 4, 1000, 2);
		segs[1][26] = segs[1][27] = 0;	/* "no checksum" */
		run_gro(2, true);
		CHECK_EQ_INT(nouts, 2);
	}
	/* TCP and UDP on the same ports are different flows */
	gro_udp = false;
	mku(0, ver, 1200, 1);
	mku(1, ver, 1200, 2);
	run_gro(2, true);
	CHECK_EQ_INT(nouts, 2);	/* UDP merging off (no USO): alone */
}

TEST(gro_udp_v4) { check_udp_merge(4); }
TEST(gro_udp_v6) { check_udp_merge(6); }

TEST(csum_matches_reference)
{
	for (size_t n = 0; n < 300; n++) {
		for (size_t i = 0; i < n; i++)
			big[i] = pattern(i * 31 + n);
		uint16_t mine = (uint16_t)~tun_gso_csum_fold(tun_gso_csum_add(0, big, n));
		uint16_t ref = (uint16_t)~ref_fold(ref_sum(big, n, 0));
		uint8_t m[2];
		memcpy(m, &mine, 2);
		CHECK_EQ_INT(rd16(m), ref);
	}
}

/* The word-at-a-time sum at every start alignment, chained over even
 * chunks as the segmenter and coalescer call it, on carry-heavy bytes
 * (all 0xff, then runs of 0xff with a few zeros) and up to 64 KiB. */
TEST(csum_alignment_chunks_and_carries)
{
	static const size_t lens[] = { 31, 32, 33, 63, 64, 65, 1380, 1420,
				       1999, 65535 };

	for (int fill = 0; fill < 2; fill++)
		for (size_t a = 0; a < 8; a++)
			for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
				size_t n = lens[k], c1 = (n / 3) & ~(size_t)1;
				uint8_t *p = big + a, m[2];
				uint16_t one, chained;
				uint64_t sum;

				for (size_t i = 0; i < n; i++)
					p[i] = fill || i % 97 ? 0xff : 0;
				one = tun_gso_csum_fold(tun_gso_csum_add(0, p, n));
				sum = tun_gso_csum_add(0, p, c1);
				sum = tun_gso_csum_add(sum, p + c1, 2);
				sum = tun_gso_csum_add(sum, p + c1 + 2, n - c1 - 2);
				chained = tun_gso_csum_fold(sum);
				CHECK_EQ_INT(one, chained);
				memcpy(m, &one, 2);
				CHECK_EQ_INT(rd16(m), ref_fold(ref_sum(p, n, 0)));
			}
}

int main(void)
{
	RUN(csum_matches_reference);
	RUN(csum_alignment_chunks_and_carries);
	RUN(tso_v4);
	RUN(tso_v6);
	RUN(uso_v4);
	RUN(uso_v6);
	RUN(needs_csum_completed);
	RUN(plain_packet_untouched);
	RUN(split_rejects_malformed);
	RUN(gro_merges_v4);
	RUN(gro_merges_v6);
	RUN(gro_refuses_gap);
	RUN(gro_flag_changes);
	RUN(gro_short_segment_is_last);
	RUN(gro_flows_kept_apart);
	RUN(gro_option_and_field_changes);
	RUN(gro_bad_checksum_alone);
	RUN(gro_other_protocols_and_off);
	RUN(gro_size_limit);
	RUN(gro_udp_v4);
	RUN(gro_udp_v6);
	return unit_done();
}
