/* workq.h - blocking jobs on worker threads, results back on a loop.
 *
 * Work that blocks (getaddrinfo, Argon2id, an ACME order) must not run on
 * an event loop's thread. A workq runs each job's `run` on one of its
 * threads and then hands the job back to the owner's loop thread, where
 * `done` runs. This is the one copy of that queue: the resolver, the
 * password checks and the ACME worker each keep only their job logic.
 *
 * Jobs are intrusive: the caller embeds a `struct workq_job` in its own
 * job struct and gets it back with container_of (core/compiler.h).
 *
 * Ownership: a job belongs to the queue from workq_push until it is given
 * to `done` (or to workq_fini's `drop`), which then owns it. In between,
 * `run` may write the job's result fields on a worker thread; the loop
 * thread must not read them before `done`.
 *
 * Order: two lanes, each first in, first out; a worker takes the first
 * lane's oldest job before any of the second's. Finished jobs are handed
 * back in the order they finished (with one thread, the order they ran).
 *
 * Threads: workq_init, workq_push, workq_stop and workq_fini run on the
 * owner's loop thread; `run` on a worker thread (which starts with every
 * signal blocked: signals stay the owner's); `done` on the loop thread,
 * one job per call. */
#ifndef POSTERN_CORE_WORKQ_H
#define POSTERN_CORE_WORKQ_H

#include <pthread.h>
#include <stdbool.h>

#include "core/loop.h"

struct workq_job {
	struct workq_job *next;
};

/* Worker thread: does the job's blocking part. */
typedef void workq_run_fn(void *arg, struct workq_job *job);
/* Loop thread: takes over the job (delivery, or workq_fini's drop). */
typedef void workq_done_fn(void *arg, struct workq_job *job);

enum workq_lane {
	WORKQ_FIRST = 0,	/* served before every job of WORKQ_LAST */
	WORKQ_LAST,
	WORKQ_LANES
};

struct workq_cfg {
	unsigned threads;	/* at least 1 */
	unsigned max;		/* jobs pushed and not yet handed back; 0: no bound */
	int nice;		/* the threads lower their priority by this; 0: not */
	workq_run_fn *run;
	workq_done_fn *done;
	void *arg;		/* passed to run, done and drop */
};

struct workq {
	struct loop *loop;	/* NULL: not started (stop and fini do nothing) */
	struct loop_async async;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu: */
	struct workq_job *todo[WORKQ_LANES], **todo_tail[WORKQ_LANES];
	struct workq_job *done, **done_tail;
	unsigned pending;	/* pushed and not yet handed back */
	bool stopping;
	/* the owner's: */
	pthread_t *threads;
	unsigned nthreads;
	struct workq_cfg cfg;
};

/* Starts cfg->threads threads (fewer when the system refuses some, at
 * least one) whose results come back on `loop`. `cfg` is copied.
 * Returns 0, or -errno with `q` left not started. */
int workq_init(struct workq *q, struct loop *loop, const struct workq_cfg *cfg);

/* Queues `job` at the end of `lane`. Returns 0, or -EBUSY when cfg.max
 * jobs are already pushed and not yet handed back (the caller keeps the
 * job). */
int workq_push(struct workq *q, struct workq_job *job, enum workq_lane lane);

/* Asks the threads to stop: a job that runs finishes (a caller with a
 * way to cut it short uses it after this call), no other one starts. */
void workq_stop(struct workq *q);

/* Stops (workq_stop) and joins the threads, then hands every job never
 * given to `done` (queued, or finished and not yet delivered) to `drop`,
 * on the calling thread, and frees the queue's resources. Not to be
 * called from `done`. */
void workq_fini(struct workq *q, workq_done_fn *drop);

#endif
