/* tun_gso.c - segmenting TSO/USO super-packets and coalescing TCP (GRO). */
#include "wg/tun_gso.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The 64-bit one's complement sum of `len` (a multiple of 32) bytes,
 * folded to at most 33 bits. Any grouping of the bytes into words gives
 * the same 16-bit fold (2^16 - 1 divides 2^64 - 1), so whole 64-bit words
 * are added with end-around carry. On x86-64 that is one add-with-carry
 * chain (about 0.4 instructions a byte, against 0.85 for the 32-bit words
 * in a 64-bit sum this replaced: gcc turns the portable 128-bit form
 * below into a zero-extending add tree of 0.6). */
static uint64_t gso_csum_words(const uint8_t *p, size_t len)
{
	unsigned __int128 acc = 0;	/* the portable form's carries */
	uint64_t sum = 0, hi;

	for (; len >= 32; p += 32, len -= 32) {
		uint64_t a, b, c, d;
		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
#if defined(__x86_64__)
		__asm__("addq %1, %0\n\t"
			"adcq %2, %0\n\t"
			"adcq %3, %0\n\t"
			"adcq %4, %0\n\t"
			"adcq $0, %0"
			: "+r"(sum)
			: "r"(a), "r"(b), "r"(c), "r"(d)
			: "cc");
#else
		acc += a;
		acc += b;
		acc += c;
		acc += d;
#endif
	}
	/* End-around: the carries collected above the low 64 bits. */
	sum += (uint64_t)acc;
	sum += sum < (uint64_t)acc;
	hi = (uint64_t)(acc >> 64);
	sum += hi;
	sum += sum < hi;
	return (sum & 0xffffffffu) + (sum >> 32);
}

uint64_t tun_gso_csum_add(uint64_t sum, const void *vp, size_t len)
{
	const uint8_t *p = vp;

	/* Each call adds at most 2^33 (a fold) plus 32-bit words: 2^30
	 * calls of 64 KiB before the 64-bit running sum could overflow. */
	if (len >= 32) {
		sum += gso_csum_words(p, len & ~(size_t)31);
		p += len & ~(size_t)31;
		len &= 31;
	}
	while (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		sum += w;
		p += 2;
		len -= 2;
	}
	if (len) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		sum += p[0];
#else
		sum += (uint32_t)p[0] << 8;
#endif
	}
	return sum;
}

uint16_t tun_gso_csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint64_t tun_gso_csum_pseudo(const uint8_t *ip, uint8_t proto, uint32_t l4len)
{
	if ((ip[0] >> 4) == 4)
		return tun_gso_csum_add(0, ip + 12, 8) + htons(proto) +
		       htons((uint16_t)l4len);
	return tun_gso_csum_add(0, ip + 8, 32) + htonl(proto) + htonl(l4len);
}

/* Parses the IP header: *l3len, *iplen (from the length field), *proto.
 * Returns 4 or 6, or -EINVAL. */
static int ip_parse(const uint8_t *p, size_t len, uint16_t *l3len,
		    size_t *iplen, uint8_t *proto)
{
	if (len < 20)
		return -EINVAL;
	if ((p[0] >> 4) == 4) {
		*l3len = (uint16_t)((p[0] & 15) * 4);
		if (*l3len < 20 || *l3len > len)
			return -EINVAL;
		*iplen = get16(p + 2);
		*proto = p[9];
		return 4;
	}
	if ((p[0] >> 4) == 6 && len >= 40) {
		*l3len = 40;
		*iplen = 40 + (size_t)get16(p + 4);
		*proto = p[6];
		return 6;
	}
	return -EINVAL;
}

static int split_init_plain(struct gso_split *s, const struct virtio_net_hdr *h,
			    size_t iplen, size_t seg_max)
{
	if (iplen < s->l3len || iplen > s->len || iplen > seg_max)
		return -EINVAL;
	s->len = iplen;		/* a trailer beyond the IP length is dropped */
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		size_t at = (size_t)h->csum_start + h->csum_offset;
		if (h->csum_start < s->l3len || at + 2 > iplen)
			return -EINVAL;
		s->csum = true;
		s->csum_start = h->csum_start;
		s->csum_at = (uint16_t)at;
	}
	s->nseg = 1;
	return 0;
}

