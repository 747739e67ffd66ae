/* udpcheck - two struct udp endpoints in one namespace, for the UDP
 * GSO/GRO and sticky-source tests.
 *
 *   udpcheck ADDR1 ADDR2 PREFIXLEN DEV BATCHES [nogso]
 *
 * ADDR1 and ADDR2 are two local addresses of one family on DEV. A sends
 * BATCHES batches of datagrams in runs of equal sizes (so they leave as
 * UDP_SEGMENT sends) from ADDR1 (sticky source) to B at ADDR2; B checks
 * every datagram's length, content, order, source and local address.
 * B answers the last one through its endpoint: A must see ADDR2 as the
 * source. Then ADDR2 is deleted from DEV and B answers through the same,
 * now stale endpoint: the send must recover with another source. Prints
 * counters as key=value lines and "PASS", or "FAIL: why" (exit 1).
 *
 * `nogso` turns off UDP checksums on A's socket (SO_NO_CHECK, or
 * UDP_NO_CHECK6_TX, with B accepting them: UDP_NO_CHECK6_RX), which makes
 * the kernel refuse every UDP_SEGMENT send with EINVAL: the runtime
 * fallback to one datagram per message must then carry the same traffic.
 * (No GSO means no GRO batches on loopback either, so the GRO-only
 * pending phase is left out.) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/num.h"
#include "core/pool.h"
#include "wg/udp.h"

static struct pool pool;
static int family;
static bool nogso;
static union {
	struct in_addr v4;
	struct in6_addr v6;
} addr1, addr2;

#define FAIL(...)                                       \
	do {                                            \
		printf("FAIL: " __VA_ARGS__);           \
		printf("\n");                           \
		exit(1);                                \
	} while (0)

static size_t alen(void)
{
	return family == AF_INET ? 4 : 16;
}

static int sock_of(const struct udp *u)
{
	return family == AF_INET ? udp_fd4(u) : udp_fd6(u);
}

static void set_ep(struct wg_endpoint *ep, const void *to, uint16_t port,
		   const void *src)
{
	memset(ep, 0, sizeof(*ep));
	if (family == AF_INET) {
		ep->addr.in4.sin_family = AF_INET;
		memcpy(&ep->addr.in4.sin_addr, to, 4);
		ep->addr.in4.sin_port = htons(port);
	} else {
		ep->addr.in6.sin6_family = AF_INET6;
		memcpy(&ep->addr.in6.sin6_addr, to, 16);
		ep->addr.in6.sin6_port = htons(port);
	}
	if (src)
		memcpy(&ep->src, src, alen());
}

static const void *ep_addr(const struct wg_endpoint *ep)
{
	return family == AF_INET ? (const void *)&ep->addr.in4.sin_addr
				 : (const void *)&ep->addr.in6.sin6_addr;
}

static uint16_t ep_port(const struct wg_endpoint *ep)
{
	return ntohs(ep->addr.in4.sin_port);
}

static uint8_t pattern(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 31 + i * 7 + 1);
}

/* Size of datagram i of batch k: runs of 9 equal sizes; a run's last
 * datagram is sometimes shorter. */
static size_t dgram_size(unsigned k, unsigned i)
{
	static const size_t sizes[] = { 1400, 1000, 64, 1200, 9, 1420 };
	size_t s = sizes[(i / 9 + k) % 6];

	if (i % 9 == 8 && (k & 1))
		s = s / 2 + 6;
	return s;
}

static struct pkt *mkpkt(uint32_t seq, size_t len)
{
	struct pkt *p = pool_get(&pool);
	uint8_t *d;

	if (!p)
		FAIL("pool empty");
	p->off = PKT_HEADROOM;
	p->len = (uint16_t)len;
	d = pkt_data(p);
	memcpy(d, &seq, 4);
	for (size_t i = 4; i < len; i++)
		d[i] = pattern(seq, i);
	return p;
}

static void release(struct pkt_batch *b)
{
	for (unsigned i = 0; i < b->n; i++)
		pool_put(&pool, b->p[i]);
	b->n = 0;
}

/* Receives exactly `want` datagrams (into `b`, appended) or fails. */
static void recv_n(struct udp *u, struct pkt_batch *b, unsigned want)
{
	while (b->n < want) {
		struct pollfd pfd = { sock_of(u), POLLIN, 0 };
		if (poll(&pfd, 1, 3000) <= 0)
			FAIL("timed out with %u of %u datagrams", b->n, want);
		if (udp_recv_batch(u, pfd.fd, &pool, b) < 0)
			FAIL("udp_recv_batch: %s", strerror(errno));
	}
	if (b->n != want)
		FAIL("got %u datagrams, wanted %u", b->n, want);
}

