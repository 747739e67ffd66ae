/* auth_pwcheck.c - Argon2id verifications on a core/workq.
 *
 * The owner's thread alone touches `slot` (submit, delivery, free); the
 * threads see a job only between its push and its delivery. A job's
 * strings are written before it is queued and never change afterwards. */
#define LOG_SUBSYS "auth"
#include "auth/auth_pwcheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "core/compiler.h"
#include "core/secure.h"
#include "core/workq.h"

/* Hashing threads yield to the control and front threads. */
#define AUTH_PWCHECK_NICE 5

struct auth_pw_job {
	struct workq_job wq;
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
	/* Two lanes: sources with a clean record first (the rightful user
	 * behind a flood), then the others, each in order. Not started: the
	 * pool checks inline. */
	struct workq q;
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

/* Worker thread. */
static void auth_pw_thread_run(void *arg, struct workq_job *wq)
{
	struct auth_pw_job *j = container_of(wq, struct auth_pw_job, wq);

	(void)arg;
	j->result = auth_pw_run(j);
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

static void auth_pwcheck_ready(void *arg, struct workq_job *wq)
{
	struct auth_pw_job *j = container_of(wq, struct auth_pw_job, wq);

	auth_pw_deliver(arg, j, j->result);
}

/* The pool stops: a check never reported is reported as aborted. */
static void auth_pwcheck_abort(void *arg, struct workq_job *wq)
{
	auth_pw_deliver(arg, container_of(wq, struct auth_pw_job, wq), AUTH_PW_ABORTED);
}

struct auth_pwcheck *auth_pwcheck_new(struct loop *loop, unsigned threads,
				      unsigned max_queue)
{
	struct auth_pwcheck *p = calloc(1, sizeof(*p));
	struct workq_cfg cfg = {
		.threads = threads, .nice = AUTH_PWCHECK_NICE, .run = auth_pw_thread_run,
		.done = auth_pwcheck_ready, .arg = p,
	};

	if (!p)
		return NULL;
	p->max_queue = max_queue ? max_queue : 1;
	p->slot = calloc(p->max_queue, sizeof(*p->slot));
	if (!p->slot)
		goto fail;
	if (!loop || !threads)
		return p;
	password_prepare();	/* the dummy hash, before threads race for it */
	if (workq_init(&p->q, loop, &cfg) < 0)
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
	struct auth_pw_job *j;
	int s = 0;

	if (p && (s = auth_pw_slot(p, source)) < 0)
		return s;
	if (!(j = auth_pw_job_new(encoded, pw, len, source)))
		return -ENOMEM;
	j->done = done;
	j->arg = arg;
	if (!p || !p->q.loop) {	/* inline */
		j->result = auth_pw_run(j);
		done(arg, j->result);
		auth_pw_job_free(j);
		return 0;
	}
	j->slot = (unsigned)s;
	p->slot[s] = j;
	p->inflight++;
	/* Unbounded: the slots are the bound. */
	workq_push(&p->q, &j->wq, first ? WORKQ_FIRST : WORKQ_LAST);
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
	workq_fini(&p->q, auth_pwcheck_abort);
	free(p->slot);
	free(p);
}