/* Checks the GSO type against the packet and finds the transport header
 * length. Returns it, or -EINVAL. */
static int split_l4len(const struct gso_split *s, unsigned type, int ver)
{
	const uint8_t *l4 = s->pkt + s->l3len;
	size_t room = s->len - s->l3len;

	if (type == VIRTIO_NET_HDR_GSO_TCPV4 || type == VIRTIO_NET_HDR_GSO_TCPV6) {
		unsigned doff;
		if ((type == VIRTIO_NET_HDR_GSO_TCPV4) != (ver == 4) ||
		    s->proto != IPPROTO_TCP || room < 20)
			return -EINVAL;
		doff = (unsigned)(l4[12] >> 4) * 4;
		return doff >= 20 && doff <= room ? (int)doff : -EINVAL;
	}
	if (type == VIRTIO_NET_HDR_GSO_UDP_L4)
		return s->proto == IPPROTO_UDP && room >= 8 ? 8 : -EINVAL;
	return -EINVAL;		/* UFO and unknown types */
}

int tun_gso_split_init(struct gso_split *s, const struct virtio_net_hdr *h,
		   const uint8_t *pkt, size_t len, size_t seg_max)
{
	unsigned type = h->gso_type & (unsigned)~VIRTIO_NET_HDR_GSO_ECN;
	size_t iplen, payload, first;
	int ver, l4len;

	memset(s, 0, sizeof(*s));
	s->pkt = pkt;
	s->len = len;
	ver = ip_parse(pkt, len, &s->l3len, &iplen, &s->proto);
	if (ver < 0)
		return ver;
	if (type == VIRTIO_NET_HDR_GSO_NONE)
		return split_init_plain(s, h, iplen, seg_max);
	if (iplen != len || h->gso_size == 0)
		return -EINVAL;
	/* Fragments are never GSO: MF or an offset means a forged header. */
	if (ver == 4 && (get16(pkt + 6) & 0x3fff))
		return -EINVAL;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    h->csum_start != s->l3len)
		return -EINVAL;
	l4len = split_l4len(s, type, ver);
	if (l4len < 0)
		return l4len;
	s->hdrlen = (uint16_t)(s->l3len + l4len);
	s->gso_size = h->gso_size;
	payload = len - s->hdrlen;
	first = payload < s->gso_size ? payload : s->gso_size;
	if (s->hdrlen + first > seg_max)
		return -EINVAL;
	s->nseg = payload ? (unsigned)((payload + s->gso_size - 1) / s->gso_size) : 1;
	return 0;
}

static void csum_store(uint8_t *at, uint64_t sum, bool udp)
{
	uint16_t c = (uint16_t)~tun_gso_csum_fold(sum);

	if (udp && c == 0)
		c = 0xffff;	/* 0 means "no checksum" in UDP */
	memcpy(at, &c, 2);
}

/* Fixes lengths, IDs, sequence numbers, flags and checksums of segment
 * `i` (seglen bytes at `out`). */
static void split_fix(const struct gso_split *s, uint8_t *out, size_t seglen,
		      unsigned i)
{
	uint8_t *l4 = out + s->l3len;
	uint32_t l4len = (uint32_t)(seglen - s->l3len);
	uint8_t *ck;

	if ((out[0] >> 4) == 4) {
		put16(out + 2, (uint16_t)seglen);
		put16(out + 4, (uint16_t)(get16(out + 4) + i));
		out[10] = out[11] = 0;
		csum_store(out + 10, tun_gso_csum_add(0, out, s->l3len), false);
	} else {
		put16(out + 4, (uint16_t)(seglen - 40));
	}
	if (s->proto == IPPROTO_TCP) {
		uint8_t flags = l4[13];
		put32(l4 + 4, get32(l4 + 4) + i * (uint32_t)s->gso_size);
		if (i + 1 != s->nseg)
			flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i != 0)
			flags &= (uint8_t)~TCP_CWR;
		l4[13] = flags;
		ck = l4 + 16;
	} else {
		put16(l4 + 4, (uint16_t)l4len);
		ck = l4 + 6;
	}
	ck[0] = ck[1] = 0;
	csum_store(ck, tun_gso_csum_pseudo(out, s->proto, l4len) +
		   tun_gso_csum_add(0, l4, l4len), s->proto == IPPROTO_UDP);
}

