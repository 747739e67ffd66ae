/* test_wg_lanes.c - the fork-join lanes, and two devices with a crypto
 * thread each moving full batches both ways (content checked by digest),
 * with duplicates, tampering and a rekey inside the runs the lanes open.
 * Also built and run under ThreadSanitizer (make BUILD=tsan unit). */
#include <stdatomic.h>

#include "unit.h"
#include "wg_net.h"

struct lanes_job {
	atomic_uint hits[4096];
	unsigned lane_count[WG_LANES_MAX];	/* lane 0 only: no race */
	uint32_t out[4096];
};

static void lanes_job_fn(void *ctx, unsigned i, unsigned lane)
{
	struct lanes_job *j = ctx;

	atomic_fetch_add(&j->hits[i], 1);
	j->out[i] = i * 2654435761u;
	if (lane == 0)
		j->lane_count[0]++;
}

TEST(lanes_every_item_once)
{
	static struct lanes_job j;
	struct wg_lanes *l;

	CHECK_EQ_INT(wg_lanes_new(&l), 0);
	for (unsigned round = 0; round < 3000; round++) {
		unsigned n = round % 7 == 0 ? 4096 : round % 200;

		for (unsigned i = 0; i < n; i++) {
			atomic_store(&j.hits[i], 0);
			j.out[i] = 0;
		}
		wg_lanes_run(l, n, lanes_job_fn, &j);
		for (unsigned i = 0; i < n; i++)
			if (atomic_load(&j.hits[i]) != 1 ||
			    j.out[i] != i * 2654435761u) {
				UNIT_FAIL("round %u item %u: %u hits", round, i,
					  atomic_load(&j.hits[i]));
				wg_lanes_free(l);
				return;
			}
	}
	wg_lanes_free(l);
	/* Without lanes everything runs on the caller. */
	j.lane_count[0] = 0;
	wg_lanes_run(NULL, 100, lanes_job_fn, &j);
	CHECK_EQ_INT(j.lane_count[0], 100);
}

/* Queues `k` IPv4 packets from side `from` in one wg_device_send, sizes
 * cycling through 40..1420, and folds them into *digest as delivered. */
static void send_batch(struct net *n, int from, unsigned k, unsigned seed,
		       uint64_t *digest)
{
	static const char *tun[2] = { "10.7.0.1", "10.7.0.2" };
	struct pkt_batch b = { 0 };

	for (unsigned i = 0; i < k; i++) {
		struct pkt *p = pool_get(wg_device_pool(n->s[from].dev));
		unsigned len = 40 + (seed * 131 + i * 977) % 1381;
		uint8_t *ip;

		p->off = PKT_HEADROOM;
		p->len = (uint16_t)len;
		ip = pkt_data(p);
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = (uint8_t)(len >> 8);
		ip[3] = (uint8_t)len;
		ip[8] = 64;
		ip[9] = 17;
		inet_pton(AF_INET, tun[from], ip + 12);
		inet_pton(AF_INET, tun[1 - from], ip + 16);
		for (unsigned j = 20; j < len; j++)
			ip[j] = (uint8_t)(seed + i * 7 + j);
		*digest = net_digest(*digest, ip, len);
		b.p[b.n++] = p;
	}
	wg_device_send(n->s[from].dev, &b);
}

/* Delivers everything queued on the wire in whole batches (up to 128 to
 * one device per wg_device_receive), until the wire is quiet. `dup` and
 * `flip`: the index in the first batch of a datagram to deliver twice in
 * a row, and one to corrupt (~0u: none). */
static void pump_batches(struct net *n, unsigned dup, unsigned flip)
{
	while (n->qlen) {
		struct pkt_batch b = { 0 };
		int to = 1 - n->q[n->qhead].from;

		while (n->qlen && b.n < PKT_BATCH && n->q[n->qhead].from != to) {
			struct net_frame *f = &n->q[n->qhead];
			unsigned copies = b.n == dup ? 2 : 1;

			for (unsigned c = 0; c < copies && b.n < PKT_BATCH; c++) {
				struct pkt *p = pool_get(wg_device_pool(n->s[to].dev));
				p->off = PKT_HEADROOM;
				p->len = f->len;
				p->ep = n->s[f->from].addr;
				memcpy(pkt_data(p), f->data, f->len);
				if (b.n == flip)
					pkt_data(p)[p->len - 1] ^= 0x40;
				b.p[b.n++] = p;
			}
			n->qhead = (n->qhead + 1) % NET_QUEUE;
			n->qlen--;
		}
		dup = flip = ~0u;
		wg_device_receive(n->s[to].dev, &b);
	}
}

TEST(device_with_crypto_threads_both_ways)
{
	struct net *n;
	uint64_t want[2] = { 0, 0 };
	struct wg_device_stats st;
	unsigned sent[2] = { 0, 0 };

	net_crypto_threads = 1;
	n = net_new(false);
	net_crypto_threads = 0;
	CHECK(n->s[0].dev->lanes != NULL && n->s[1].dev->lanes != NULL);
	net_ping(n, 0, 100, 1);			/* handshake; 1 packet */
	net_ping(n, 1, 100, 2);
	want[1] = n->s[1].in_digest;
	want[0] = n->s[0].in_digest;
	for (unsigned round = 0; round < 40; round++) {
		int from = round & 1;

		send_batch(n, from, PKT_BATCH, round, &want[1 - from]);
		sent[from] += PKT_BATCH;
		pump_batches(n, ~0u, ~0u);
	}
	CHECK_EQ_U64(n->s[1].in_digest, want[1]);
	CHECK_EQ_U64(n->s[0].in_digest, want[0]);
	CHECK_EQ_INT(n->s[1].delivered, 1 + sent[0]);
	CHECK_EQ_INT(n->s[0].delivered, 1 + sent[1]);

	/* A datagram twice in one run, and one corrupted: the copy is a
	 * replay, the corrupted one does not open; the rest arrive. */
	send_batch(n, 0, 64, 99, &want[1]);
	{
		uint64_t before = n->s[1].delivered;
		pump_batches(n, 10, 40);
		wg_device_get_stats(n->s[1].dev, &st);
		CHECK_EQ_INT(st.rx_replayed, 1);
		CHECK_EQ_INT(st.rx_invalid, 1);
		CHECK_EQ_INT(n->s[1].delivered - before, 63);
	}
	/* Past REKEY_AFTER_TIME the initiator re-keys while batches flow;
	 * every later batch arrives whole and in order. */
	net_advance(n, WG_REKEY_AFTER_TIME + NSEC_PER_SEC);
	want[1] = n->s[1].in_digest;
	want[0] = n->s[0].in_digest;
	for (unsigned round = 0; round < 10; round++) {
		int from = round & 1;

		send_batch(n, from, PKT_BATCH, 1000 + round, &want[1 - from]);
		pump_batches(n, ~0u, ~0u);
	}
	CHECK_EQ_U64(n->s[1].in_digest, want[1]);
	CHECK_EQ_U64(n->s[0].in_digest, want[0]);
	CHECK(n->s[0].peer->prev_kp != NULL);	/* a rotation happened */
	CHECK_EQ_INT(n->s[0].events[WG_EVENT_HANDSHAKE], 2);
	net_free(n);
}

int main(void)
{
	RUN(lanes_every_item_once);
	RUN(device_with_crypto_threads_both_ways);
	return unit_done();
}