static void check_dgram(const struct pkt *p, uint32_t seq, size_t len,
			uint16_t from_port)
{
	const uint8_t *d = p->buf + p->off;
	uint32_t got;

	if (p->len != len)
		FAIL("datagram %u: length %u, sent %zu", seq, p->len, len);
	memcpy(&got, d, 4);
	if (got != seq)
		FAIL("datagram %u arrived as %u", seq, got);
	for (size_t i = 4; i < len; i++)
		if (d[i] != pattern(seq, i))
			FAIL("datagram %u: byte %zu differs", seq, i);
	if (memcmp(ep_addr(&p->ep), &addr1, alen()) || ep_port(&p->ep) != from_port)
		FAIL("datagram %u: wrong source (sticky send ignored)", seq);
	if (memcmp(&p->ep.src, &addr2, alen()))
		FAIL("datagram %u: wrong local address", seq);
}

static void phase_bulk(struct udp *a, struct udp *b, unsigned batches,
		       struct wg_endpoint *last)
{
	struct pkt_batch out, in;
	uint32_t seq = 0, rseq = 0;

	for (unsigned k = 0; k < batches; k++) {
		out.n = in.n = 0;
		for (unsigned i = 0; i < PKT_BATCH; i++) {
			out.p[out.n] = mkpkt(seq++, dgram_size(k, i));
			set_ep(&out.p[out.n]->ep, &addr2, udp_port(b), &addr1);
			out.n++;
		}
		udp_send_batch(a, &out);
		recv_n(b, &in, out.n);
		for (unsigned i = 0; i < in.n; i++, rseq++)
			check_dgram(in.p[i], rseq, dgram_size(k, i), udp_port(a));
		*last = in.p[in.n - 1]->ep;
		release(&out);
		release(&in);
	}
}

/* B answers through `ep` with `n` equal datagrams (n > 1: one GSO send);
 * returns the source address A saw (the same for all). */
static void reply(struct udp *a, struct udp *b, struct wg_endpoint *ep,
		  unsigned n, void *seen_src, struct wg_endpoint *after)
{
	struct pkt_batch out = { 0 }, in = { 0 };

	for (unsigned i = 0; i < n; i++) {
		out.p[i] = mkpkt(999 + i, 200);
		out.p[i]->ep = *ep;
	}
	out.n = n;
	udp_send_batch(b, &out);
	*after = out.p[0]->ep;
	recv_n(a, &in, n);
	memcpy(seen_src, ep_addr(&in.p[0]->ep), alen());
	for (unsigned i = 0; i < n; i++) {
		uint32_t got;

		memcpy(&got, pkt_data(in.p[i]), 4);
		if (in.p[i]->len != 200 || got != 999 + i)
			FAIL("reply %u: length %u, number %u", i, in.p[i]->len, got);
		if (ep_port(&in.p[i]->ep) != udp_port(b))
			FAIL("reply from port %u", ep_port(&in.p[i]->ep));
		if (memcmp(seen_src, ep_addr(&in.p[i]->ep), alen()))
			FAIL("reply %u from another source", i);
	}
	release(&out);
	release(&in);
}

/* A GRO receive that does not fit the batch leaves datagrams inside the
 * udp: udp_recv_pending() must say so and the next call must hand them
 * over, in order, without the fd signalling anything. */
static void phase_pending(struct udp *a, struct udp *b)
{
	struct pkt_batch out = { 0 }, in = { 0 };
	struct pollfd pfd = { sock_of(b), POLLIN, 0 };
	unsigned skip = PKT_BATCH - 5;

	for (unsigned i = 0; i < 20; i++) {
		out.p[i] = mkpkt(5000 + i, 1000);
		set_ep(&out.p[i]->ep, &addr2, udp_port(b), &addr1);
	}
	out.n = 20;
	udp_send_batch(a, &out);
	release(&out);
	if (poll(&pfd, 1, 3000) <= 0)
		FAIL("pending: nothing arrived");
	in.n = skip;	/* slots [0, skip) are never looked at */
	if (udp_recv_batch(b, pfd.fd, &pool, &in) != 5 || !udp_recv_pending(b, pfd.fd))
		FAIL("pending: a full batch should leave datagrams inside");
	for (unsigned i = 0; i < 5; i++)
		in.p[i] = in.p[skip + i];
	in.n = 5;
	if (udp_recv_batch(b, pfd.fd, &pool, &in) != 15 || udp_recv_pending(b, pfd.fd))
		FAIL("pending: the rest did not come out");
	for (unsigned i = 0; i < 20; i++)
		check_dgram(in.p[i], 5000 + i, 1000, udp_port(a));
	release(&in);
}

