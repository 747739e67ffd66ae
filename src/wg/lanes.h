/* lanes.h - fork-join loops over a batch, on the calling thread and one
 * worker thread: the data path's sealing and opening on a second core.
 *
 * wg_lanes_run(l, n, fn, ctx) calls fn(ctx, i, lane) once for every i in
 * [0, n) and returns when all calls have returned. Items are claimed one
 * at a time from a shared counter by the caller (lane 0) and the worker
 * (lane 1), so a worker that is not scheduled soon only costs the wakeup:
 * the caller takes every item it finds unclaimed, and waits only for an
 * item the worker has already begun. `fn` must be safe to run for
 * different i at once (per-lane state is indexed by `lane`); everything
 * the worker wrote is visible to the caller when wg_lanes_run returns.
 *
 * One caller thread per wg_lanes (the device's loop thread). */
#ifndef POSTERN_WG_LANES_H
#define POSTERN_WG_LANES_H

#define WG_LANES_MAX 2		/* the caller and one worker */

struct wg_lanes;

typedef void wg_lanes_fn(void *ctx, unsigned i, unsigned lane);

/* Starts the worker. Returns 0 with *out set, or -errno. */
int wg_lanes_new(struct wg_lanes **out);
/* Stops and joins the worker; NULL is fine. */
void wg_lanes_free(struct wg_lanes *l);
/* Runs fn for every i in [0, n). With l NULL, or a batch too small to be
 * worth a wakeup, everything runs on the caller as lane 0. */
void wg_lanes_run(struct wg_lanes *l, unsigned n, wg_lanes_fn *fn, void *ctx);

#endif