size_t tun_gso_split_next(struct gso_split *s, uint8_t *out)
{
	size_t off, plen;
	unsigned i;

	if (s->next >= s->nseg)
		return 0;
	i = s->next++;
	if (!s->gso_size) {
		memcpy(out, s->pkt, s->len);
		if (s->csum) {
			/* The field holds the pseudo-header sum already. */
			uint64_t sum = tun_gso_csum_add(0, out + s->csum_start,
						    s->len - s->csum_start);
			csum_store(out + s->csum_at, sum, true);
		}
		return s->len;
	}
	off = s->hdrlen + (size_t)i * s->gso_size;
	plen = s->len - off < s->gso_size ? s->len - off : s->gso_size;
	memcpy(out, s->pkt, s->hdrlen);
	memcpy(out + s->hdrlen, s->pkt + off, plen);
	split_fix(s, out, s->hdrlen + plen, i);
	return s->hdrlen + plen;
}

/* ---------------------------------------------------------------- GRO */

enum gro_kind {
	GRO_OTHER = 0,		/* no flow of ours: goes out alone, any order */
	GRO_ALONE,		/* a flow's packet that must not merge (SYN, FIN,
				 * no data, bad checksum) */
	GRO_MERGE,		/* a TCP segment or UDP datagram that may merge */
};

struct gro_seg {
	uint8_t family;
	uint8_t proto;
	uint16_t l3len, hdrlen;
	uint32_t seq;
	size_t plen;
	bool psh;
};

static bool gro_csum_ok(const uint8_t *p, size_t len, const struct gro_seg *v)
{
	if (v->family == 4 && tun_gso_csum_fold(tun_gso_csum_add(0, p, v->l3len)) != 0xffff)
		return false;
	return tun_gso_csum_fold(tun_gso_csum_pseudo(p, v->proto,
					     (uint32_t)(len - v->l3len)) +
			     tun_gso_csum_add(0, p + v->l3len, len - v->l3len)) == 0xffff;
}

static enum gro_kind gro_classify_tcp(const uint8_t *p, size_t len,
				      struct gro_seg *v)
{
	uint8_t flags;
	unsigned doff;

	if (len < (size_t)v->l3len + 20)
		return GRO_OTHER;
	doff = (unsigned)(p[v->l3len + 12] >> 4) * 4;
	if (doff < 20 || v->l3len + doff > len)
		return GRO_OTHER;
	v->hdrlen = (uint16_t)(v->l3len + doff);
	v->plen = len - v->hdrlen;
	v->seq = get32(p + v->l3len + 4);
	flags = p[v->l3len + 13];
	v->psh = flags & TCP_PSH;
	if ((flags & ~TCP_PSH) != TCP_ACK || v->plen == 0 ||
	    v->hdrlen > sizeof(((struct gro_group *)0)->hdr) ||
	    !gro_csum_ok(p, len, v))
		return GRO_ALONE;
	return GRO_MERGE;
}

/* UDP datagrams merge into a USO super-packet: same flow, same size (the
 * last may be shorter), a checksum that verifies (a zero "no checksum"
 * IPv4 datagram goes alone, so none is invented for it). */
static enum gro_kind gro_classify_udp(const uint8_t *p, size_t len,
				      struct gro_seg *v)
{
	const uint8_t *u = p + v->l3len;

	if (len < (size_t)v->l3len + 8 || get16(u + 4) != len - v->l3len)
		return GRO_OTHER;
	v->hdrlen = (uint16_t)(v->l3len + 8);
	v->plen = len - v->hdrlen;
	v->seq = 0;
	v->psh = false;
	if (v->plen == 0 || (u[6] == 0 && u[7] == 0) || !gro_csum_ok(p, len, v))
		return GRO_ALONE;
	return GRO_MERGE;
}

