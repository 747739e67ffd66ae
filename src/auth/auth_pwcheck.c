/* auth_pwcheck.c - a small thread pool for Argon2id verifications.
 *
 * The owner's thread alone touches `slot` (submit, delivery, free); the
 * threads and the owner meet only in the `todo` and `done` lists under
 * `lock`. A job's strings are written before it is queued and never
 * change afterwards. */
#define LOG_SUBSYS "auth"
#include "auth/auth_pwcheck.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "auth/password.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/secure.h"

/* Hashing threads yield to the control and front threads. */
#define AUTH_PWCHECK_NICE 5

struct auth_pw_job {
	struct auth_pw_job *next;
	char *encoded;		/* NULL: no such user */
	char *pw;
	size_t len;
	char source[AUTH_PWCHECK_SOURCE];
	auth_pwcheck_done_fn *done;
	void *arg;
	enum auth_pw_result result;
	unsigned slot;
};

struct auth_pwcheck {
	struct loop *loop;
	struct loop_async async;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Two lanes: sources with a clean record first (the rightful user
	 * behind a flood), then the others, each in order. */
	struct auth_pw_job *todo[2], **todo_tail[2], *done;
	bool stop;
	unsigned nthreads;
	pthread_t *threads;
	unsigned max_queue, inflight;
	struct auth_pw_job **slot;	/* owner's: every job not yet reported */
};

static void auth_pw_job_free(struct auth_pw_job *j)
{
	if (!j)
		return;
	secure_free(j->pw, j->len + 1);
	if (j->encoded)
		secure_free(j->encoded, strlen(j->encoded));
	free(j);
}

static enum auth_pw_result auth_pw_run(const struct auth_pw_job *j)
{
	return password_verify(j->encoded, j->pw, j->len) ? AUTH_PW_OK : AUTH_PW_WRONG;
}

/* Queues a job in its lane (under p->lock). */
static void auth_pw_push(struct auth_pwcheck *p, struct auth_pw_job *j, int lane)
{
	j->next = NULL;
	*p->todo_tail[lane] = j;
	p->todo_tail[lane] = &j->next;
}

/* The next job to run: the first lane's first, else the other's (under
 * p->lock). NULL when both are empty. */
static struct auth_pw_job *auth_pw_pop(struct auth_pwcheck *p)
{
	int lane = p->todo[0] ? 0 : 1;
	struct auth_pw_job *j = p->todo[lane];

	if (!j)
		return NULL;
	p->todo[lane] = j->next;
	if (!p->todo[lane])
		p->todo_tail[lane] = &p->todo[lane];
	return j;
}

static void *auth_pwcheck_thread(void *arg)
{
	struct auth_pwcheck *p = arg;
	struct auth_pw_job *j;

	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), AUTH_PWCHECK_NICE) < 0)
		log_debug("cannot lower the password threads' priority");
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->todo[0] && !p->todo[1] && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop)
			break;
		j = auth_pw_pop(p);
		pthread_mutex_unlock(&p->lock);
		j->result = auth_pw_run(j);
		pthread_mutex_lock(&p->lock);
		j->next = p->done;
		p->done = j;
		loop_async_send(&p->async);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Hands a finished job back to its caller (owner's thread). */
static void auth_pw_deliver(struct auth_pwcheck *p, struct auth_pw_job *j,
			    enum auth_pw_result r)
{
	if (p) {
		p->slot[j->slot] = NULL;
		p->inflight--;
	}
	j->done(j->arg, r);
	auth_pw_job_free(j);
}

static void auth_pwcheck_ready(struct loop_async *a)
{
	struct auth_pwcheck *p = a->data;
	struct auth_pw_job *list, *next;

	pthread_mutex_lock(&p->lock);
	list = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->lock);
	for (; list; list = next) {
		next = list->next;
		auth_pw_deliver(p, list, list->result);
	}
}

/* The threads start with every signal blocked: signals are the owner's
 * (the hub reads them with a signalfd), whenever the pool is made. */
