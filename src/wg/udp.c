/* udp.c - the device's UDP sockets: recvmmsg+GRO, sendmmsg+GSO, sticky
 * source addresses.
 *
 * Receives land in per-socket scratch buffers (a GRO receive can carry up
 * to 64 KiB of datagrams) and are split into pool packets; what does not
 * fit the caller's batch stays pending for the next call. Sends build one
 * message per run of equal-sized packets to one endpoint, with a
 * UDP_SEGMENT control message when the run is longer than one. */
#define LOG_SUBSYS "udp"
#include "wg/udp.h"

#include <errno.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

#define UDP_SOCKBUF (7u << 20)	/* as wireguard-go: absorbs bursts */
#define UDP_RX_AREA (512u << 10)	/* scratch per socket */
#define UDP_GRO_MSGS 8		/* 64 KiB slots when GRO is on */
#define UDP_PLAIN_MSGS 64	/* 8 KiB slots when it is off */
#define UDP_GSO_SEGS 64		/* the kernel's UDP_MAX_SEGMENTS */
#define UDP_GSO_BYTES (65535u - 8 - 40)
#define UDP_CTRL (CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo)))
#define UDP_OPEN_TRIES 16

struct udp_rx {
	int fd;
	bool gro;
	unsigned slots;		/* messages per recvmmsg */
	unsigned nmsg, msg;	/* received; the one being split */
	size_t off;		/* next datagram within it */
	size_t seg;		/* its GRO segment size */
	struct wg_endpoint ep;	/* its source and local address */
	struct mmsghdr mm[UDP_PLAIN_MSGS];
	struct iovec iov[UDP_PLAIN_MSGS];
	struct sockaddr_in6 from[UDP_PLAIN_MSGS];
	uint8_t ctrl[UDP_PLAIN_MSGS][UDP_CTRL];
	uint8_t *area;		/* UDP_RX_AREA bytes */
};

struct udp_tx_msg {
	unsigned first, segs;	/* packets [first, first+segs) of the batch */
	bool src;		/* carries a pktinfo source */
};

struct udp {
	uint16_t port;
	bool gso;		/* UDP_SEGMENT allowed (cleared on refusal) */
	struct pkt_io_stats st;
	struct udp_rx rx[2];	/* [0] IPv4, [1] IPv6 */
	struct mmsghdr tm[PKT_BATCH];
	struct udp_tx_msg tmeta[PKT_BATCH];
	struct iovec tiov[PKT_BATCH];
	uint8_t tctrl[PKT_BATCH][UDP_CTRL];
};

static void udp_sockbuf(int fd, int force, int plain)
{
	int v = (int)UDP_SOCKBUF;

	/* FORCE ignores rmem_max but needs CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, plain, &v, sizeof(v));
}

/* Opens and binds one socket. Returns the fd or -errno. */
static int udp_sock_open(int family, uint16_t port, uint32_t fwmark, bool *gro)
{
	int one = 1, fd, r;
	union {
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} a;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&a, 0, sizeof(a));
	if (family == AF_INET) {
		a.in4.sin_family = AF_INET;
		a.in4.sin_port = htons(port);
		r = setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	} else {
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_port = htons(port);
		r = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (r == 0)
			r = setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
				       sizeof(one));
	}
	if (r == 0 && fwmark)
		r = setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark));
	if (r == 0)
		r = bind(fd, (struct sockaddr *)&a,
			 family == AF_INET ? sizeof(a.in4) : sizeof(a.in6));
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	udp_sockbuf(fd, SO_RCVBUFFORCE, SO_RCVBUF);
	udp_sockbuf(fd, SO_SNDBUFFORCE, SO_SNDBUF);
	*gro = setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) == 0;
	return fd;
}

static uint16_t udp_sock_port(int fd)
{
	struct sockaddr_in6 a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return 0;
	return ntohs(a.sin6_port);	/* same offset in sockaddr_in */
}

static int udp_rx_init(struct udp_rx *rx, int fd, bool gro)
{
	rx->fd = fd;
	rx->gro = gro;
	rx->nmsg = rx->msg = 0;
	if (fd < 0)
		return 0;
	rx->area = malloc(UDP_RX_AREA);
	if (!rx->area)
		return -ENOMEM;
	rx->slots = gro ? UDP_GRO_MSGS : UDP_PLAIN_MSGS;
	for (unsigned i = 0; i < rx->slots; i++) {
		size_t sz = UDP_RX_AREA / rx->slots;
		rx->iov[i] = (struct iovec){ rx->area + i * sz, sz };
	}
	return 0;
}

