/* test_accept.c - core/accept: listeners off while out of descriptors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/core/accept.c"
#include "unit.h"

static uint64_t fake_now = 1;

static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

struct lst {
	struct loop *loop;
	struct loop_io io;
	struct accept_backoff b;
	int calls, accepted, on, off;
};

static void lst_watch(void *ctx, bool on)
{
	struct lst *l = ctx;

	accept_backoff_set(l->loop, &l->io, on);
	if (on)
		l->on++;
	else
		l->off++;
}

static void lst_accept(struct loop_io *io, uint32_t events)
{
	struct lst *l = io->data;
	int fd;

	(void)events;
	l->calls++;
	while ((fd = accept_backoff_next(&l->b, io->fd, NULL, NULL)) >= 0) {
		l->accepted++;
		close(fd);
	}
}

static int lst_open(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)sa, &len) < 0)
		return -1;
	return fd;
}

/* A connection waits in the backlog while no descriptor is free: one
 * failed accept turns the listener off until the back-off ends (no busy
 * loop), the next failure doubles the back-off, and once a descriptor is
 * free the connection is accepted and the shortage is over. */
TEST(accept_backoff_out_of_descriptors)
{
	struct lst l = { 0 };
	struct sockaddr_in sa;
	struct rlimit orig, low;
	int lfd, cfd, fill[256], nfill = 0;

	l.loop = loop_new();
	loop_set_clock(l.loop, fake_clock, NULL);
	lfd = lst_open(&sa);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(lfd >= 0 && cfd >= 0);
	CHECK_EQ_INT(loop_io_add(l.loop, &l.io, lfd, LOOP_READ, lst_accept, &l), 0);
	accept_backoff_init(&l.b, l.loop, lst_watch, &l, "test");
	/* Every descriptor under a low limit in use. */
	CHECK(getrlimit(RLIMIT_NOFILE, &orig) == 0);
	low = orig;
	low.rlim_cur = (rlim_t)(cfd > lfd ? cfd : lfd) + 8;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	while (nfill < 256) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		fill[nfill++] = fd;
	}
	CHECK(errno == EMFILE && nfill > 0);
	CHECK(connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);

	loop_run_once(l.loop, 0);
	CHECK_EQ_INT(l.calls, 1);
	CHECK_EQ_INT(l.off, 1);
	CHECK(accept_backoff_paused(&l.b));
	CHECK_EQ_U64(l.b.delay, ACCEPT_BACKOFF_MIN);
	for (int i = 0; i < 10; i++)
		loop_run_once(l.loop, 0);
	CHECK_EQ_INT(l.calls, 1);	/* the waiting connection wakes nothing */

	fake_now += ACCEPT_BACKOFF_MIN;
	loop_run_once(l.loop, 0);	/* the back-off ends: listening again */
	CHECK_EQ_INT(l.on, 1);
	loop_run_once(l.loop, 0);	/* fails again: a longer back-off */
	CHECK_EQ_INT(l.calls, 2);
	CHECK_EQ_INT(l.off, 2);
	CHECK_EQ_U64(l.b.delay, 2 * ACCEPT_BACKOFF_MIN);
	CHECK_EQ_INT(l.b.failures, 2);

	close(fill[--nfill]);
	fake_now += 2 * ACCEPT_BACKOFF_MIN;
	loop_run_once(l.loop, 0);
	loop_run_once(l.loop, 0);
	CHECK_EQ_INT(l.accepted, 1);
	CHECK_EQ_U64(l.b.delay, 0);	/* the shortage is over */
	CHECK(!accept_backoff_paused(&l.b));

	while (nfill)
		close(fill[--nfill]);
	CHECK(setrlimit(RLIMIT_NOFILE, &orig) == 0);
	accept_backoff_fini(&l.b);
	loop_io_del(l.loop, &l.io);
	close(lfd);
	close(cfd);
	loop_free(l.loop);
}

/* Back-offs double up to the maximum while the shortage lasts. */
TEST(accept_backoff_caps)
{
	struct lst l = { 0 };

	l.loop = loop_new();
	loop_set_clock(l.loop, fake_clock, NULL);
	accept_backoff_init(&l.b, l.loop, lst_watch, &l, "test");
	for (int i = 0; i < 8; i++) {
		errno = 0;
		/* A bad descriptor is no shortage: nothing is paused. */
		CHECK(accept_backoff_next(&l.b, -1, NULL, NULL) < 0 && errno == EBADF);
	}
	CHECK(!accept_backoff_paused(&l.b));
	CHECK_EQ_INT(l.off, 0);
	for (int i = 0; i < 8; i++) {
		loop_timer_disarm(l.loop, &l.b.timer);	/* the back-off ended */
		accept_backoff_pause(&l.b, EMFILE);	/* and accept failed again */
	}
	CHECK_EQ_U64(l.b.delay, ACCEPT_BACKOFF_MAX);
	accept_backoff_fini(&l.b);
	loop_free(l.loop);
}

int main(void)
{
	RUN(accept_backoff_out_of_descriptors);
	RUN(accept_backoff_caps);
	return unit_done();
}
