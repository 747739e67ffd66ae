/* lanes.c - the caller plus one worker thread claiming items of a batch.
 *
 * A job is published under the mutex (open, with a new generation); the
 * worker takes it only while it is open and says so (active). The caller,
 * once the claim counter is past the end, closes the job and waits while
 * the worker is active: a worker that wakes late finds the job closed and
 * does nothing, and no item of an old job can be claimed under a new one. */
#include "wg/lanes.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/sync.h"

/* Below this many items one thread does it all: a wakeup costs about as
 * much as sealing a few packets. */
#define WG_LANES_MIN 8

struct wg_lanes {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work, idle;
	/* Under mu. */
	uint64_t gen;
	bool open, active, stop;
	wg_lanes_fn *fn;
	void *ctx;
	unsigned n;
	/* The next unclaimed item of the open job. */
	atomic_uint next;
};

static void wg_lanes_claim(struct wg_lanes *l, wg_lanes_fn *fn, void *ctx,
			   unsigned n, unsigned lane)
{
	unsigned i;

	while ((i = atomic_fetch_add_explicit(&l->next, 1,
					      memory_order_relaxed)) < n)
		fn(ctx, i, lane);
}

static void *wg_lanes_worker(void *arg)
{
	struct wg_lanes *l = arg;
	uint64_t seen = 0;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		while (!l->stop && !(l->open && l->gen != seen))
			pthread_cond_wait(&l->work, &l->mu);
		if (l->stop)
			break;
		wg_lanes_fn *fn = l->fn;
		void *ctx = l->ctx;
		unsigned n = l->n;

		seen = l->gen;
		l->active = true;
		pthread_mutex_unlock(&l->mu);
		wg_lanes_claim(l, fn, ctx, n, 1);
		pthread_mutex_lock(&l->mu);
		l->active = false;
		pthread_cond_signal(&l->idle);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int wg_lanes_new(struct wg_lanes **out)
{
	struct wg_lanes *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->work, NULL);
	pthread_cond_init(&l->idle, NULL);
	atomic_init(&l->next, 0);
	if ((r = pthread_create(&l->thread, NULL, wg_lanes_worker, l)) != 0) {
		pthread_cond_destroy(&l->idle);
		pthread_cond_destroy(&l->work);
		pthread_mutex_destroy(&l->mu);
		free(l);
		return -r;
	}
	*out = l;
	return 0;
}

void wg_lanes_free(struct wg_lanes *l)
{
	if (!l)
		return;
	sync_flag_raise(&l->mu, &l->work, &l->stop);
	pthread_join(l->thread, NULL);
	pthread_cond_destroy(&l->idle);
	pthread_cond_destroy(&l->work);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

void wg_lanes_run(struct wg_lanes *l, unsigned n, wg_lanes_fn *fn, void *ctx)
{
	if (!l || n < WG_LANES_MIN) {
		for (unsigned i = 0; i < n; i++)
			fn(ctx, i, 0);
		return;
	}
	pthread_mutex_lock(&l->mu);
	l->fn = fn;
	l->ctx = ctx;
	l->n = n;
	atomic_store_explicit(&l->next, 0, memory_order_relaxed);
	l->gen++;
	l->open = true;
	pthread_cond_signal(&l->work);
	pthread_mutex_unlock(&l->mu);
	wg_lanes_claim(l, fn, ctx, n, 0);
	pthread_mutex_lock(&l->mu);
	l->open = false;
	while (l->active)
		pthread_cond_wait(&l->idle, &l->mu);
	pthread_mutex_unlock(&l->mu);
}