/* Binds both families on one port; with port 0 the IPv4 socket picks it
 * and the IPv6 one follows, retrying when that port is taken for v6. */
static int udp_bind_pair(uint16_t port, uint32_t fwmark, int fd[2], bool gro[2])
{
	for (int tries = 0; tries < UDP_OPEN_TRIES; tries++) {
		uint16_t p = port;
		fd[0] = udp_sock_open(AF_INET, port, fwmark, &gro[0]);
		if (fd[0] < 0 && fd[0] != -EAFNOSUPPORT)
			return fd[0];
		if (fd[0] >= 0 && !p)
			p = udp_sock_port(fd[0]);
		fd[1] = udp_sock_open(AF_INET6, p, fwmark, &gro[1]);
		if (fd[1] == -EADDRINUSE && !port && fd[0] >= 0) {
			close(fd[0]);
			continue;
		}
		if (fd[1] < 0 && fd[1] != -EAFNOSUPPORT) {
			if (fd[0] >= 0)
				close(fd[0]);
			return fd[1];
		}
		if (fd[0] < 0 && fd[1] < 0)
			return -EAFNOSUPPORT;
		return 0;
	}
	return -EADDRINUSE;
}

int udp_open(uint16_t port, uint32_t fwmark, struct udp **out)
{
	int fd[2], r;
	bool gro[2] = { false, false };
	struct udp *u;

	r = udp_bind_pair(port, fwmark, fd, gro);
	if (r < 0)
		return r;
	u = calloc(1, sizeof(*u));
	if (!u)
		r = -ENOMEM;
	if (u && (r = udp_rx_init(&u->rx[0], fd[0], gro[0])) == 0)
		r = udp_rx_init(&u->rx[1], fd[1], gro[1]);
	if (r < 0) {
		for (int i = 0; i < 2; i++)
			if (fd[i] >= 0)
				close(fd[i]);
		if (u) {
			free(u->rx[0].area);
			free(u);
		}
		return r;
	}
	u->port = fd[0] >= 0 ? udp_sock_port(fd[0]) : udp_sock_port(fd[1]);
	u->gso = true;
	log_info("listening on udp port %u (v4 %s, v6 %s, gro %s/%s)", u->port,
		 fd[0] >= 0 ? "yes" : "no", fd[1] >= 0 ? "yes" : "no",
		 gro[0] ? "on" : "off", gro[1] ? "on" : "off");
	*out = u;
	return 0;
}

void udp_close(struct udp *u)
{
	if (!u)
		return;
	for (int i = 0; i < 2; i++) {
		if (u->rx[i].fd >= 0)
			close(u->rx[i].fd);
		free(u->rx[i].area);
	}
	free(u);
}

int udp_fd4(const struct udp *u)
{
	return u->rx[0].fd;
}

int udp_fd6(const struct udp *u)
{
	return u->rx[1].fd;
}

uint16_t udp_port(const struct udp *u)
{
	return u->port;
}

int udp_set_fwmark(struct udp *u, uint32_t fwmark)
{
	for (int i = 0; i < 2; i++)
		if (u->rx[i].fd >= 0 &&
		    setsockopt(u->rx[i].fd, SOL_SOCKET, SO_MARK, &fwmark,
			       sizeof(fwmark)) < 0)
			return -errno;
	return 0;
}

void udp_get_stats(const struct udp *u, struct pkt_io_stats *out)
{
	*out = u->st;
}

/* ------------------------------------------------------------- receive */

