/* tun.c - the TUN interface: vnet headers, TSO/USO offloads, batches.
 *
 * One queue (no IFF_MULTI_QUEUE): the device runs one loop thread, and a
 * second queue would only split the flows the coalescer wants together.
 * Reads go into a 64 KiB scratch buffer and are cut into pool packets
 * (tun_gso.c); a super-packet whose segments do not fit the caller's batch
 * stays pending for the next call. Writes go through the coalescer and
 * leave as writev()s of header + payload pieces: no copy, no allocation. */
#define LOG_SUBSYS "tun"
#include "wg/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "wg/tun_gso.h"

/* Older uapi headers lack these (Linux 6.2+). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

#define TUN_VNET_LEN sizeof(struct virtio_net_hdr)
#define TUN_SCRATCH (TUN_VNET_LEN + GSO_MAX_PACKET)

struct tun {
	int fd;
	bool vnet;		/* reads and writes carry a virtio_net_hdr */
	bool offload;		/* TSO on: super-packets both ways */
	bool uso;		/* USO too */
	char name[IF_NAMESIZE];
	struct pkt_io_stats st;
	struct gso_split pending;	/* segments not yet handed out */
	struct gro gro;
	uint8_t scratch[TUN_SCRATCH];
};

static int tun_ifreq(const struct tun *t, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, t->name, sizeof(ifr->ifr_name));
	return 0;
}

static int tun_set_mtu(struct tun *t, unsigned mtu)
{
	struct ifreq ifr;
	int s, r = 0;

	if (mtu == 0 || mtu > PKT_MTU_MAX)
		return -EINVAL;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	tun_ifreq(t, &ifr);
	ifr.ifr_mtu = (int)mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		r = -errno;
	close(s);
	return r;
}

unsigned tun_mtu(struct tun *t)
{
	struct ifreq ifr;
	int s;
	unsigned mtu = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 0;
	tun_ifreq(t, &ifr);
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
		mtu = (unsigned)ifr.ifr_mtu;
	close(s);
	return mtu;
}

/* Turns on the vnet header size and the offloads, asking for USO first
 * and settling for TSO; without TSO the header stays but carries nothing. */
static void tun_setup_offload(struct tun *t)
{
	unsigned base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	int sz = (int)TUN_VNET_LEN;

	if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) < 0) {
		log_warn("%s: TUNSETVNETHDRSZ: %s", t->name, strerror(errno));
		return;
	}
	if (ioctl(t->fd, TUNSETOFFLOAD, base | TUN_F_USO4 | TUN_F_USO6) == 0) {
		t->offload = t->uso = true;
	} else if (ioctl(t->fd, TUNSETOFFLOAD, base) == 0) {
		t->offload = true;
	} else {
		log_warn("%s: TUNSETOFFLOAD refused (%s): one packet per syscall",
			 t->name, strerror(errno));
		ioctl(t->fd, TUNSETOFFLOAD, 0u);
	}
}

static int tun_attach(struct tun *t, const char *name, bool vnet)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	memcpy(t->name, ifr.ifr_name, IF_NAMESIZE);
	t->name[IF_NAMESIZE - 1] = '\0';
	t->vnet = vnet;
	return 0;
}

static gro_emit_fn tun_emit;

int tun_open_flags(const char *name, unsigned mtu, unsigned flags,
		   struct tun **out)
{
	struct tun *t;
	int r;

	if (!name || strlen(name) == 0 || strlen(name) >= IF_NAMESIZE)
		return -EINVAL;
	if (mtu > PKT_MTU_MAX)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		r = -errno;
		goto fail;
	}
	r = -EINVAL;
	if (!(flags & TUN_OPEN_NO_OFFLOAD))
		r = tun_attach(t, name, true);
	if (r == -EINVAL)	/* no vnet headers here: plain TUN */
		r = tun_attach(t, name, false);
	if (r < 0)
		goto fail;
	if (t->vnet)
		tun_setup_offload(t);
	tun_gro_init(&t->gro, t->offload, tun_emit, t);
	tun_gro_set_udp(&t->gro, t->uso && !(flags & TUN_OPEN_NO_UDP_GRO));
	if (mtu && (r = tun_set_mtu(t, mtu)) < 0)
		goto fail;
	log_info("%s: opened (vnet %s, tso %s, uso %s)", t->name,
		 t->vnet ? "on" : "off", t->offload ? "on" : "off",
		 t->uso ? "on" : "off");
	*out = t;
	return 0;
fail:
	if (t->fd >= 0)
		close(t->fd);
	free(t);
	return r;
}

int tun_open(const char *name, unsigned mtu, struct tun **out)
{
	return tun_open_flags(name, mtu, 0, out);
}

void tun_close(struct tun *t)
{
	if (!t)
		return;
	close(t->fd);
	free(t);
}

