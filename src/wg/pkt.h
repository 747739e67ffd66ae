/* pkt.h - packet buffers and batches for the WireGuard data path.
 *
 * Shared contract between the I/O side (tun.c, udp.c) and the protocol
 * side (device.c and friends). A packet is one pool object of PKT_SIZE
 * bytes: a small header, then `buf`. The payload is buf[off, off+len).
 * I/O code leaves at least PKT_HEADROOM bytes before the payload it
 * delivers, so the protocol can prepend the 16-byte transport header and
 * encrypt in place; PKT_TAILROOM bytes after the largest allowed payload
 * leave room for padding and the Poly1305 tag.
 *
 * Ownership: a packet belongs to whoever holds it in a batch. Functions
 * that take a batch say whether they consume the packets or leave them. */
#ifndef POSTERN_WG_PKT_H
#define POSTERN_WG_PKT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PKT_SIZE 2048
#define PKT_HEADROOM 64		/* >= 16-byte transport header, aligned */
#define PKT_TAILROOM 32		/* >= 15 padding + 16 tag */
#define PKT_BATCH 128		/* packets moved per I/O call */

/* A UDP peer address plus the local source address it was reached on
 * ("sticky sockets": replies leave from the address the peer talked to). */
struct wg_endpoint {
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} addr;			/* remote; sa_family 0 = unset */
	union {
		struct in_addr in4;
		struct in6_addr in6;
	} src;			/* local source; all-zero = let the kernel pick */
	uint32_t src_ifindex;	/* IPv6 link-local / pktinfo interface */
};

struct pkt {
	struct pkt *next;	/* free for the holder's queues */
	void *owner;		/* protocol annotation (e.g. peer); I/O ignores */
	uint64_t nonce;		/* protocol annotation */
	struct wg_endpoint ep;	/* udp rx: source; udp tx: destination */
	uint16_t off;		/* payload start within buf */
	uint16_t len;		/* payload bytes */
	uint8_t buf[];		/* PKT_BUF bytes */
};

#define PKT_BUF (PKT_SIZE - sizeof(struct pkt))
/* Largest payload an I/O routine hands over (IP packet or UDP datagram). */
#define PKT_PAYLOAD_MAX (PKT_BUF - PKT_HEADROOM - PKT_TAILROOM)
/* Largest tunnel MTU: an IP packet plus the 32 bytes of WireGuard overhead
 * must fit in a received datagram of PKT_PAYLOAD_MAX bytes. */
#define PKT_MTU_MAX (PKT_PAYLOAD_MAX - 32)

static inline uint8_t *pkt_data(struct pkt *p)
{
	return p->buf + p->off;
}

struct pkt_batch {
	unsigned n;
	struct pkt *p[PKT_BATCH];
};

/* What a packet device (tun.c, udp.c) counts, each way: packets, the
 * coalesced units they came or went in (TUN superpackets, UDP GRO
 * batches or GSO sends), and packets dropped. */
struct pkt_io_stats {
	unsigned long long rx_packets, rx_coalesced, rx_dropped;
	unsigned long long tx_packets, tx_coalesced, tx_dropped;
};

#endif
