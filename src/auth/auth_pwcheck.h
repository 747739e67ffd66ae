/* auth_pwcheck.h - password checks (Argon2id) off the caller's thread.
 *
 * One Argon2id verification costs tens of milliseconds of CPU and 19 MiB:
 * run on the control thread, a login flood would stall the control socket
 * and every admin request. A pool of a few threads runs them instead,
 * niced below the hub's other threads, and reports each result back on
 * the owner's loop thread.
 *
 * Bounds: at most `max_queue` checks wait or run at once, and at most one
 * per source (the caller's throttling key for the client address): a
 * second concurrent check from one address is refused, so one address
 * cannot queue ahead of everyone else, and the rightful user behind a
 * flood of N addresses waits for at most N checks. Checks marked `first`
 * (the caller's choice: a source with no failures on record) run before
 * the others, so once a flood's addresses have failed once, a clean
 * client's check overtakes their whole queue.
 *
 * Threads: auth_pwcheck_submit() and the callbacks run on the owner's loop
 * thread only. Without a loop (unit tests, the offline CLI), a pool has no
 * threads and runs each check inline, calling `done` before submit
 * returns. */
#ifndef POSTERN_AUTH_AUTH_PWCHECK_H
#define POSTERN_AUTH_AUTH_PWCHECK_H

#include <stdbool.h>
#include <stddef.h>

struct loop;
struct auth_pwcheck;

#define AUTH_PWCHECK_THREADS 2
#define AUTH_PWCHECK_QUEUE 1024
#define AUTH_PWCHECK_SOURCE 160

enum auth_pw_result {
	AUTH_PW_OK = 0,		/* the password matches */
	AUTH_PW_WRONG,		/* it does not (or there was no such hash) */
	AUTH_PW_ABORTED,	/* the pool stopped before the check ran */
	AUTH_PW_MAX
};

/* Runs on the owner's loop thread with the result; `arg` is the caller's. */
typedef void auth_pwcheck_done_fn(void *arg, enum auth_pw_result r);

/* A pool whose results come back on `loop` (the caller's thread), with
 * `threads` threads and room for `max_queue` checks; loop NULL or threads
 * 0 gives an inline pool. Returns NULL on failure (errno set). */
struct auth_pwcheck *auth_pwcheck_new(struct loop *loop, unsigned threads,
				      unsigned max_queue);
/* Checks `pw` against the PHC-encoded Argon2id hash `encoded` (NULL: no
 * such user, the same work is spent on a dummy hash and the answer is
 * AUTH_PW_WRONG), in the first lane when `first`. The pool copies both
 * (and wipes its copies); `done` runs exactly once when 0 is returned. A
 * NULL pool checks inline.
 * Returns 0, -EBUSY (`source` already has a check in flight), -EAGAIN
 * (the queue is full) or -ENOMEM; `done` is not called on failure. */
int auth_pwcheck_submit(struct auth_pwcheck *p, const char *encoded, const char *pw,
			size_t len, const char *source, bool first,
			auth_pwcheck_done_fn *done, void *arg);
/* Checks waiting or running now (for tests and metrics). */
unsigned auth_pwcheck_inflight(const struct auth_pwcheck *p);
/* Stops the threads (a check that runs finishes first), then reports every
 * check not yet reported as AUTH_PW_ABORTED, on the calling thread (the
 * owner's), and frees the pool. NULL is fine. */
void auth_pwcheck_free(struct auth_pwcheck *p);

#endif
