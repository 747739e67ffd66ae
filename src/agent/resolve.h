/* resolve.h - host name lookups off the event loop.
 *
 * getaddrinfo blocks, so lookups run on a few worker threads and their
 * results come back to the loop thread through a loop_async. A request
 * is owned by the resolver from resolve_start until its callback has
 * returned (or, after resolve_cancel, until the worker is done with it):
 * callers keep only the handle and must not touch it after either. */
#ifndef POSTERN_AGENT_RESOLVE_H
#define POSTERN_AGENT_RESOLVE_H

#include <netdb.h>

#include "core/workq.h"

#define RESOLVE_THREADS 2
#define RESOLVE_QUEUE_MAX 256	/* pending lookups; more -> -EBUSY */

struct resolve_req;
/* Runs on the loop thread. `res` (NULL on failure) belongs to the
 * callee, who frees it with freeaddrinfo; `gai_rc` is getaddrinfo's code. */
typedef void resolve_cb(void *data, int gai_rc, struct addrinfo *res);

struct resolve {
	struct workq q;		/* lookups waiting, running, or finished */
};

/* Starts the worker threads. Returns 0 or -errno. */
int resolve_init(struct resolve *r, struct loop *loop);
/* Stops and joins the workers; pending requests are dropped unanswered. */
void resolve_fini(struct resolve *r);

/* Looks up host (for TCP, any family). Returns a handle, or NULL with
 * errno (EBUSY queue full, ENAMETOOLONG, ENOMEM). */
struct resolve_req *resolve_start(struct resolve *r, const char *host,
				  resolve_cb *cb, void *data);
/* The callback will not run; the resolver frees the request (loop
 * thread, like the callback). */
void resolve_cancel(struct resolve *r, struct resolve_req *req);

#endif
