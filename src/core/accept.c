/* accept.c - accept4() with a back-off when descriptors run out. */
#define LOG_SUBSYS "accept"
#include "core/accept.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"

static void accept_backoff_fire(struct loop_timer *t)
{
	struct accept_backoff *b = t->data;

	b->watch(b->ctx, true);
}

void accept_backoff_init(struct accept_backoff *b, struct loop *loop,
			 accept_watch_fn *watch, void *ctx, const char *what)
{
	memset(b, 0, sizeof(*b));
	b->loop = loop;
	b->watch = watch;
	b->ctx = ctx;
	b->what = what;
	loop_timer_init(&b->timer, accept_backoff_fire, b);
}

void accept_backoff_fini(struct accept_backoff *b)
{
	if (b->loop)
		loop_timer_disarm(b->loop, &b->timer);
}

void accept_backoff_set(struct loop *loop, struct loop_io *io, bool on)
{
	if (io->active)
		loop_io_mod(loop, io, on ? LOOP_READ : 0);
}

static bool accept_shortage(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/* Turns the listeners off for the next back-off; logs a new shortage.
 * Another listener's event from the same batch while they are off only
 * counts (and turns off a listener added since). */
static void accept_backoff_pause(struct accept_backoff *b, int err)
{
	b->failures++;
	if (accept_backoff_paused(b)) {
		b->watch(b->ctx, false);
		return;
	}
	if (!b->delay) {
		b->delay = ACCEPT_BACKOFF_MIN;
		b->since = loop_now(b->loop);
		log_warn("%s: cannot accept: %s; pausing for %llu ms at a time until an accept succeeds",
			 b->what, strerror(err),
			 (unsigned long long)(ACCEPT_BACKOFF_MIN / NSEC_PER_MSEC));
	} else if (b->delay < ACCEPT_BACKOFF_MAX) {
		b->delay = b->delay * 2 < ACCEPT_BACKOFF_MAX ? b->delay * 2 : ACCEPT_BACKOFF_MAX;
	}
	b->watch(b->ctx, false);
	loop_timer_arm(b->loop, &b->timer, b->delay);
}

/* The listeners answered again (a connection, or an empty backlog). */
static void accept_backoff_recover(struct accept_backoff *b)
{
	uint64_t ms = (loop_now(b->loop) - b->since) / NSEC_PER_MSEC;

	log_info("%s: accepting again after %llu ms (%lu failed attempts)", b->what,
		 (unsigned long long)ms, b->failures);
	b->delay = 0;
	b->failures = 0;
}

int accept_backoff_next(struct accept_backoff *b, int lfd, struct sockaddr *sa,
			socklen_t *salen)
{
	int fd = accept4(lfd, sa, salen, SOCK_NONBLOCK | SOCK_CLOEXEC), err;

	if (fd >= 0) {
		if (b->delay)
			accept_backoff_recover(b);
		return fd;
	}
	err = errno;
	if (accept_shortage(err))
		accept_backoff_pause(b, err);
	else if (err == EAGAIN && b->delay && !accept_backoff_paused(b))
		accept_backoff_recover(b);
	errno = err;
	return -1;
}
