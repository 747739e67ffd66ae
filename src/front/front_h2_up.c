/* front_h2_up.c - what an HTTP/2 session's streams may hold upstream.
 *
 * Slots: a stream's exchange (its upstream connection) needs one of the
 * connection's h2_upstream_streams slots and one of its client address's
 * h2_upstream_streams_per_ip; streams without one wait, oldest first, or
 * are refused when nothing of their own connection could free one.
 * Buffers: what a stream may buffer of its response depends on the
 * client's window (H2_PARK while closed) and the session's total
 * (H2_SESSION_BUF); exchanges paused for room resume when it comes back.
 * docs/front.md, "Streams the client does not read". */
#define LOG_SUBSYS "h2"
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "core/log.h"
#include "front/front_h2_int.h"
#include "front/front_ctx.h"
#include "front/snap.h"
#include "front/xchg.h"

/* ---- upstream slots: h2_upstream_streams per connection, and
 * h2_upstream_streams_per_ip per client address ---- */

/* Takes a slot for st. Returns 0 (taken), 1 (none free now: wait for one
 * of the session's own exchanges to end) or -1 (refuse: the address has
 * none and this connection runs no exchange that could free one).
 * A stream with a request body never waits: the DATA it would hold
 * un-acknowledged meanwhile would close the connection's window to the
 * uploads that run, which then could not finish and free a slot. It
 * starts beyond h2_upstream_streams (its memory is bounded by that
 * window) while the address has a slot, else it is refused. */
static int h2_slot_get(struct h2_stream *st)
{
	struct h2_session *s = st->s;
	struct conn *c = s->c;
	const struct front_settings *set = h2_set(s);
	bool body = st->rq.body != HTTP_BODY_NONE;

	if (s->nup >= set->h2_up_per_conn && !body)
		return 1;
	if (!front_h2_up_admit(c->w->fc, c->ip_hash, set->h2_up_per_ip))
		return s->nup && !body ? 1 : -1;
	st->slot = true;
	s->nup++;
	return 0;
}

struct xchg *front_h2_take_x(struct h2_stream *st)
{
	struct h2_session *s = st->s;
	struct xchg *x = st->x;

	st->x = NULL;
	if (st->slot) {
		st->slot = false;
		s->nup--;
		front_h2_up_release(s->c->w->fc, s->c->ip_hash);
		if (s->nwait && !s->freeing)
			h2_kick(s);
	}
	return x;
}

/* The waiting stream with the lowest id (the oldest), or NULL. */
static struct h2_stream *h2_oldest_waiting(struct h2_session *s)
{
	struct h2_stream *best = NULL;

	for (struct h2_stream *st = s->streams; st; st = st->next)
		if (st->waiting && (!best || st->id < best->id))
			best = st;
	return best;
}

/* Starts the exchange of a stream that got its slot. */
static void h2_stream_launch(struct h2_stream *st)
{
	struct conn *c = st->s->c;
	int status;

	st->waiting = false;
	st->s->nwait--;
	st->x = xchg_start(c->w, st->hold, st->route, &st->rq, &front_h2_xchg_ops, st, &status);
	snap_hold_put(st->hold);
	st->hold = NULL;
	if (!st->x) {
		front_h2_take_x(st);
		front_h2_error(st, status);
		return;
	}
	front_h2_push_body(st);
}

/* Starts waiting streams, oldest first, while slots are free; refuses
 * those that cannot get one (REFUSED_STREAM: the client may retry them,
 * RFC 9113 section 8.7). */
void front_h2_dequeue(struct h2_session *s)
{
	struct h2_stream *st;
	int r;

	while (s->nwait && (st = h2_oldest_waiting(s))) {
		r = h2_slot_get(st);
		if (r > 0)
			return;
		if (r == 0) {
			h2_stream_launch(st);
			continue;
		}
		log_debug("%s: h2: stream %d: address over h2_upstream_streams_per_ip: refused",
			  s->c->ip, (int)st->id);
		st->waiting = false;
		s->nwait--;
		snap_hold_put(st->hold);
		st->hold = NULL;
		nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id,
					  NGHTTP2_REFUSED_STREAM);
	}
}

/* Queues the exchange for `rq` along `route` behind the session's other
 * waiting streams and starts what the slots allow. */
void front_h2_proxy(struct h2_stream *st, const struct route *route,
		    const struct xchg_req *rq)
{
	struct h2_session *s = st->s;

	st->rq = *rq;
	if (rq->set_cookie && rq->set_cookie[0])
		st->set_cookie = strdup(rq->set_cookie);	/* NULL: no refresh */
	st->rq.set_cookie = st->set_cookie;
	st->route = route;
	st->hold = s->c->w->hold;
	snap_hold_get(st->hold);
	st->waiting = true;
	s->nwait++;
	front_h2_dequeue(s);
}

/* ---- response buffering ---- */

/* True when the client's window for st (the stream's or the
 * connection's) is closed. */
static bool h2_stream_shut(const struct h2_stream *st)
{
	nghttp2_session *ng = st->s->ng;

	return nghttp2_session_get_stream_remote_window_size(ng, st->id) <= 0 ||
	       nghttp2_session_get_remote_window_size(ng) <= 0;
}

/* How many more response bytes st may buffer: up to H2_STREAM_BUF while
 * the client's window is open, H2_PARK while it is closed, and within
 * what is left of the session's H2_SESSION_BUF. */
size_t front_h2_room(const struct h2_stream *st)
{
	size_t cap = h2_stream_shut(st) ? H2_PARK : H2_STREAM_BUF;
	size_t room = cap > st->resp.len ? cap - st->resp.len : 0;
	size_t left = H2_SESSION_BUF > st->s->resp_total ? H2_SESSION_BUF - st->s->resp_total : 0;

	return room < left ? room : left;
}

/* ---- responses ---- */

/* Resumes paused exchanges whose streams have room again (their own
 * buffer drained, the session's budget freed, a window opened). An
 * exchange's callbacks free no stream, so the list holds still. */
void front_h2_resume(struct h2_session *s)
{
	if (!s->rescan)
		return;
	s->rescan = false;
	for (struct h2_stream *st = s->streams; st; st = st->next)
		if (st->x && st->x->resp_paused && front_h2_room(st) >= H2_RESUME_MIN)
			xchg_resp_resume(st->x);
}