static enum gro_kind gro_classify(const struct gro *g, const uint8_t *p,
				  size_t len, struct gro_seg *v)
{
	size_t iplen;
	int ver = ip_parse(p, len, &v->l3len, &iplen, &v->proto);

	if (ver < 0 || iplen != len)
		return GRO_OTHER;
	if (ver == 4 && (get16(p + 6) & 0x3fff))
		return GRO_OTHER;	/* fragment: not a whole segment */
	v->family = (uint8_t)ver;
	if (v->proto == IPPROTO_TCP)
		return gro_classify_tcp(p, len, v);
	if (v->proto == IPPROTO_UDP && g->udp)
		return gro_classify_udp(p, len, v);
	return GRO_OTHER;
}

/* Same addresses and ports. */
static bool gro_same_flow(const struct gro_group *g, const uint8_t *p,
			  const struct gro_seg *v)
{
	const uint8_t *q = g->first;

	if (g->family != v->family || g->proto != v->proto ||
	    g->l3len != v->l3len)
		return false;
	if (v->family == 4 ? memcmp(p + 12, q + 12, 8) : memcmp(p + 8, q + 8, 32))
		return false;
	return memcmp(p + v->l3len, q + g->l3len, 4) == 0;
}

/* Whether segment p may be appended to g: the rules of the kernel's
 * tcp_gro_receive (identical IP fields but lengths/ID/checksum, same ack,
 * window and options, contiguous sequence, no bigger than the first) and
 * udp_gro_receive (identical IP fields, no bigger than the first). */
static bool gro_can_append(const struct gro_group *g, const uint8_t *p,
			   const struct gro_seg *v)
{
	const uint8_t *q = g->first, *t = p + v->l3len, *u = q + g->l3len;

	if (g->closed || g->nseg >= GRO_MAX_SEGS || v->hdrlen != g->hdrlen ||
	    (v->proto == IPPROTO_TCP && v->seq != g->next_seq) ||
	    v->plen > g->gso_size ||
	    g->total + v->plen > GSO_MAX_PACKET)
		return false;
	if (v->family == 4) {
		if (p[1] != q[1] || p[8] != q[8] || (p[6] & 0x40) != (q[6] & 0x40) ||
		    memcmp(p + 20, q + 20, v->l3len - 20u))
			return false;
	} else if (memcmp(p, q, 4) || p[7] != q[7]) {
		return false;
	}
	if (v->proto == IPPROTO_UDP)
		return true;
	/* ack, data offset, window; then options byte for byte */
	if (memcmp(t + 8, u + 8, 5) || memcmp(t + 14, u + 14, 2) ||
	    memcmp(t + 20, u + 20, v->hdrlen - v->l3len - 20u))
		return false;
	return true;
}

static const struct virtio_net_hdr gro_no_hdr;

static void gro_emit_one(struct gro *g, const uint8_t *p, size_t len)
{
	struct iovec iov[2] = {
		{ (void *)&gro_no_hdr, sizeof(gro_no_hdr) },
		{ (void *)p, len },
	};

	if (g->emit(g->ctx, iov, 2, 1) < 0)
		g->dropped++;
}

/* Builds the super-packet's headers: lengths, IP checksum, PSH of the
 * last segment, and the pseudo-header sum the kernel completes. */
static void gro_group_emit(struct gro *g, struct gro_group *grp)
{
	uint8_t *h = grp->hdr, *th = h + grp->l3len;
	uint16_t ps;

	grp->used = false;
	if (grp->nseg == 1) {
		gro_emit_one(g, grp->first, grp->total);
		return;
	}
	memcpy(h, grp->first, grp->hdrlen);
	if (grp->family == 4) {
		put16(h + 2, (uint16_t)grp->total);
		h[10] = h[11] = 0;
		csum_store(h + 10, tun_gso_csum_add(0, h, grp->l3len), false);
	} else {
		put16(h + 4, (uint16_t)(grp->total - 40));
	}
	memset(&grp->vh, 0, sizeof(grp->vh));
	ps = tun_gso_csum_fold(tun_gso_csum_pseudo(h, grp->proto,
					   (uint32_t)(grp->total - grp->l3len)));
	if (grp->proto == IPPROTO_TCP) {
		if (grp->psh)
			th[13] |= TCP_PSH;
		memcpy(th + 16, &ps, 2);
		grp->vh.gso_type = grp->family == 4 ? VIRTIO_NET_HDR_GSO_TCPV4
						    : VIRTIO_NET_HDR_GSO_TCPV6;
		grp->vh.csum_offset = 16;
	} else {
		put16(th + 4, (uint16_t)(grp->total - grp->l3len));
		memcpy(th + 6, &ps, 2);
		grp->vh.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
		grp->vh.csum_offset = 6;
	}
	grp->vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	grp->vh.hdr_len = grp->hdrlen;
	grp->vh.gso_size = grp->gso_size;
	grp->vh.csum_start = grp->l3len;
	grp->iov[0] = (struct iovec){ &grp->vh, sizeof(grp->vh) };
	grp->iov[1] = (struct iovec){ h, grp->hdrlen };
	if (g->emit(g->ctx, grp->iov, 2 + (int)grp->nseg, grp->nseg) < 0)
		g->dropped += grp->nseg;
}