/* A sends without UDP checksums and B takes such datagrams: the kernel
 * then refuses UDP_SEGMENT (EINVAL) on A. */
static void checksums_off(struct udp *a, struct udp *b)
{
	int one = 1;

	if (family == AF_INET ?
	    setsockopt(sock_of(a), SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one)) :
	    setsockopt(sock_of(a), IPPROTO_UDP, UDP_NO_CHECK6_TX, &one,
		       sizeof(one)) ||
	    setsockopt(sock_of(b), IPPROTO_UDP, UDP_NO_CHECK6_RX, &one,
		       sizeof(one)))
		FAIL("checksums off: %s", strerror(errno));
}

static void print_stats(const char *side, const struct udp *u)
{
	struct pkt_io_stats st;

	udp_get_stats(u, &st);
	printf("%s_rx_datagrams=%llu\n%s_rx_gro_batches=%llu\n%s_rx_dropped=%llu\n"
	       "%s_tx_datagrams=%llu\n%s_tx_gso_sends=%llu\n%s_tx_dropped=%llu\n",
	       side, st.rx_packets, side, st.rx_coalesced, side, st.rx_dropped,
	       side, st.tx_packets, side, st.tx_coalesced, side, st.tx_dropped);
}

int main(int argc, char **argv)
{
	struct udp *a, *b;
	struct wg_endpoint last, after;
	uint64_t batches;
	char cmd[256], seen[16];
	struct pkt_io_stats st;
	unsigned long long gso_before;

	if ((argc != 6 && !(argc == 7 && !strcmp(argv[6], "nogso"))) ||
	    num_parse_cstr(argv[5], 1, 100000, &batches) < 0) {
		fprintf(stderr, "usage: udpcheck ADDR1 ADDR2 PREFIXLEN DEV "
				"BATCHES [nogso]\n");
		return 2;
	}
	nogso = argc == 7;
	family = strchr(argv[1], ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, argv[1], &addr1) != 1 ||
	    inet_pton(family, argv[2], &addr2) != 1)
		FAIL("bad address");
	if (pool_init(&pool, PKT_SIZE, 1024, 8192) < 0 || udp_open(0, 0, &a) < 0 ||
	    udp_open(0, 0, &b) < 0)
		FAIL("setup: %s", strerror(errno));
	if (udp_port(a) == 0 || udp_port(a) == udp_port(b) || sock_of(a) < 0)
		FAIL("ports %u %u", udp_port(a), udp_port(b));

	if (nogso)
		checksums_off(a, b);
	phase_bulk(a, b, (unsigned)batches, &last);
	printf("bulk_ok=1\n");
	if (!nogso) {
		phase_pending(a, b);
		printf("pending_ok=1\n");
	}

	reply(a, b, &last, 1, seen, &after);
	if (memcmp(seen, &addr2, alen()))
		FAIL("reply did not leave from the sticky address");
	printf("sticky_ok=1\n");

	snprintf(cmd, sizeof(cmd), "ip addr del %s/%s dev %s", argv[2], argv[3], argv[4]);
	if (system(cmd) != 0)
		FAIL("%s", cmd);
	reply(a, b, &last, 1, seen, &after);
	if (!memcmp(seen, &addr2, alen()))
		FAIL("reply still from the deleted address");
	if (!memcmp(&after.src, &addr2, alen()))
		FAIL("stale source not cleared from the endpoint");
	printf("stale_source_recovered=1\n");
	/* The same as one GSO send: the stale source must not be taken for
	 * a refused UDP_SEGMENT (IPv6 says EINVAL for both), so GSO stays. */
	udp_get_stats(b, &st);
	reply(a, b, &last, 8, seen, &after);
	if (!memcmp(seen, &addr2, alen()))
		FAIL("GSO reply still from the deleted address");
	gso_before = st.tx_coalesced;
	udp_get_stats(b, &st);
	if (st.tx_coalesced != gso_before + 1)
		FAIL("GSO reply: %llu GSO sends, wanted 1",
		     st.tx_coalesced - gso_before);
	printf("stale_source_gso_kept=1\n");

	print_stats("a", a);
	print_stats("b", b);
	udp_close(a);
	udp_close(b);
	pool_destroy(&pool);
	printf("PASS\n");
	return 0;
}
