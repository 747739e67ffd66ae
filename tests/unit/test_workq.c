/* test_workq.c - core/workq on a real loop and real threads (also run
 * under ThreadSanitizer: make BUILD=tsan unit-tsan). Worker threads never
 * call CHECK (its counters are not atomic): they write into their job,
 * and the main thread checks once the job is handed back. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "unit.h"

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "core/workq.h"

#define FX_JOBS 64
#define FX_WAIT_NS (120 * NSEC_PER_SEC)	/* a bound, never an expectation */

struct fx_job {
	struct workq_job wq;
	unsigned id;
	bool block;		/* run waits for fx.release */
	/* written by run (worker thread) */
	bool ran_off_loop, sigterm_blocked;
	unsigned order;		/* 1 + position among the runs */
	/* the main thread's */
	unsigned delivered, dropped;
};

struct fx {
	struct loop *loop;
	pthread_t loop_thread;
	struct workq q;
	struct fx_job job[FX_JOBS];
	atomic_uint runs, running, max_running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool release;		/* under mu */
	unsigned rendezvous;	/* run waits until this many run at once */
	unsigned delivered, wrong_thread;
	unsigned seq[FX_JOBS], nseq;	/* ids in delivery order */
};

static struct fx fx;

/* Waits on fx.cv (held) for at most 10 ms: callers recheck their
 * condition and their deadline. */
static void fx_wait(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 10 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&fx.cv, &fx.mu, &ts);
}

/* Worker thread: records where and when it ran; may wait for the main
 * thread (block) or for other runs (rendezvous), each with a bound. */
static void fx_run(void *arg, struct workq_job *wq)
{
	struct fx_job *j = container_of(wq, struct fx_job, wq);
	uint64_t deadline = clock_mono_ns() + FX_WAIT_NS;
	unsigned now = atomic_fetch_add(&fx.running, 1) + 1, max;
	sigset_t cur;

	(void)arg;
	j->order = atomic_fetch_add(&fx.runs, 1) + 1;
	j->ran_off_loop = !pthread_equal(pthread_self(), fx.loop_thread);
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	j->sigterm_blocked = sigismember(&cur, SIGTERM) == 1;
	max = atomic_load(&fx.max_running);
	while (now > max && !atomic_compare_exchange_weak(&fx.max_running, &max, now))
		;
	pthread_mutex_lock(&fx.mu);
	pthread_cond_broadcast(&fx.cv);
	while (((j->block && !fx.release) ||
		atomic_load(&fx.max_running) < fx.rendezvous) &&
	       clock_mono_ns() < deadline)
		fx_wait();
	pthread_mutex_unlock(&fx.mu);
	atomic_fetch_sub(&fx.running, 1);
}

static void fx_done(void *arg, struct workq_job *wq)
{
	struct fx_job *j = container_of(wq, struct fx_job, wq);

	(void)arg;
	j->delivered++;
	fx.wrong_thread += !pthread_equal(pthread_self(), fx.loop_thread);
	if (fx.nseq < FX_JOBS)
		fx.seq[fx.nseq++] = j->id;
	fx.delivered++;
}

static void fx_drop(void *arg, struct workq_job *wq)
{
	(void)arg;
	container_of(wq, struct fx_job, wq)->dropped++;
}

static int fx_start(unsigned threads, unsigned max)
{
	struct workq_cfg cfg = { .threads = threads, .max = max, .run = fx_run,
				 .done = fx_done };

	memset(&fx, 0, sizeof(fx));
	for (unsigned i = 0; i < FX_JOBS; i++)
		fx.job[i].id = i;
	pthread_mutex_init(&fx.mu, NULL);
	pthread_cond_init(&fx.cv, NULL);
	fx.loop_thread = pthread_self();
	fx.loop = loop_new();
	if (!fx.loop)
		return -ENOMEM;
	return workq_init(&fx.q, fx.loop, &cfg);
}

static void fx_end(void)
{
	workq_fini(&fx.q, fx_drop);
	loop_free(fx.loop);
	pthread_cond_destroy(&fx.cv);
	pthread_mutex_destroy(&fx.mu);
}

static int fx_push(unsigned i, enum workq_lane lane)
{
	return workq_push(&fx.q, &fx.job[i].wq, lane);
}

/* Runs the loop until n jobs were handed back (bounded). */
static void fx_deliver_until(unsigned n)
{
	uint64_t deadline = clock_mono_ns() + FX_WAIT_NS;

	while (fx.delivered < n && clock_mono_ns() < deadline)
		loop_run_once(fx.loop, 100 * NSEC_PER_MSEC);
}

/* Waits until n runs have started (bounded), without running the loop:
 * nothing is handed back meanwhile. */
static void fx_runs_until(unsigned n)
{
	uint64_t deadline = clock_mono_ns() + FX_WAIT_NS;

	pthread_mutex_lock(&fx.mu);
	while (atomic_load(&fx.runs) < n && clock_mono_ns() < deadline)
		fx_wait();
	pthread_mutex_unlock(&fx.mu);
}

static void fx_release(void)
{
	pthread_mutex_lock(&fx.mu);
	fx.release = true;
	pthread_cond_broadcast(&fx.cv);
	pthread_mutex_unlock(&fx.mu);
}

