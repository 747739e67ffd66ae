/* admin.h - handing admin requests to the control thread and back
 * (the front's side; the hub's control loop runs admin_control_run).
 *
 * A worker copies the request into an admin_call (strings and a body of
 * at most API_BODY_MAX), queues it for the control thread and wakes it;
 * the control thread runs the registered handler and, when the handler
 * says the response is complete (at once, or later for a login waiting
 * for its password check), queues the call back to the worker, which
 * writes the response. The call stays allocated until then. The worker alone
 * touches call->c; if the connection closes meanwhile it sets it to NULL
 * and the reply is dropped when it comes back. */
#ifndef POSTERN_FRONT_ADMIN_H
#define POSTERN_FRONT_ADMIN_H

#include <stddef.h>

#include "api/api.h"
#include "http/http.h"
#include "front/worker.h"

struct conn;
struct front_ctx;
struct worker;

struct admin_call {
	struct admin_call *next;
	struct worker *w;
	struct conn *c;		/* worker-owned; NULL once detached */
	/* An HTTP/2 stream instead of a connection (h2_admin_reply). */
	void *h2st;
	void (*h2_reply)(struct admin_call *a);
	struct api_req req;
	struct api_resp resp;
	char strs[8192];	/* copies of the request's strings */
	size_t strs_len;
	struct buf body;
	bool head_req;
	bool submitted;		/* handed to the control thread */
};

/* Starts an admin call for the request head (head bytes at c->in). */
void admin_start(struct conn *c, const struct http_msg *m, int head);
size_t admin_body(struct conn *c, const char *p, size_t n);
void admin_body_end(struct conn *c);
/* HTTP/2: a call for a stream's request (body appended by the caller to
 * a->body), handed over with admin_submit_call; `reply` runs on the worker
 * with the response unless the stream detached (a->h2st = NULL). */
struct admin_call *admin_new_h2(struct worker *w, const struct http_msg *m,
				const char *client_ip, enum listener_kind kind, void *st,
				void (*reply)(struct admin_call *a));
void admin_submit_call(struct admin_call *a);
/* Frees a call that was never submitted, or marks a submitted one's
 * owner gone. */
void admin_h2_detach(struct admin_call *a);
/* Control thread: runs the queued calls and returns them to workers. */
void admin_control_run(struct front_ctx *fc);

#endif