static int auth_pwcheck_threads(struct auth_pwcheck *p, unsigned threads)
{
	sigset_t all, old;
	int rc = 0;

	p->threads = calloc(threads, sizeof(*p->threads));
	if (!p->threads)
		return -ENOMEM;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; p->nthreads < threads; p->nthreads++)
		if (pthread_create(&p->threads[p->nthreads], NULL, auth_pwcheck_thread, p)) {
			rc = p->nthreads ? 0 : -EAGAIN;	/* fewer is fine */
			break;
		}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

struct auth_pwcheck *auth_pwcheck_new(struct loop *loop, unsigned threads,
				      unsigned max_queue)
{
	struct auth_pwcheck *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->todo_tail[0] = &p->todo[0];
	p->todo_tail[1] = &p->todo[1];
	p->max_queue = max_queue ? max_queue : 1;
	p->slot = calloc(p->max_queue, sizeof(*p->slot));
	if (!p->slot)
		goto fail;
	if (!loop || !threads)
		return p;
	p->loop = loop;
	if (loop_async_init(loop, &p->async, auth_pwcheck_ready, p) < 0) {
		p->loop = NULL;
		goto fail;
	}
	password_prepare();	/* the dummy hash, before threads race for it */
	if (auth_pwcheck_threads(p, threads) < 0)
		goto fail;
	return p;
fail:
	auth_pwcheck_free(p);
	errno = ENOMEM;
	return NULL;
}

/* A free slot for a new job from `source`: -EBUSY when the source has one,
 * -EAGAIN when none is free. */
static int auth_pw_slot(struct auth_pwcheck *p, const char *source)
{
	int free_slot = -1;

	for (unsigned i = 0; i < p->max_queue; i++) {
		if (!p->slot[i]) {
			if (free_slot < 0)
				free_slot = (int)i;
		} else if (source && !strcmp(p->slot[i]->source, source)) {
			return -EBUSY;
		}
	}
	return free_slot >= 0 ? free_slot : -EAGAIN;
}

static struct auth_pw_job *auth_pw_job_new(const char *encoded, const char *pw,
					   size_t len, const char *source)
{
	struct auth_pw_job *j = calloc(1, sizeof(*j));

	if (!j || !(j->pw = malloc(len + 1)) ||
	    (encoded && !(j->encoded = strdup(encoded)))) {
		if (j)
			j->len = len;
		auth_pw_job_free(j);
		return NULL;
	}
	memcpy(j->pw, pw, len);
	j->pw[len] = 0;
	j->len = len;
	snprintf(j->source, sizeof(j->source), "%s", source ? source : "");
	return j;
}

int auth_pwcheck_submit(struct auth_pwcheck *p, const char *encoded, const char *pw,
			size_t len, const char *source, bool first, auth_pwcheck_done_fn *done,
			void *arg)
{
	int lane = first ? 0 : 1;
	struct auth_pw_job *j;
	int s = 0;

	if (p && (s = auth_pw_slot(p, source)) < 0)
		return s;
	if (!(j = auth_pw_job_new(encoded, pw, len, source)))
		return -ENOMEM;
	j->done = done;
	j->arg = arg;
	if (!p || !p->nthreads) {	/* inline */
		j->result = auth_pw_run(j);
		done(arg, j->result);
		auth_pw_job_free(j);
		return 0;
	}
	j->slot = (unsigned)s;
	p->slot[s] = j;
	p->inflight++;
	pthread_mutex_lock(&p->lock);
	auth_pw_push(p, j, lane);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

unsigned auth_pwcheck_inflight(const struct auth_pwcheck *p)
{
	return p ? p->inflight : 0;
}

void auth_pwcheck_free(struct auth_pwcheck *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* Threads are gone: every job not yet reported is in a slot. */
	for (unsigned i = 0; p->slot && i < p->max_queue; i++)
		if (p->slot[i])
			auth_pw_deliver(p, p->slot[i], AUTH_PW_ABORTED);
	if (p->loop)
		loop_async_close(p->loop, &p->async);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p->slot);
	free(p);
}