TEST(one_thread_runs_and_hands_back_in_push_order)
{
	CHECK_EQ_INT(fx_start(1, 0), 0);
	for (unsigned i = 0; i < FX_JOBS; i++)
		CHECK_EQ_INT(fx_push(i, WORKQ_LAST), 0);
	fx_deliver_until(FX_JOBS);
	CHECK_EQ_INT(fx.delivered, FX_JOBS);
	CHECK_EQ_INT(fx.wrong_thread, 0);
	for (unsigned i = 0; i < FX_JOBS; i++) {
		CHECK_EQ_INT(fx.seq[i], i);
		CHECK_EQ_INT(fx.job[i].order, i + 1);
		CHECK_EQ_INT(fx.job[i].delivered, 1);
		CHECK(fx.job[i].ran_off_loop);
		CHECK(fx.job[i].sigterm_blocked);
	}
	fx_end();
}

/* The first lane is served before the last, each lane in order (the
 * password checks of clean sources overtake a flood's). */
TEST(first_lane_overtakes_the_last)
{
	static const enum workq_lane lane[5] = { WORKQ_LAST, WORKQ_LAST, WORKQ_FIRST,
						 WORKQ_LAST, WORKQ_FIRST };
	static const unsigned want[5] = { 3, 4, 1, 5, 2 };	/* job i+1 runs at */

	CHECK_EQ_INT(fx_start(1, 0), 0);
	fx.job[0].block = true;		/* holds the one thread while we push */
	CHECK_EQ_INT(fx_push(0, WORKQ_LAST), 0);
	fx_runs_until(1);
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ_INT(fx_push(i + 1, lane[i]), 0);
	fx_release();
	fx_deliver_until(6);
	CHECK_EQ_INT(fx.delivered, 6);
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ_INT(fx.job[i + 1].order, want[i] + 1);
	fx_end();
}

/* max bounds the jobs not yet handed back; a delivery frees room. */
TEST(a_full_queue_refuses_until_a_job_is_handed_back)
{
	CHECK_EQ_INT(fx_start(1, 2), 0);
	CHECK_EQ_INT(fx_push(0, WORKQ_LAST), 0);
	CHECK_EQ_INT(fx_push(1, WORKQ_LAST), 0);
	CHECK_EQ_INT(fx_push(2, WORKQ_LAST), -EBUSY);
	fx_runs_until(2);	/* both ran: still not handed back */
	CHECK_EQ_INT(fx_push(2, WORKQ_FIRST), -EBUSY);
	fx_deliver_until(2);
	CHECK_EQ_INT(fx_push(2, WORKQ_LAST), 0);
	fx_deliver_until(3);
	CHECK_EQ_INT(fx.delivered, 3);
	CHECK_EQ_INT(fx.job[2].delivered, 1);
	fx_end();
}

/* fini gives every job never handed back to drop, exactly once: the one
 * that ran but was not delivered, and the ones that never ran. */
TEST(fini_drops_every_undelivered_job_once)
{
	CHECK_EQ_INT(fx_start(1, 0), 0);
	fx.job[0].block = true;
	CHECK_EQ_INT(fx_push(0, WORKQ_LAST), 0);
	fx_runs_until(1);
	for (unsigned i = 1; i < 10; i++)
		CHECK_EQ_INT(fx_push(i, i % 2 ? WORKQ_FIRST : WORKQ_LAST), 0);
	workq_stop(&fx.q);
	fx_release();
	fx_end();
	CHECK_EQ_INT(atomic_load(&fx.runs), 1);
	CHECK_EQ_INT(fx.delivered, 0);
	for (unsigned i = 0; i < 10; i++) {
		CHECK_EQ_INT(fx.job[i].dropped, 1);
		CHECK_EQ_INT(fx.job[i].delivered, 0);
	}
	CHECK_EQ_INT(fx.job[10].dropped, 0);
}

/* Several threads run jobs at once (the first two wait for each other);
 * every job is handed back once, on the loop thread. */
TEST(several_threads_share_the_jobs)
{
	CHECK_EQ_INT(fx_start(4, 0), 0);
	fx.rendezvous = 2;
	for (unsigned i = 0; i < FX_JOBS; i++)
		CHECK_EQ_INT(fx_push(i, i % 3 ? WORKQ_LAST : WORKQ_FIRST), 0);
	fx_deliver_until(FX_JOBS);
	CHECK_EQ_INT(fx.delivered, FX_JOBS);
	CHECK_EQ_INT(fx.wrong_thread, 0);
	CHECK(atomic_load(&fx.max_running) >= 2);
	for (unsigned i = 0; i < FX_JOBS; i++) {
		CHECK_EQ_INT(fx.job[i].delivered, 1);
		CHECK(fx.job[i].ran_off_loop);
	}
	fx_end();
	for (unsigned i = 0; i < FX_JOBS; i++)
		CHECK_EQ_INT(fx.job[i].dropped, 0);
}

TEST(stop_and_fini_on_a_queue_never_started)
{
	struct workq q;
	struct workq_cfg none = { .threads = 0 };

	memset(&q, 0, sizeof(q));
	workq_stop(&q);
	workq_fini(&q, fx_drop);
	CHECK_EQ_INT(workq_init(&q, NULL, &none), -EINVAL);
	workq_fini(&q, fx_drop);
}

int main(void)
{
	log_set_level(LOG_LEVEL_MAX);
	RUN(one_thread_runs_and_hands_back_in_push_order);
	RUN(first_lane_overtakes_the_last);
	RUN(a_full_queue_refuses_until_a_job_is_handed_back);
	RUN(fini_drops_every_undelivered_job_once);
	RUN(several_threads_share_the_jobs);
	RUN(stop_and_fini_on_a_queue_never_started);
	return unit_done();
}
