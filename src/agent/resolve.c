/* resolve.c - getaddrinfo on worker threads (see resolve.h). */
#define LOG_SUBSYS "resolve"
#include "agent/resolve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"

struct resolve_req {
	struct workq_job wq;
	resolve_cb *cb;
	void *data;
	bool canceled;		/* the loop thread's */
	int gai_rc;
	struct addrinfo *res;
	char host[256];
};

/* Worker thread. */
static void resolve_lookup(void *arg, struct workq_job *wq)
{
	struct resolve_req *q = container_of(wq, struct resolve_req, wq);
	struct addrinfo hints;

	(void)arg;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	q->gai_rc = getaddrinfo(q->host, NULL, &hints, &q->res);
	if (q->gai_rc != 0)
		q->res = NULL;
}

static void resolve_req_free(void *arg, struct workq_job *wq)
{
	struct resolve_req *q = container_of(wq, struct resolve_req, wq);

	(void)arg;
	if (q->res)
		freeaddrinfo(q->res);
	free(q);
}

/* Loop thread: delivers a finished lookup unless it was canceled. */
static void resolve_deliver(void *arg, struct workq_job *wq)
{
	struct resolve_req *q = container_of(wq, struct resolve_req, wq);

	if (!q->canceled) {
		q->cb(q->data, q->gai_rc, q->res);
		q->res = NULL;
	}
	resolve_req_free(arg, wq);
}

int resolve_init(struct resolve *r, struct loop *loop)
{
	static const struct workq_cfg cfg = {
		.threads = RESOLVE_THREADS, .max = RESOLVE_QUEUE_MAX,
		.run = resolve_lookup, .done = resolve_deliver,
	};

	return workq_init(&r->q, loop, &cfg);
}

void resolve_fini(struct resolve *r)
{
	workq_fini(&r->q, resolve_req_free);
}

struct resolve_req *resolve_start(struct resolve *r, const char *host,
				  resolve_cb *cb, void *data)
{
	struct resolve_req *q;
	size_t n = strlen(host);
	int rc;

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
	rc = workq_push(&r->q, &q->wq, WORKQ_LAST);
	if (rc < 0) {
		free(q);
		errno = -rc;
		return NULL;
	}
	return q;
}

void resolve_cancel(struct resolve *r, struct resolve_req *req)
{
	(void)r;
	req->canceled = true;
}