static void gro_group_start(struct gro *g, struct gro_group *grp,
			    const uint8_t *p, size_t len, const struct gro_seg *v)
{
	grp->used = true;
	grp->family = v->family;
	grp->proto = v->proto;
	grp->l3len = v->l3len;
	grp->hdrlen = v->hdrlen;
	grp->gso_size = (uint16_t)v->plen;
	grp->next_seq = v->seq + (uint32_t)v->plen;
	grp->total = len;
	grp->nseg = 1;
	grp->first = p;
	grp->psh = v->psh;
	grp->closed = v->psh;
	grp->age = g->clock++;
	grp->iov[2] = (struct iovec){ (void *)(p + v->hdrlen), v->plen };
}

static void gro_group_append(struct gro_group *grp, const uint8_t *p,
			     const struct gro_seg *v)
{
	grp->iov[2 + grp->nseg] = (struct iovec){ (void *)(p + v->hdrlen), v->plen };
	grp->nseg++;
	grp->total += v->plen;
	grp->next_seq += (uint32_t)v->plen;
	grp->psh = v->psh;
	/* A short segment or PSH can only be the last one. */
	grp->closed = v->psh || v->plen < grp->gso_size;
}

void tun_gro_init(struct gro *g, bool merge, gro_emit_fn *emit, void *ctx)
{
	memset(g, 0, sizeof(*g));
	g->merge = merge;
	g->emit = emit;
	g->ctx = ctx;
}

void tun_gro_set_udp(struct gro *g, bool on)
{
	g->udp = on;
}

static struct gro_group *gro_free_slot(struct gro *g)
{
	struct gro_group *old = &g->g[0];

	for (unsigned i = 0; i < GRO_FLOWS; i++) {
		if (!g->g[i].used)
			return &g->g[i];
		if (g->g[i].age < old->age)
			old = &g->g[i];
	}
	gro_group_emit(g, old);
	return old;
}

void tun_gro_add(struct gro *g, const uint8_t *p, size_t len)
{
	struct gro_seg v;
	enum gro_kind kind;

	kind = g->merge ? gro_classify(g, p, len, &v) : GRO_OTHER;
	if (kind == GRO_OTHER) {
		gro_emit_one(g, p, len);
		return;
	}
	for (unsigned i = 0; i < GRO_FLOWS; i++) {
		struct gro_group *grp = &g->g[i];
		if (!grp->used || !gro_same_flow(grp, p, &v))
			continue;
		if (kind == GRO_MERGE && gro_can_append(grp, p, &v)) {
			gro_group_append(grp, p, &v);
			return;
		}
		gro_group_emit(g, grp);	/* keeps the flow in order */
		break;
	}
	if (kind == GRO_ALONE) {
		gro_emit_one(g, p, len);
		return;
	}
	gro_group_start(g, gro_free_slot(g), p, len, &v);
}

void tun_gro_flush(struct gro *g)
{
	/* Oldest first, so flows go out roughly in arrival order. */
	for (;;) {
		struct gro_group *old = NULL;
		for (unsigned i = 0; i < GRO_FLOWS; i++)
			if (g->g[i].used && (!old || g->g[i].age < old->age))
				old = &g->g[i];
		if (!old)
			return;
		gro_group_emit(g, old);
	}
}
