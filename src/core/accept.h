/* accept.h - accepting on listeners without spinning when out of
 * descriptors.
 *
 * Listeners are level-triggered: when accept4() fails for want of a file
 * descriptor (EMFILE, ENFILE) or of kernel memory (ENOBUFS, ENOMEM), the
 * connection stays in the backlog and the loop wakes again at once, a busy
 * loop that floods the log. As nginx and HAProxy do, the owner of the
 * listeners stops polling them all for a back-off (ACCEPT_BACKOFF_MIN,
 * doubled while accepts keep failing, up to ACCEPT_BACKOFF_MAX), then
 * polls them again. A shortage is logged once when it starts (warning) and
 * once when it ends (info, with the number of failed attempts), however
 * long it lasts.
 *
 * Ownership: the struct is embedded in the owner's object; the owner
 * calls accept_backoff_fini() before freeing it. */
#ifndef POSTERN_CORE_ACCEPT_H
#define POSTERN_CORE_ACCEPT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/loop.h"

#define ACCEPT_BACKOFF_MIN (100 * NSEC_PER_MSEC)
#define ACCEPT_BACKOFF_MAX (1000 * NSEC_PER_MSEC)

/* Turns read interest on every listener of the owner off (on = false) or
 * back on. */
typedef void accept_watch_fn(void *ctx, bool on);

struct accept_backoff {
	struct loop *loop;
	struct loop_timer timer;	/* armed while the listeners are off */
	accept_watch_fn *watch;
	void *ctx;
	const char *what;		/* names the listeners in the log */
	uint64_t delay;			/* the current back-off; 0: no shortage */
	uint64_t since;			/* loop time the shortage started */
	unsigned long failures;		/* failed accepts in this shortage */
};

void accept_backoff_init(struct accept_backoff *b, struct loop *loop,
			 accept_watch_fn *watch, void *ctx, const char *what);
/* Disarms the timer (the listeners are left as they are). */
void accept_backoff_fini(struct accept_backoff *b);

/* accept4(lfd, sa, salen, SOCK_NONBLOCK | SOCK_CLOEXEC) for the owner of
 * `b`. Returns the new descriptor (the caller owns it), or -1 when the
 * caller must stop accepting for now: the backlog is empty, or a shortage
 * turned the listeners off until the back-off ends (errno tells which).
 * sa may be NULL. */
int accept_backoff_next(struct accept_backoff *b, int lfd, struct sockaddr *sa,
			socklen_t *salen);

/* True while the listeners are off. */
static inline bool accept_backoff_paused(const struct accept_backoff *b)
{
	return loop_timer_armed(&b->timer);
}

/* Applies `on` to a listener's read interest (for watch callbacks). */
void accept_backoff_set(struct loop *loop, struct loop_io *io, bool on);

#endif
