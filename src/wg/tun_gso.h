/* tun_gso.h - segmenting and coalescing TUN super-packets (no I/O).
 *
 * Internal to tun.c; separate so unit tests and the fuzzer drive it on
 * plain bytes. A super-packet is a struct virtio_net_hdr followed by up to
 * 64 KiB of IP packet whose TCP (or UDP) payload the kernel has not cut
 * into MTU-sized segments yet (TSO/USO), or one ordinary packet whose
 * transport checksum is still to be completed (NEEDS_CSUM).
 *
 *   - gso_split: one super-packet -> IP packets, one at a time, each with
 *     lengths, IDs, sequence numbers, flags and checksums fixed up;
 *   - gro: a stream of IP packets -> super-packets, merging consecutive
 *     TCP segments (and, with USO, UDP datagrams) of one flow the way the
 *     kernel's GRO would. */
#ifndef POSTERN_WG_TUN_GSO_H
#define POSTERN_WG_TUN_GSO_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Older uapi headers lack the USO bits (Linux 6.2+). */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

#define GSO_MAX_PACKET 65535u	/* bytes of IP packet in one super-packet */
#define GRO_FLOWS 8		/* flows merged at once in one write batch */
#define GRO_MAX_SEGS 64		/* segments in one written super-packet */

/* --- Internet checksum, kept in memory byte order (RFC 1071 trick) --- */

/* Adds `len` bytes at `p` to the running sum. Every chunk but the last
 * must have an even length. */
uint64_t tun_gso_csum_add(uint64_t sum, const void *p, size_t len);
/* Folds a running sum to 16 bits (not complemented), memory order. */
uint16_t tun_gso_csum_fold(uint64_t sum);
/* The pseudo-header sum for `l4len` bytes of protocol `proto` in the IPv4
 * or IPv6 packet `ip` (version read from its first byte). */
uint64_t tun_gso_csum_pseudo(const uint8_t *ip, uint8_t proto, uint32_t l4len);

/* --- segmentation (read side) --- */

struct gso_split {
	const uint8_t *pkt;	/* the super-packet (after the vnet header) */
	size_t len;		/* its IP bytes */
	uint16_t l3len;		/* IP header bytes (transport offset) */
	uint16_t hdrlen;	/* IP + transport header bytes */
	uint16_t gso_size;	/* payload bytes per segment; 0 = no GSO */
	uint8_t proto;		/* IPPROTO_TCP / IPPROTO_UDP when GSO */
	bool csum;		/* complete the checksum at csum_at */
	uint16_t csum_start, csum_at;
	unsigned nseg, next;	/* segments in all; the next to produce */
};

/* Validates the vnet header `h` and the `len` bytes of IP packet at `pkt`
 * (which must stay valid while segments are taken) and prepares *s.
 * Every produced segment fits in `seg_max` bytes. Returns 0, or -EINVAL
 * for anything malformed, unsupported or too big (drop and count). */
int tun_gso_split_init(struct gso_split *s, const struct virtio_net_hdr *h,
		   const uint8_t *pkt, size_t len, size_t seg_max);
/* Writes the next segment at `out` (room for seg_max bytes). Returns its
 * length, or 0 when every segment has been produced. */
size_t tun_gso_split_next(struct gso_split *s, uint8_t *out);

/* --- coalescing (write side) --- */

/* Receives one output unit: iov[0] is the vnet header, the rest the IP
 * packet. `npkts` = packets it carries. Returns 0, or -errno to count
 * them dropped. */
typedef int gro_emit_fn(void *ctx, const struct iovec *iov, int iovcnt,
			unsigned npkts);

struct gro_group {
	bool used;
	bool closed;		/* a short or PSH segment ended it */
	uint8_t family;		/* 4 or 6 */
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t l3len, hdrlen, gso_size;
	uint32_t next_seq;
	size_t total;		/* IP bytes so far */
	unsigned nseg;
	unsigned long age;	/* for evicting the oldest */
	const uint8_t *first;	/* first segment (headers + payload) */
	bool psh;		/* last segment carried PSH */
	uint8_t hdr[120];	/* fixed-up copy of the first headers */
	struct virtio_net_hdr vh;
	struct iovec iov[2 + GRO_MAX_SEGS];
};

struct gro {
	bool merge;		/* false: every packet goes out alone */
	bool udp;		/* merge UDP too (the TUN accepts USO) */
	unsigned long clock;
	gro_emit_fn *emit;
	void *ctx;
	unsigned long long dropped;
	struct gro_group g[GRO_FLOWS];
};

void tun_gro_init(struct gro *g, bool merge, gro_emit_fn *emit, void *ctx);
/* Also merges UDP datagrams into USO super-packets (off by default: only
 * a TUN with TUN_F_USO4/6 takes them). */
void tun_gro_set_udp(struct gro *g, bool on);
/* Offers the IP packet p[0, len) (it must stay valid until tun_gro_flush).
 * It is merged into an open super-packet of its flow, starts a new one,
 * or is emitted alone; packets of one flow keep their order. */
void tun_gro_add(struct gro *g, const uint8_t *p, size_t len);
/* Emits everything still open. */
void tun_gro_flush(struct gro *g);

#endif
