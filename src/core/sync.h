/* sync.h - waking a thread that waits on a condition for a flag.
 *
 * The worker threads (core/workq for ACME, passwords and the resolver;
 * webhook delivery; WireGuard lanes) wait on a condition variable under
 * their mutex until a flag says there is work or they are to stop; this
 * is the one way to raise such a flag. */
#ifndef POSTERN_CORE_SYNC_H
#define POSTERN_CORE_SYNC_H

#include <pthread.h>
#include <stdbool.h>

/* Sets *flag under mu and wakes every thread waiting on cv, so a waiter
 * that rechecks the flag under mu cannot miss it. mu must not be held by
 * the caller. */
static inline void sync_flag_raise(pthread_mutex_t *mu, pthread_cond_t *cv,
				   bool *flag)
{
	pthread_mutex_lock(mu);
	*flag = true;
	pthread_cond_broadcast(cv);
	pthread_mutex_unlock(mu);
}

#endif
