/* front_h2_watch.c - the time limits of an HTTP/2 session's streams.
 *
 * send_timeout: a stream whose ready output waits that long for a window
 * the client keeps closed is reset and its exchange released; a closed
 * connection window ends the session (GOAWAY), and output the socket does
 * not take closes the connection.
 *
 * body_timeout: a stream whose request body stops arriving while the hub
 * waits for it gets a 408 (a RST_STREAM once its response has started),
 * and its exchange is released; the session's other streams go on.
 *
 * One timer per session (`watch`) applies both while it has streams. */
#define LOG_SUBSYS "h2"
#include <stdint.h>

#include "core/log.h"
#include "front/admin.h"
#include "front/front.h"
#include "front/front_h2_int.h"
#include "front/metrics.h"
#include "front/xchg.h"

/* Gives up on a stream whose output the client's stream window holds:
 * RST_STREAM, and its exchange freed now (an unfinished one closes its
 * upstream connection). The stream itself goes when the reset is sent. */
static void h2_stream_stall(struct h2_stream *st)
{
	struct conn *c = st->s->c;

	log_debug("%s: h2: stream %d: window closed for send_timeout", c->ip, (int)st->id);
	metrics_count(c->w->metrics, METRICS_REQ_TIMEOUT);
	st->out_open = false;
	nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
	if (st->x) {
		struct xchg *x = front_h2_take_x(st);
		size_t held = st->resp.len;
		/* What the client got, and why the rest did not go. */
		x->bytes_out -= held < x->bytes_out ? held : x->bytes_out;
		x->error = "send_timeout";
		xchg_free(x);
	}
	front_h2_log_done(st, "send_timeout");
}

/* True while the hub waits for request DATA the client has yet to send:
 * not while the exchange has not taken what came (the upstream is slow,
 * the window closed: not the client's fault). */
static bool h2_stream_awaits_body(const struct h2_stream *st)
{
	if (st->req_end || st->body.len)
		return false;
	return (st->x && !st->req_end_sent) || (st->admin && !st->admin->submitted);
}

/* The request body stalled for body_timeout: 408 while no response has
 * started, else RST_STREAM (CANCEL); the exchange is freed now (its
 * upstream connection closed, its access log line written) and DATA that
 * still comes is dropped. The session's other streams go on. */
static void h2_stream_body_timeout(struct h2_stream *st)
{
	struct conn *c = st->s->c;
	bool started = st->x && st->x->head_done;

	log_debug("%s: h2: stream %d: request body stalled for body_timeout", c->ip,
		  (int)st->id);
	metrics_count(c->w->metrics, METRICS_REQ_TIMEOUT);
	if (st->admin) {
		admin_h2_detach(st->admin);
		st->admin = NULL;
	}
	if (st->x) {
		struct xchg *x = front_h2_take_x(st);
		if (!started)
			x->status = 408;
		xchg_free(x);
	}
	if (!started) {
		front_h2_error(st, 408);
		return;
	}
	st->out_open = false;
	nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
}

/* Applies body_timeout to the session's streams. Returns the earliest
 * time one could time out, or UINT64_MAX. */
static uint64_t h2_body_check(struct h2_session *s)
{
	uint64_t now = h2_now(s), limit = h2_set(s)->body_timeout, next = UINT64_MAX;

	for (struct h2_stream *st = s->streams; st; st = st->next) {
		if (!h2_stream_awaits_body(st))
			continue;
		if (now - st->body_at >= limit)
			h2_stream_body_timeout(st);
		else if (st->body_at + limit < next)
			next = st->body_at + limit;
	}
	return next;
}

/* Applies send_timeout to the session: output the socket does not take
 * closes the connection (no GOAWAY could get through); a connection
 * window kept closed ends the session with GOAWAY; a stream window kept
 * closed resets that stream. Returns when to look again, or 0 when the
 * connection was closed. */
static uint64_t h2_watch_check(struct h2_session *s)
{
	struct conn *c = s->c;
	uint64_t now = h2_now(s), limit = h2_set(s)->send_timeout, next = now + limit;
	bool conn_shut = nghttp2_session_get_remote_window_size(s->ng) <= 0;

	if (c->out.len && now - c->progress_at >= limit) {
		log_debug("%s: h2: no output progress for send_timeout", c->ip);
		metrics_count(c->w->metrics, METRICS_REQ_TIMEOUT);
		conn_close(c);
		return 0;
	}
	if (c->out.len && c->progress_at + limit < next)
		next = c->progress_at + limit;
	for (struct h2_stream *st = s->streams; st; st = st->next) {
		if (!h2_stream_ready(st))
			continue;
		if (now - st->progress_at < limit) {
			if (st->progress_at + limit < next)
				next = st->progress_at + limit;
		} else if (conn_shut) {
			log_debug("%s: h2: connection window closed for send_timeout", c->ip);
			metrics_count(c->w->metrics, METRICS_REQ_TIMEOUT);
			nghttp2_session_terminate_session(s->ng, NGHTTP2_ENHANCE_YOUR_CALM);
			break;
		} else if (nghttp2_session_get_stream_remote_window_size(s->ng, st->id) <= 0) {
			h2_stream_stall(st);
		}
	}
	return next;
}

/* The watch's first check for new streams: the nearer of the two
 * timeouts it applies. */
uint64_t front_h2_watch_first(const struct h2_session *s)
{
	const struct front_settings *set = h2_set(s);

	return set->body_timeout < set->send_timeout ? set->body_timeout : set->send_timeout;
}

void front_h2_watch_fire(struct loop_timer *t)
{
	struct h2_session *s = t->data;
	struct conn *c = s->c;
	uint64_t next;

	conn_enter(c);
	next = h2_watch_check(s);
	if (!c->dead) {
		/* A stream that starts before then is checked in time too. */
		uint64_t body = h2_body_check(s), soon = h2_now(s) + front_h2_watch_first(s);
		if (body < next)
			next = body;
		if (soon < next)
			next = soon;
		/* s is still alive: only conn_close frees it. */
		if (s->nstreams)
			loop_timer_arm_at(c->w->loop, &s->watch, next);
		front_h2_pump(c);
		if (!c->dead)
			conn_update_io(c);
	}
	conn_leave(c);
}
