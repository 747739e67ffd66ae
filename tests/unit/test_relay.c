/* test_relay.c - the relay's back-pressure, ordering and half-close
 * logic, driven on a real loop between socketpairs. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "agent/relay.h"
#include "core/compiler.h"

struct rig {
	struct loop *loop;
	struct relay r;
	int hub, target;	/* the test's ends */
	int done, err;
};

static void rig_done(struct relay *r, int err)
{
	struct rig *g = container_of(r, struct rig, r);
	g->done++;
	g->err = err;
}

static void rig_setup(struct rig *g)
{
	int a[2], b[2];

	memset(g, 0, sizeof(*g));
	g->loop = loop_new();
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b);
	g->hub = a[0];
	g->target = b[0];
	relay_init(&g->r, g->loop, rig_done, NULL);
	/* set by the test before start: g->r.to[...] */
	g->r.end[0].fd = a[1];
	g->r.end[1].fd = b[1];
}

static void rig_start(struct rig *g)
{
	CHECK_EQ_INT(relay_start(&g->r, g->r.end[0].fd, NULL, g->r.end[1].fd, NULL), 0);
}

static void rig_spin(struct rig *g, int n)
{
	for (int i = 0; i < n; i++)
		loop_run_once(g->loop, 1000000);
}

static void rig_teardown(struct rig *g)
{
	if (!g->r.finished)
		relay_abort(&g->r);
	close(g->hub);
	close(g->target);
	loop_free(g->loop);
}

static uint8_t pat(uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 9));
}

TEST(backpressure_bounds_memory_and_keeps_order)
{
	struct rig g;
	uint8_t chunk[8192], in[8192];
	uint64_t sent = 0, got = 0;
	int stuck = 0;

	rig_setup(&g);
	rig_start(&g);
	/* The target never reads: the writer must be stopped by a full relay
	 * buffer plus full socket buffers, not by memory. */
	while (stuck < 50) {
		for (size_t i = 0; i < sizeof(chunk); i++)
			chunk[i] = pat(sent + i);
		ssize_t n = write(g.hub, chunk, sizeof(chunk));
		if (n > 0) {
			sent += (uint64_t)n;
			stuck = 0;
		} else {
			stuck++;
		}
		rig_spin(&g, 1);
		CHECK(g.r.to[1].len <= RELAY_BUF);
		CHECK(g.r.to[1].cap <= RELAY_BUF);
	}
	CHECK(g.r.to[1].len == RELAY_BUF);	/* full, and reading stopped */
	CHECK(!(g.r.end[0].io.events & LOOP_READ));
	CHECK(sent < 64ull << 20);		/* bounded by buffers, not growing */
	/* Drain: every byte arrives once and in order. */
	shutdown(g.hub, SHUT_WR);
	for (int spins = 0; spins < 100000 && got < sent; spins++) {
		ssize_t n = read(g.target, in, sizeof(in));
		for (ssize_t i = 0; i < n; i++)
			if (in[i] != pat(got + (uint64_t)i)) {
				UNIT_FAIL("byte %llu differs", (unsigned long long)(got + (uint64_t)i));
				spins = 1 << 30;
				break;
			}
		if (n > 0)
			got += (uint64_t)n;
		rig_spin(&g, 1);
	}
	CHECK_EQ_U64(got, sent);
	/* The hub's EOF reached the target as a half-close. */
	rig_spin(&g, 3);
	CHECK_EQ_INT(read(g.target, in, sizeof(in)), 0);
	CHECK_EQ_INT(g.done, 0);	/* the other direction is still open */
	rig_teardown(&g);
}

TEST(half_close_both_ways_then_done)
{
	struct rig g;
	char b[64];

	rig_setup(&g);
	buf_append(&g.r.to[0], "\0", 1);	/* status byte goes first */
	buf_append(&g.r.to[1], "early", 5);	/* pipelined bytes */
	rig_start(&g);
	CHECK_EQ_INT(write(g.hub, "+more", 5), 5);
	shutdown(g.hub, SHUT_WR);
	rig_spin(&g, 5);
	CHECK_EQ_INT(read(g.target, b, sizeof(b)), 10);
	CHECK_EQ_MEM(b, "early+more", 10);
	CHECK_EQ_INT(read(g.target, b, sizeof(b)), 0);	/* half-closed */
	/* The target still answers after the hub's half-close. */
	CHECK_EQ_INT(write(g.target, "answer", 6), 6);
	close(g.target);
	g.target = -1;
	rig_spin(&g, 5);
	CHECK_EQ_INT(read(g.hub, b, sizeof(b)), 7);
	CHECK_EQ_MEM(b, "\0answer", 7);
	CHECK_EQ_INT(read(g.hub, b, sizeof(b)), 0);
	CHECK_EQ_INT(g.done, 1);
	CHECK_EQ_INT(g.err, 0);
	CHECK_EQ_U64(g.r.end[0].bytes_in, 5);
	CHECK_EQ_U64(g.r.end[1].bytes_in, 6);
	rig_teardown(&g);
}

TEST(reset_ends_the_relay)
{
	struct rig g;
	struct linger lg = { 1, 0 };
	int a[2];

	rig_setup(&g);
	/* A TCP target that resets: use a real TCP pair for RST semantics. */
	close(g.target);
	close(g.r.end[1].fd);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	sin.sin_addr.s_addr = htonl(0x7f000001);
	CHECK_EQ_INT(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	listen(ls, 1);
	getsockname(ls, (struct sockaddr *)&sin, &sl);
	a[1] = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_EQ_INT(connect(a[1], (struct sockaddr *)&sin, sizeof(sin)), 0);
	a[0] = accept(ls, NULL, NULL);
	close(ls);
	fcntl(a[1], F_SETFL, O_NONBLOCK);
	g.r.end[1].fd = a[1];
	g.target = a[0];
	rig_start(&g);
	rig_spin(&g, 2);
	setsockopt(g.target, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(g.target);	/* RST */
	g.target = -1;
	rig_spin(&g, 5);
	CHECK_EQ_INT(g.done, 1);
	CHECK_EQ_INT(g.err, -ECONNRESET);
	rig_teardown(&g);
}

int main(void)
{
	RUN(backpressure_bounds_memory_and_keeps_order);
	RUN(half_close_both_ways_then_done);
	RUN(reset_ends_the_relay);
	return unit_done();
}
