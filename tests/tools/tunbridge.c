/* tunbridge - a wire between two TUN interfaces in two namespaces, made of
 * tun_read_batch/tun_write_batch, for the TUN offload tests and bench.
 *
 *   tunbridge [--no-offload] [--small-batches] [--mtu N] NAME OTHER_NETNS
 *
 * Opens TUN NAME in the current network namespace and TUN NAME in
 * OTHER_NETNS (a name under /var/run/netns), prints "ready" and forwards
 * packets both ways until SIGTERM/SIGINT, then prints the counters of
 * each side ("a" = here, "b" = OTHER_NETNS) as key=value lines.
 * --small-batches reads into batches with only 7 free slots and one round
 * per wakeup, so super-packets are left pending inside the tun and must
 * be resumed from a timer (counted in pending_resumes). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/num.h"
#include "core/pool.h"
#include "wg/tun.h"

struct side {
	struct tun *t;
	struct loop *loop;
	struct loop_io io;
	struct loop_timer resume;
	struct side *peer;
	struct pool *pool;
};

static volatile sig_atomic_t stop;
static bool small_batches;
static unsigned long long pending_resumes;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void forward(struct loop_io *io, uint32_t events)
{
	struct side *s = io->data;
	struct pkt_batch b;
	unsigned skip = small_batches ? PKT_BATCH - 7 : 0;
	int n;

	(void)events;
	/* Bounded: let the other direction run too. */
	for (int round = 0; round < (small_batches ? 1 : 8); round++) {
		b.n = skip;	/* slots [0, skip) are never looked at */
		n = tun_read_batch(s->t, s->pool, &b);
		if (n < 0) {
			fprintf(stderr, "tunbridge: read: %s\n", strerror(-n));
			stop = 1;
		}
		for (unsigned i = 0; i < b.n - skip; i++)
			b.p[i] = b.p[skip + i];
		b.n -= skip;
		if (b.n)
			tun_write_batch(s->peer->t, &b);
		for (unsigned i = 0; i < b.n; i++)
			pool_put(s->pool, b.p[i]);
		if (n <= 0)
			break;
	}
	/* Segments left inside are not signalled by the fd. */
	if (tun_read_pending(s->t) && !loop_timer_armed(&s->resume))
		loop_timer_arm(s->loop, &s->resume, 0);
}

static void resume(struct loop_timer *t)
{
	struct side *s = t->data;

	pending_resumes++;
	forward(&s->io, LOOP_READ);
}

static int open_in_netns(const char *netns, const char *name, unsigned mtu,
			 unsigned flags, struct tun **out)
{
	char path[256];
	int here, there, r;

	snprintf(path, sizeof(path), "/var/run/netns/%s", netns);
	here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	there = open(path, O_RDONLY | O_CLOEXEC);
	if (here < 0 || there < 0 || setns(there, CLONE_NEWNET) < 0) {
		perror("tunbridge: netns");
		return -1;
	}
	r = tun_open_flags(name, mtu, flags, out);
	if (setns(here, CLONE_NEWNET) < 0)
		r = -errno;
	close(here);
	close(there);
	return r;
}

static void print_stats(const char *side, const struct tun *t)
{
	struct pkt_io_stats st;

	tun_get_stats(t, &st);
	printf("%s_offload=%d\n%s_rx_packets=%llu\n%s_rx_superpackets=%llu\n"
	       "%s_rx_dropped=%llu\n%s_tx_packets=%llu\n%s_tx_superpackets=%llu\n"
	       "%s_tx_dropped=%llu\n", side, tun_offload(t), side, st.rx_packets,
	       side, st.rx_coalesced, side, st.rx_dropped, side, st.tx_packets,
	       side, st.tx_coalesced, side, st.tx_dropped);
}

int main(int argc, char **argv)
{
	unsigned flags = 0, mtu = 1420;
	struct side a = { 0 }, b = { 0 };
	struct pool pool;
	struct loop *l;
	uint64_t v;
	int i = 1, r;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--no-offload"))
			flags |= TUN_OPEN_NO_OFFLOAD;
		else if (!strcmp(argv[i], "--small-batches"))
			small_batches = true;
		else if (!strcmp(argv[i], "--mtu") && i + 1 < argc &&
			 num_parse_cstr(argv[++i], 576, PKT_MTU_MAX, &v) == 0)
			mtu = (unsigned)v;
		else
			break;
	}
	if (argc - i != 2) {
		fprintf(stderr, "usage: tunbridge [--no-offload] [--small-batches] [--mtu N] NAME NETNS\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if ((r = tun_open_flags(argv[i], mtu, flags, &a.t)) < 0 ||
	    (r = open_in_netns(argv[i + 1], argv[i], mtu, flags, &b.t)) < 0) {
		fprintf(stderr, "tunbridge: open: %s\n", strerror(-r));
		return 1;
	}
	l = loop_new();
	if (!l || pool_init(&pool, PKT_SIZE, 1024, 16384) < 0)
		return 1;
	a.peer = &b, b.peer = &a;
	a.pool = b.pool = &pool;
	a.loop = b.loop = l;
	loop_timer_init(&a.resume, resume, &a);
	loop_timer_init(&b.resume, resume, &b);
	loop_io_add(l, &a.io, tun_fd(a.t), LOOP_READ, forward, &a);
	loop_io_add(l, &b.io, tun_fd(b.t), LOOP_READ, forward, &b);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		loop_run_once(l, 100 * 1000000ull);
	print_stats("a", a.t);
	print_stats("b", b.t);
	printf("pending_resumes=%llu\n", pending_resumes);
	fflush(stdout);
	loop_timer_disarm(l, &a.resume);
	loop_timer_disarm(l, &b.resume);
	loop_io_del(l, &a.io);
	loop_io_del(l, &b.io);
	loop_free(l);
	tun_close(a.t);
	tun_close(b.t);
	pool_destroy(&pool);
	return 0;
}
