/* workq.c - blocking jobs on worker threads, results back on a loop
 * (see workq.h). The threads and the owner meet only in the lists under
 * `mu`; a job is on at most one list at a time. */
#define LOG_SUBSYS "workq"
#include "core/workq.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sync.h"

static void workq_append(struct workq_job ***tail, struct workq_job *job)
{
	job->next = NULL;
	**tail = job;
	*tail = &job->next;
}

/* Takes the oldest job of `*head` (under mu); NULL when empty. */
static struct workq_job *workq_take(struct workq_job **head,
				    struct workq_job ***tail)
{
	struct workq_job *job = *head;

	if (!job)
		return NULL;
	*head = job->next;
	if (!*head)
		*tail = head;
	job->next = NULL;
	return job;
}

/* The next job to run: the first lane's oldest, else the last's (under mu). */
static struct workq_job *workq_pop(struct workq *q)
{
	enum workq_lane lane = q->todo[WORKQ_FIRST] ? WORKQ_FIRST : WORKQ_LAST;

	return workq_take(&q->todo[lane], &q->todo_tail[lane]);
}

static void *workq_thread(void *arg)
{
	struct workq *q = arg;
	struct workq_job *job;

	if (q->cfg.nice &&
	    setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), q->cfg.nice) < 0)
		log_debug("cannot lower a worker thread's priority");
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->todo[WORKQ_FIRST] && !q->todo[WORKQ_LAST] && !q->stopping)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->stopping)
			break;
		job = workq_pop(q);
		pthread_mutex_unlock(&q->mu);
		q->cfg.run(q->cfg.arg, job);
		pthread_mutex_lock(&q->mu);
		workq_append(&q->done_tail, job);
		loop_async_send(&q->async);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* Loop thread: hands finished jobs back one at a time, so a job `done`
 * pushes is counted and a job still listed stays fini's to drop. */
static void workq_deliver(struct loop_async *a)
{
	struct workq *q = a->data;
	struct workq_job *job;

	for (;;) {
		pthread_mutex_lock(&q->mu);
		job = workq_take(&q->done, &q->done_tail);
		if (job)
			q->pending--;
		pthread_mutex_unlock(&q->mu);
		if (!job)
			break;
		q->cfg.done(q->cfg.arg, job);
	}
}

/* Starts the threads with every signal blocked (the owner reads signals,
 * e.g. with a signalfd, whenever the queue is made). Fewer threads than
 * asked are fine; none is -EAGAIN. */
static int workq_threads(struct workq *q)
{
	sigset_t all, old;

	q->threads = calloc(q->cfg.threads, sizeof(*q->threads));
	if (!q->threads)
		return -ENOMEM;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (q->nthreads < q->cfg.threads &&
	       !pthread_create(&q->threads[q->nthreads], NULL, workq_thread, q))
		q->nthreads++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return q->nthreads ? 0 : -EAGAIN;
}

int workq_init(struct workq *q, struct loop *loop, const struct workq_cfg *cfg)
{
	int rc;

	memset(q, 0, sizeof(*q));
	if (!cfg->threads)
		return -EINVAL;
	q->cfg = *cfg;
	for (int lane = 0; lane < WORKQ_LANES; lane++)
		q->todo_tail[lane] = &q->todo[lane];
	q->done_tail = &q->done;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	rc = loop_async_init(loop, &q->async, workq_deliver, q);
	if (rc < 0)
		goto fail;
	q->loop = loop;
	rc = workq_threads(q);
	if (rc == 0)
		return 0;
	loop_async_close(loop, &q->async);
fail:
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q->threads);
	memset(q, 0, sizeof(*q));
	return rc;
}

int workq_push(struct workq *q, struct workq_job *job, enum workq_lane lane)
{
	pthread_mutex_lock(&q->mu);
	if (q->cfg.max && q->pending >= q->cfg.max) {
		pthread_mutex_unlock(&q->mu);
		return -EBUSY;
	}
	q->pending++;
	workq_append(&q->todo_tail[lane], job);
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

void workq_stop(struct workq *q)
{
	if (q->loop)
		sync_flag_raise(&q->mu, &q->cv, &q->stopping);
}

/* Hands every job of one list to `drop` (threads joined: no lock needed). */
static void workq_drop(struct workq *q, struct workq_job **head,
		       struct workq_job ***tail, workq_done_fn *drop)
{
	struct workq_job *job;

	while ((job = workq_take(head, tail)))
		drop(q->cfg.arg, job);
}

void workq_fini(struct workq *q, workq_done_fn *drop)
{
	if (!q->loop)
		return;
	workq_stop(q);
	for (unsigned i = 0; i < q->nthreads; i++)
		pthread_join(q->threads[i], NULL);
	for (int lane = 0; lane < WORKQ_LANES; lane++)
		workq_drop(q, &q->todo[lane], &q->todo_tail[lane], drop);
	workq_drop(q, &q->done, &q->done_tail, drop);
	loop_async_close(q->loop, &q->async);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	free(q->threads);
	memset(q, 0, sizeof(*q));
}