/* Reads the source, the local address and the GRO size of message i. */
static void udp_rx_parse(struct udp_rx *rx, unsigned i)
{
	struct msghdr *m = &rx->mm[i].msg_hdr;
	struct wg_endpoint *ep = &rx->ep;

	memset(ep, 0, sizeof(*ep));
	memcpy(&ep->addr, m->msg_name,
	       m->msg_namelen < sizeof(ep->addr) ? m->msg_namelen : sizeof(ep->addr));
	rx->seg = rx->mm[i].msg_len;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
			int sz;
			memcpy(&sz, CMSG_DATA(c), sizeof(sz));
			if (sz > 0)
				rx->seg = (size_t)sz;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			ep->src.in4 = pi.ipi_addr;
			ep->src_ifindex = (uint32_t)pi.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			ep->src.in6 = pi.ipi6_addr;
			ep->src_ifindex = pi.ipi6_ifindex;
		}
	}
}

/* Splits pending messages into packets. Returns -ENOBUFS if the pool ran
 * dry (the rest stays pending), else 0. */
static int udp_rx_drain(struct udp *u, struct udp_rx *rx, struct pool *pool,
			struct pkt_batch *b)
{
	while (rx->msg < rx->nmsg && b->n < PKT_BATCH) {
		struct mmsghdr *mm = &rx->mm[rx->msg];
		size_t len = mm->msg_len, n;
		struct pkt *p;

		if (rx->off == 0) {
			udp_rx_parse(rx, rx->msg);
			if (rx->seg > 1 && len > rx->seg)
				u->st.rx_coalesced++;
		}
		if ((mm->msg_hdr.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
		    rx->off >= len || rx->seg == 0) {
			if (mm->msg_hdr.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
				u->st.rx_dropped++;
			rx->msg++;
			rx->off = 0;
			continue;
		}
		n = len - rx->off < rx->seg ? len - rx->off : rx->seg;
		if (n > PKT_PAYLOAD_MAX) {
			u->st.rx_dropped++;
		} else {
			p = pool_get(pool);
			if (!p)
				return -ENOBUFS;
			p->next = NULL;
			p->owner = NULL;
			p->off = PKT_HEADROOM;
			p->len = (uint16_t)n;
			p->ep = rx->ep;
			memcpy(pkt_data(p), (uint8_t *)mm->msg_hdr.msg_iov->iov_base +
			       rx->off, n);
			b->p[b->n++] = p;
			u->st.rx_packets++;
		}
		rx->off += n;
	}
	return 0;
}

bool udp_recv_pending(const struct udp *u, int fd)
{
	for (int i = 0; i < 2; i++)
		if (fd >= 0 && u->rx[i].fd == fd)
			return u->rx[i].msg < u->rx[i].nmsg;
	return false;
}

static int udp_rx_fill(struct udp_rx *rx)
{
	int n;

	for (unsigned i = 0; i < rx->slots; i++) {
		struct msghdr *m = &rx->mm[i].msg_hdr;
		m->msg_name = &rx->from[i];
		m->msg_namelen = sizeof(rx->from[i]);
		m->msg_iov = &rx->iov[i];
		m->msg_iovlen = 1;
		m->msg_control = rx->ctrl[i];
		m->msg_controllen = sizeof(rx->ctrl[i]);
		m->msg_flags = 0;
	}
	do
		n = recvmmsg(rx->fd, rx->mm, rx->slots, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	rx->nmsg = (unsigned)n;
	rx->msg = 0;
	rx->off = 0;
	return n;
}

int udp_recv_batch(struct udp *u, int fd, struct pool *pool,
		   struct pkt_batch *b)
{
	struct udp_rx *rx;
	unsigned start = b->n;
	bool more = true;
	int n;

	if (fd >= 0 && fd == u->rx[0].fd)
		rx = &u->rx[0];
	else if (fd >= 0 && fd == u->rx[1].fd)
		rx = &u->rx[1];
	else
		return -EBADF;
	while (b->n < PKT_BATCH) {
		if (udp_rx_drain(u, rx, pool, b) < 0 || b->n >= PKT_BATCH ||
		    !more)
			break;
		n = udp_rx_fill(rx);
		if (n < 0 && b->n == start)
			return n;
		if (n <= 0)
			break;
		/* Fewer messages than slots: the socket was empty. A datagram
		 * arriving later makes the (level-triggered) fd readable
		 * again, so no recvmmsg that could only answer EAGAIN: one
		 * syscall less per wakeup when traffic trickles in (ACKs,
		 * small packets). */
		more = (unsigned)n == rx->slots;
	}
	return (int)(b->n - start);
}

/* ---------------------------------------------------------------- send */

static bool udp_ep_same(const struct wg_endpoint *a, const struct wg_endpoint *b)
{
	size_t n = a->addr.sa.sa_family == AF_INET ? sizeof(a->addr.in4)
						    : sizeof(a->addr.in6);
	return a->addr.sa.sa_family == b->addr.sa.sa_family &&
	       !memcmp(&a->addr, &b->addr, n) && !memcmp(&a->src, &b->src,
							 sizeof(a->src)) &&
	       a->src_ifindex == b->src_ifindex;
}

static bool udp_src_set(const struct wg_endpoint *ep)
{
	static const uint8_t zero[sizeof(ep->src)];

	return memcmp(&ep->src, zero, ep->addr.sa.sa_family == AF_INET
				       ? sizeof(ep->src.in4) : sizeof(ep->src.in6)) != 0;
}

/* Writes the control messages of a send: GSO size, sticky source. */
static size_t udp_tx_ctrl(uint8_t *ctrl, const struct wg_endpoint *ep,
			  unsigned segs, uint16_t gso_size)
{
	struct msghdr m = { .msg_control = ctrl, .msg_controllen = UDP_CTRL };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	size_t used = 0;

	memset(ctrl, 0, UDP_CTRL);
	if (segs > 1) {
		c->cmsg_level = IPPROTO_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(gso_size));
		memcpy(CMSG_DATA(c), &gso_size, sizeof(gso_size));
		used += CMSG_SPACE(sizeof(gso_size));
		c = (struct cmsghdr *)(ctrl + used);
	}
	if (!udp_src_set(ep))
		return used;
	if (ep->addr.sa.sa_family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = ep->src.in4 };
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		used += CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi = { .ipi6_addr = ep->src.in6,
					  .ipi6_ifindex = ep->src_ifindex };
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		used += CMSG_SPACE(sizeof(pi));
	}
	return used;
}

/* How many packets from i on go in one message: same endpoint, same size
 * (the last may be shorter), within the kernel's GSO limits. */
static unsigned udp_tx_run(const struct udp *u, const struct pkt_batch *b,
			   unsigned i)
{
	const struct pkt *f = b->p[i];
	size_t total = f->len;
	unsigned j = i + 1;

	if (!u->gso)
		return 1;
	while (j < b->n && j - i < UDP_GSO_SEGS) {
		const struct pkt *q = b->p[j];
		if (q->len > f->len || total + q->len > UDP_GSO_BYTES ||
		    !udp_ep_same(&f->ep, &q->ep))
			break;
		total += q->len;
		j++;
		if (q->len < f->len)
			break;
	}
	return j - i;
}

/* Builds messages for packets [i, ...) of one family. Returns how many. */
static unsigned udp_tx_build(struct udp *u, struct pkt_batch *b, unsigned i,
			     int family)
{
	unsigned k = 0;

	while (i < b->n && b->p[i]->ep.addr.sa.sa_family == family) {
		struct pkt *f = b->p[i];
		unsigned segs = udp_tx_run(u, b, i);
		struct msghdr *m = &u->tm[k].msg_hdr;

		for (unsigned s = 0; s < segs; s++)
			u->tiov[i + s] = (struct iovec){ pkt_data(b->p[i + s]),
							 b->p[i + s]->len };
		memset(m, 0, sizeof(*m));
		m->msg_name = &f->ep.addr;
		m->msg_namelen = family == AF_INET ? sizeof(f->ep.addr.in4)
						   : sizeof(f->ep.addr.in6);
		m->msg_iov = &u->tiov[i];
		m->msg_iovlen = segs;
		m->msg_control = u->tctrl[k];
		m->msg_controllen = udp_tx_ctrl(u->tctrl[k], &f->ep, segs, f->len);
		if (!m->msg_controllen)
			m->msg_control = NULL;
		u->tmeta[k] = (struct udp_tx_msg){ i, segs, udp_src_set(&f->ep) };
		i += segs;
		k++;
	}
	return k;
}

static void udp_tx_clear_src(struct pkt_batch *b, const struct udp_tx_msg *m)
{
	for (unsigned s = 0; s < m->segs; s++) {
		struct wg_endpoint *ep = &b->p[m->first + s]->ep;
		memset(&ep->src, 0, sizeof(ep->src));
		ep->src_ifindex = 0;
	}
}

/* The kernel refused UDP_SEGMENT with `e`: one datagram per message from
 * now on, for both sockets. */
static void udp_tx_gso_off(struct udp *u, int e)
{
	log_warn("UDP_SEGMENT refused (%s): sending one datagram per message",
		 strerror(e));
	u->gso = false;
}

/* The GSO message m (the first of u->tm) from a sticky source was refused
 * with EINVAL, which means either that the kernel refuses UDP_SEGMENT here
 * (checksums off, a path MTU below the segment size) or that the source
 * is no longer local (IPv6 says EINVAL for that too). Its first datagram
 * sent alone from the same source tells which: sent, GSO goes off for the
 * socket pair and the source stays; refused too, the source is cleared and
 * GSO stays on. Returns the batch index to go on from. */
static unsigned udp_tx_probe(struct udp *u, struct pkt_batch *b, int fd,
			     const struct udp_tx_msg *m)
{
	struct pkt *f = b->p[m->first];
	struct iovec iov = { pkt_data(f), f->len };
	uint8_t ctrl[UDP_CTRL];
	struct msghdr h = {
		.msg_name = u->tm[0].msg_hdr.msg_name,
		.msg_namelen = u->tm[0].msg_hdr.msg_namelen,
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
		.msg_controllen = udp_tx_ctrl(ctrl, &f->ep, 1, 0),
	};
	ssize_t n;

	do
		n = sendmsg(fd, &h, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n >= 0) {
		udp_tx_gso_off(u, EINVAL);
		u->st.tx_packets++;
		return m->first + 1;
	}
	if (errno == EINVAL || errno == ENETUNREACH || errno == EADDRNOTAVAIL) {
		udp_tx_clear_src(b, m);
		return m->first;
	}
	u->st.tx_dropped += m->segs;
	return m->first + m->segs;
}

/* Sends what udp_tx_build made. Returns the batch index to go on from. */
static unsigned udp_tx_send(struct udp *u, struct pkt_batch *b, int fd,
			    unsigned k)
{
	const struct udp_tx_msg *m = &u->tmeta[0];
	unsigned end = u->tmeta[k - 1].first + u->tmeta[k - 1].segs;
	int n, e;

	do
		n = sendmmsg(fd, u->tm, k, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		for (int j = 0; j < n; j++) {
			u->st.tx_packets += u->tmeta[j].segs;
			u->st.tx_coalesced += u->tmeta[j].segs > 1;
		}
		return (unsigned)n == k ? end : u->tmeta[n].first;
	}
	e = n < 0 ? errno : EAGAIN;
	if (m->src && e == EINVAL && m->segs > 1 && u->gso)
		return udp_tx_probe(u, b, fd, m);
	if (m->src && (e == EINVAL || e == ENETUNREACH || e == EADDRNOTAVAIL)) {
		/* The sticky source is no longer ours: let the kernel pick.
		 * IPv6 says EINVAL; IPv4 routing says ENETUNREACH for a
		 * source that is not local (measured on Linux 6.x). Once
		 * cleared, a second failure is an ordinary drop. */
		udp_tx_clear_src(b, m);
		return m->first;
	}
	if ((e == EINVAL || e == EIO || e == ENOPROTOOPT) && m->segs > 1 && u->gso) {
		udp_tx_gso_off(u, e);
		return m->first;
	}
	if (e == EAGAIN || e == ENOBUFS) {
		/* Full socket buffer: drop the rest, as a NIC on a full ring. */
		u->st.tx_dropped += end - m->first;
		return end;
	}
	u->st.tx_dropped += m->segs;
	return m->first + m->segs;
}

int udp_send_batch(struct udp *u, struct pkt_batch *b)
{
	unsigned i = 0;

	while (i < b->n) {
		int family = b->p[i]->ep.addr.sa.sa_family;
		int fd = family == AF_INET ? u->rx[0].fd
			 : family == AF_INET6 ? u->rx[1].fd : -1;
		unsigned k;

		if (fd < 0) {
			u->st.tx_dropped++;
			i++;
			continue;
		}
		k = udp_tx_build(u, b, i, family);
		i = udp_tx_send(u, b, fd, k);
	}
	return 0;
}
