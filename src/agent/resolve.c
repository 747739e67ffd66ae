/* resolve.c - getaddrinfo on worker threads (see resolve.h). */
#define LOG_SUBSYS "resolve"
#include "agent/resolve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/sync.h"

struct resolve_req {
	struct resolve_req *next;
	resolve_cb *cb;
	void *data;
	bool canceled;		/* under r->mu */
	int gai_rc;
	struct addrinfo *res;
	char host[256];
};

static void resolve_lookup(struct resolve_req *q)
{
	struct addrinfo hints;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	q->gai_rc = getaddrinfo(q->host, NULL, &hints, &q->res);
	if (q->gai_rc != 0)
		q->res = NULL;
}

static void *resolve_worker(void *arg)
{
	struct resolve *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (!r->todo && !r->stopping)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stopping)
			break;
		struct resolve_req *q = r->todo;
		r->todo = q->next;
		if (!r->todo)
			r->todo_tail = NULL;
		pthread_mutex_unlock(&r->mu);
		resolve_lookup(q);
		pthread_mutex_lock(&r->mu);
		q->next = r->done;
		r->done = q;
		loop_async_send(&r->async);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static void resolve_free_list(struct resolve_req *q)
{
	while (q) {
		struct resolve_req *next = q->next;
		if (q->res)
			freeaddrinfo(q->res);
		free(q);
		q = next;
	}
}

/* Loop thread: deliver finished lookups. */
static void resolve_deliver(struct loop_async *a)
{
	struct resolve *r = a->data;
	struct resolve_req *q, *next;

	pthread_mutex_lock(&r->mu);
	q = r->done;
	r->done = NULL;
	for (struct resolve_req *p = q; p; p = p->next)
		r->queued--;
	pthread_mutex_unlock(&r->mu);
	for (; q; q = next) {
		next = q->next;
		if (!q->canceled) {
			q->cb(q->data, q->gai_rc, q->res);
			q->res = NULL;
		}
		q->next = NULL;
		resolve_free_list(q);
	}
}

int resolve_init(struct resolve *r, struct loop *loop)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->loop = loop;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	rc = loop_async_init(loop, &r->async, resolve_deliver, r);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < RESOLVE_THREADS; i++) {
		rc = pthread_create(&r->threads[i], NULL, resolve_worker, r);
		if (rc) {
			resolve_fini(r);
			return -rc;
		}
		r->nthreads++;
	}
	return 0;
}

void resolve_fini(struct resolve *r)
{
	sync_flag_raise(&r->mu, &r->cv, &r->stopping);
	for (unsigned i = 0; i < r->nthreads; i++)
		pthread_join(r->threads[i], NULL);
	r->nthreads = 0;
	resolve_free_list(r->todo);
	resolve_free_list(r->done);
	r->todo = r->todo_tail = r->done = NULL;
	loop_async_close(r->loop, &r->async);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

struct resolve_req *resolve_start(struct resolve *r, const char *host,
				  resolve_cb *cb, void *data)
{
	struct resolve_req *q;
	size_t n = strlen(host);

	if (n >= sizeof(q->host)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	memcpy(q->host, host, n + 1);
	q->cb = cb;
	q->data = data;
	pthread_mutex_lock(&r->mu);
	if (r->queued >= RESOLVE_QUEUE_MAX) {
		pthread_mutex_unlock(&r->mu);
		free(q);
		errno = EBUSY;
		return NULL;
	}
	r->queued++;
	if (r->todo_tail)
		r->todo_tail->next = q;
	else
		r->todo = q;
	r->todo_tail = q;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return q;
}

void resolve_cancel(struct resolve *r, struct resolve_req *req)
{
	pthread_mutex_lock(&r->mu);
	req->canceled = true;
	pthread_mutex_unlock(&r->mu);
}
