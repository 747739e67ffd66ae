/* loop.h - a single-threaded epoll event loop with timers and wakeups.
 *
 * One loop per thread. Every callback runs on the loop's thread. I/O
 * watchers are level-triggered; a module turns write interest on when it
 * has output pending and off when drained. Timers live in a binary heap
 * keyed by an absolute monotonic deadline. A loop_async is the only object
 * that may be poked from another thread.
 *
 * Ownership: the loop never owns watchers or timers; they are embedded in
 * the caller's objects, which must remove them before being freed. Removing
 * a watcher from inside any callback is safe: pending events for it in the
 * current batch are dropped. */
#ifndef POSTERN_CORE_LOOP_H
#define POSTERN_CORE_LOOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

#define LOOP_READ EPOLLIN
#define LOOP_WRITE EPOLLOUT
/* Reported to callbacks only; never requested. */
#define LOOP_ERROR (EPOLLERR | EPOLLHUP)

struct loop;
struct loop_io;
struct loop_timer;
struct loop_async;

typedef void loop_io_cb(struct loop_io *io, uint32_t events);
typedef void loop_timer_cb(struct loop_timer *t);
typedef void loop_async_cb(struct loop_async *a);

struct loop_io {
	int fd;
	uint32_t events;	/* LOOP_READ | LOOP_WRITE currently wanted */
	bool active;
	loop_io_cb *cb;
	void *data;
};

struct loop_timer {
	uint64_t when;		/* absolute, in loop clock ns */
	uint32_t idx;		/* heap slot + 1; 0 when not armed */
	loop_timer_cb *cb;
	void *data;
};

struct loop_async {
	struct loop_io io;	/* eventfd */
	atomic_bool pending;
	loop_async_cb *cb;
	void *data;
};

/* A clock override for tests: returns "now" in ns. NULL = CLOCK_MONOTONIC. */
typedef uint64_t loop_clock_fn(void *ctx);

/* Returns a new loop, or NULL with errno set. */
struct loop *loop_new(void);
/* Frees the loop. Watchers and timers must have been removed already. */
void loop_free(struct loop *loop);

void loop_set_clock(struct loop *loop, loop_clock_fn *fn, void *ctx);
/* The loop's notion of now, refreshed before each dispatch batch. */
uint64_t loop_now(const struct loop *loop);
/* Refreshes and returns now (for code that ran a long time). */
uint64_t loop_update_now(struct loop *loop);

/* Starts watching `fd` for `events`. Returns 0 or -errno. */
int loop_io_add(struct loop *loop, struct loop_io *io, int fd, uint32_t events,
		loop_io_cb *cb, void *data);
/* Changes the wanted events. Returns 0 or -errno. */
int loop_io_mod(struct loop *loop, struct loop_io *io, uint32_t events);
/* Stops watching; safe on an inactive watcher. Does not close the fd. */
void loop_io_del(struct loop *loop, struct loop_io *io);

void loop_timer_init(struct loop_timer *t, loop_timer_cb *cb, void *data);
/* Arms (or re-arms) the timer to fire `delay_ns` from loop_now(). */
void loop_timer_arm(struct loop *loop, struct loop_timer *t, uint64_t delay_ns);
/* Arms (or re-arms) the timer for an absolute loop-clock time. */
void loop_timer_arm_at(struct loop *loop, struct loop_timer *t, uint64_t when);
/* Disarms; safe on a disarmed timer. */
void loop_timer_disarm(struct loop *loop, struct loop_timer *t);
static inline bool loop_timer_armed(const struct loop_timer *t)
{
	return t->idx != 0;
}

/* Creates the wakeup object. Returns 0 or -errno. */
int loop_async_init(struct loop *loop, struct loop_async *a, loop_async_cb *cb,
		    void *data);
/* Thread-safe and async-signal-safe: makes `cb` run soon on the loop. */
void loop_async_send(struct loop_async *a);
void loop_async_close(struct loop *loop, struct loop_async *a);

/* Runs one iteration: waits at most `max_wait_ns` (or until the next timer;
 * UINT64_MAX = no limit), dispatches I/O, then due timers.
 * Returns the number of callbacks run, or -errno. */
int loop_run_once(struct loop *loop, uint64_t max_wait_ns);
/* Runs until loop_stop(). Returns 0, or -errno on an epoll failure. */
int loop_run(struct loop *loop);
/* Makes loop_run() return after the current iteration (loop thread only;
 * from other threads, send a loop_async whose callback calls this). */
void loop_stop(struct loop *loop);

#endif