int tun_fd(const struct tun *t)
{
	return t->fd;
}

const char *tun_name(const struct tun *t)
{
	return t->name;
}

bool tun_offload(const struct tun *t)
{
	return t->offload;
}

void tun_get_stats(const struct tun *t, struct pkt_io_stats *out)
{
	*out = t->st;
}

/* ---------------------------------------------------------------- read */

static struct pkt *tun_pkt_get(struct pool *pool)
{
	struct pkt *p = pool_get(pool);

	if (p) {
		p->next = NULL;
		p->owner = NULL;
		p->off = PKT_HEADROOM;
		p->len = 0;
		memset(&p->ep, 0, sizeof(p->ep));
	}
	return p;
}

/* Moves pending segments into the batch. Returns -ENOBUFS when the pool
 * ran dry (the rest stays pending), else 0. */
static int tun_drain_pending(struct tun *t, struct pool *pool,
			     struct pkt_batch *b)
{
	while (t->pending.next < t->pending.nseg && b->n < PKT_BATCH) {
		struct pkt *p = tun_pkt_get(pool);
		if (!p)
			return -ENOBUFS;
		p->len = (uint16_t)tun_gso_split_next(&t->pending, pkt_data(p));
		b->p[b->n++] = p;
		t->st.rx_packets++;
	}
	return 0;
}

bool tun_read_pending(const struct tun *t)
{
	return t->pending.next < t->pending.nseg;
}

/* One packet per read, straight into a pool packet (no vnet header). */
static int tun_read_plain(struct tun *t, struct pool *pool, struct pkt_batch *b)
{
	int added = 0;

	while (b->n < PKT_BATCH) {
		struct pkt *p = tun_pkt_get(pool);
		ssize_t n;
		if (!p)
			break;
		n = read(t->fd, pkt_data(p), PKT_PAYLOAD_MAX);
		if (n <= 0) {
			int e = n < 0 ? errno : EAGAIN;
			pool_put(pool, p);
			if (e == EAGAIN || e == EINTR)
				break;
			return added ? added : -e;
		}
		p->len = (uint16_t)n;
		b->p[b->n++] = p;
		t->st.rx_packets++;
		added++;
	}
	return added;
}

/* Reads one (super-)packet into scratch and prepares its segments.
 * Returns 1, 0 when nothing is ready, or -errno. */
static int tun_read_one(struct tun *t)
{
	struct virtio_net_hdr h;
	ssize_t n;

	for (;;) {
		n = read(t->fd, t->scratch, sizeof(t->scratch));
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		if ((size_t)n < TUN_VNET_LEN) {
			t->st.rx_dropped++;
			continue;
		}
		memcpy(&h, t->scratch, TUN_VNET_LEN);
		if (tun_gso_split_init(&t->pending, &h, t->scratch + TUN_VNET_LEN,
				   (size_t)n - TUN_VNET_LEN, PKT_PAYLOAD_MAX) < 0) {
			t->pending.nseg = t->pending.next = 0;
			t->st.rx_dropped++;
			continue;
		}
		if (t->pending.nseg > 1)
			t->st.rx_coalesced++;
		return 1;
	}
}

int tun_read_batch(struct tun *t, struct pool *pool, struct pkt_batch *b)
{
	unsigned start = b->n;
	int r;

	if (!t->vnet)
		return tun_read_plain(t, pool, b);
	while (b->n < PKT_BATCH) {
		if (tun_drain_pending(t, pool, b) < 0)
			break;
		if (b->n >= PKT_BATCH)
			break;
		r = tun_read_one(t);
		if (r < 0 && b->n == start)
			return r;
		if (r <= 0)
			break;
	}
	return (int)(b->n - start);
}

/* --------------------------------------------------------------- write */

static int tun_emit(void *ctx, const struct iovec *iov, int iovcnt,
		    unsigned npkts)
{
	struct tun *t = ctx;
	ssize_t n;

	do
		n = writev(t->fd, iov, iovcnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;	/* gro counts the packets dropped */
	t->st.tx_packets += npkts;
	if (npkts > 1)
		t->st.tx_coalesced++;
	return 0;
}

int tun_write_batch(struct tun *t, struct pkt_batch *b)
{
	if (!t->vnet) {
		for (unsigned i = 0; i < b->n; i++) {
			struct pkt *p = b->p[i];
			if (write(t->fd, pkt_data(p), p->len) < 0)
				t->st.tx_dropped++;
			else
				t->st.tx_packets++;
		}
		return 0;
	}
	for (unsigned i = 0; i < b->n; i++)
		tun_gro_add(&t->gro, pkt_data(b->p[i]), b->p[i]->len);
	tun_gro_flush(&t->gro);
	t->st.tx_dropped += t->gro.dropped;
	t->gro.dropped = 0;
	return 0;
}
