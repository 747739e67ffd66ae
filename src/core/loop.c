/* loop.c - epoll event loop, timer heap and eventfd wakeups. */
#include "core/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"

#define LOOP_BATCH 64

struct loop {
	int epfd;
	bool stop;
	uint64_t now;
	loop_clock_fn *clock;
	void *clock_ctx;
	struct loop_timer **heap;
	uint32_t heap_len, heap_cap;
	/* The batch being dispatched, so loop_io_del can cancel entries. */
	struct epoll_event events[LOOP_BATCH];
	int ev_next, ev_count;
};

static uint64_t loop_read_clock(const struct loop *loop)
{
	return loop->clock ? loop->clock(loop->clock_ctx) : clock_mono_ns();
}

struct loop *loop_new(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int e = errno;
		free(loop);
		errno = e;
		return NULL;
	}
	loop->now = loop_read_clock(loop);
	return loop;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	close(loop->epfd);
	free(loop->heap);
	free(loop);
}

void loop_set_clock(struct loop *loop, loop_clock_fn *fn, void *ctx)
{
	loop->clock = fn;
	loop->clock_ctx = ctx;
	loop->now = loop_read_clock(loop);
}

uint64_t loop_now(const struct loop *loop)
{
	return loop->now;
}

uint64_t loop_update_now(struct loop *loop)
{
	loop->now = loop_read_clock(loop);
	return loop->now;
}

int loop_io_add(struct loop *loop, struct loop_io *io, int fd, uint32_t events,
		loop_io_cb *cb, void *data)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->data = data;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	io->active = true;
	return 0;
}

int loop_io_mod(struct loop *loop, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (!io->active)
		return -EINVAL;
	if (io->events == events)
		return 0;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	io->events = events;
	return 0;
}

void loop_io_del(struct loop *loop, struct loop_io *io)
{
	if (!io->active)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->active = false;
	/* Drop events for this watcher still queued in the current batch. */
	for (int i = loop->ev_next; i < loop->ev_count; i++) {
		if (loop->events[i].data.ptr == io)
			loop->events[i].data.ptr = NULL;
	}
}

/* ---- timer heap (1-based idx stored in the timer; 0 = unarmed) ---- */

static void heap_set(struct loop *loop, uint32_t pos, struct loop_timer *t)
{
	loop->heap[pos] = t;
	t->idx = pos + 1;
}

static void heap_up(struct loop *loop, uint32_t pos)
{
	struct loop_timer *t = loop->heap[pos];
	while (pos > 0) {
		uint32_t parent = (pos - 1) / 2;
		if (loop->heap[parent]->when <= t->when)
			break;
		heap_set(loop, pos, loop->heap[parent]);
		pos = parent;
	}
	heap_set(loop, pos, t);
}

static void heap_down(struct loop *loop, uint32_t pos)
{
	struct loop_timer *t = loop->heap[pos];
	for (;;) {
		uint32_t l = 2 * pos + 1, r = l + 1, m = pos;
		uint64_t mw = t->when;
		if (l < loop->heap_len && loop->heap[l]->when < mw) {
			m = l;
			mw = loop->heap[l]->when;
		}
		if (r < loop->heap_len && loop->heap[r]->when < mw)
			m = r;
		if (m == pos)
			break;
		heap_set(loop, pos, loop->heap[m]);
		pos = m;
	}
	heap_set(loop, pos, t);
}

void loop_timer_init(struct loop_timer *t, loop_timer_cb *cb, void *data)
{
	memset(t, 0, sizeof(*t));
	t->cb = cb;
	t->data = data;
}

void loop_timer_disarm(struct loop *loop, struct loop_timer *t)
{
	uint32_t pos;

	if (!t->idx)
		return;
	pos = t->idx - 1;
	t->idx = 0;
	loop->heap_len--;
	if (pos == loop->heap_len)
		return;
	struct loop_timer *last = loop->heap[loop->heap_len];
	heap_set(loop, pos, last);
	heap_up(loop, pos);
	if (last->idx - 1 == pos)
		heap_down(loop, pos);
}

void loop_timer_arm_at(struct loop *loop, struct loop_timer *t, uint64_t when)
{
	loop_timer_disarm(loop, t);
	if (loop->heap_len == loop->heap_cap) {
		uint32_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
		struct loop_timer **h = realloc(loop->heap, cap * sizeof(*h));
		if (!h)
			abort(); /* a timer we cannot arm breaks every invariant */
		loop->heap = h;
		loop->heap_cap = cap;
	}
	t->when = when;
	heap_set(loop, loop->heap_len++, t);
	heap_up(loop, loop->heap_len - 1);
}

void loop_timer_arm(struct loop *loop, struct loop_timer *t, uint64_t delay_ns)
{
	uint64_t when = loop->now + delay_ns;
	loop_timer_arm_at(loop, t, when < loop->now ? UINT64_MAX : when);
}

/* Runs every timer due at loop->now. Returns how many ran. A timer re-armed
 * for "now" by its own callback waits for the next iteration. */
static int loop_run_timers(struct loop *loop)
{
	uint64_t now = loop->now;
	int ran = 0, budget = (int)loop->heap_len;

	while (loop->heap_len && loop->heap[0]->when <= now && budget-- > 0) {
		struct loop_timer *t = loop->heap[0];
		loop_timer_disarm(loop, t);
		t->cb(t);
		ran++;
	}
	return ran;
}

/* ---- async wakeups ---- */

static void loop_async_ready(struct loop_io *io, uint32_t events)
{
	struct loop_async *a = io->data;
	uint64_t v;
	(void)events;
	if (read(io->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	if (atomic_exchange(&a->pending, false))
		a->cb(a);
}

int loop_async_init(struct loop *loop, struct loop_async *a, loop_async_cb *cb,
		    void *data)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	atomic_init(&a->pending, false);
	a->cb = cb;
	a->data = data;
	r = loop_io_add(loop, &a->io, fd, LOOP_READ, loop_async_ready, a);
	if (r < 0)
		close(fd);
	return r;
}

void loop_async_send(struct loop_async *a)
{
	uint64_t one = 1;
	if (atomic_exchange(&a->pending, true))
		return; /* already queued */
	/* A failed write can only mean the counter is saturated: still woken. */
	(void)!write(a->io.fd, &one, sizeof(one));
}

void loop_async_close(struct loop *loop, struct loop_async *a)
{
	if (!a->io.active)
		return;
	loop_io_del(loop, &a->io);
	close(a->io.fd);
}

/* ---- running ---- */

static int loop_wait_ms(const struct loop *loop, uint64_t max_wait_ns)
{
	uint64_t wait = max_wait_ns;

	if (loop->heap_len) {
		uint64_t next = loop->heap[0]->when;
		uint64_t until = next > loop->now ? next - loop->now : 0;
		if (until < wait)
			wait = until;
	}
	if (wait == UINT64_MAX)
		return -1;
	/* Round up so a timer is never woken for a hair too early. */
	wait = (wait + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
	return wait > 60000 ? 60000 : (int)wait;
}

int loop_run_once(struct loop *loop, uint64_t max_wait_ns)
{
	int n, ran = 0;

	n = epoll_wait(loop->epfd, loop->events, LOOP_BATCH,
		       loop_wait_ms(loop, max_wait_ns));
	if (n < 0) {
		if (errno != EINTR)
			return -errno;
		n = 0;
	}
	loop->now = loop_read_clock(loop);
	loop->ev_count = n;
	for (loop->ev_next = 0; loop->ev_next < loop->ev_count;) {
		struct epoll_event *ev = &loop->events[loop->ev_next++];
		struct loop_io *io = ev->data.ptr;
		if (!io)
			continue;
		io->cb(io, ev->events);
		ran++;
	}
	loop->ev_count = loop->ev_next = 0;
	ran += loop_run_timers(loop);
	return ran;
}

int loop_run(struct loop *loop)
{
	loop->stop = false;
	while (!loop->stop) {
		int r = loop_run_once(loop, UINT64_MAX);
		if (r < 0)
			return r;
	}
	return 0;
}

void loop_stop(struct loop *loop)
{
	loop->stop = true;
}
