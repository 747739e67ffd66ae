/* front_h2_int.h - the HTTP/2 session and stream (internal to
 * front_h2.c, which runs them, and front_h2_watch.c, which times them). */
#ifndef POSTERN_FRONT_FRONT_H2_INT_H
#define POSTERN_FRONT_FRONT_H2_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <nghttp2/nghttp2.h>

#include "core/buf.h"
#include "core/loop.h"
#include "http/parse.h"
#include "front/conn.h"
#include "front/snap.h"
#include "front/worker.h"
#include "front/xchg.h"

#define H2_STREAM_BUF (128u << 10)
#define H2_WINDOW (256u << 10)
#define H2_MAX_STREAMS 128
/* Streams a client resets mid-exchange that get an access-log line each,
 * per connection; the rest are counted and summed up in one daemon log
 * line when the connection ends (a rapid-reset flood would otherwise
 * write a line per stream). */
#define H2_RESETS_LOGGED 32
/* What a stream buffers of its response while the client's window (the
 * stream's or the connection's) is closed: then its upstream is not read
 * further, so a client that never opens its windows pins this much per
 * stream, not the whole response. */
#define H2_PARK (16u << 10)
/* What one session buffers of its streams' responses together. */
#define H2_SESSION_BUF (1u << 20)
/* A paused exchange resumes once its stream has this much room. */
#define H2_RESUME_MIN (8u << 10)

struct h2_session;

struct h2_stream {
	int32_t id;
	struct h2_session *s;
	struct h2_stream *next;		/* the session's list */
	struct xchg *x;
	/* A finished exchange whose access-log line waits until its last
	 * bytes left for the client (h2_stream_delivered), so a stream cut
	 * by send_timeout or a reset logs what the client got, not what the
	 * upstream sent. */
	struct xchg *xdone;
	struct http_msg msg;
	/* The header block's names and values: max_header_bytes, the
	 * header list size the session advertises, reserved once (the
	 * fields are views into it, so it never moves). */
	struct buf arena;
	struct str scheme;
	bool bad;			/* a header the request may not carry */
	bool too_big;			/* over max_header_bytes or max_headers: 431 */
	bool cl_seen;
	struct buf body;		/* request DATA the exchange has not taken */
	bool req_end;			/* END_STREAM seen */
	bool req_end_sent;
	uint64_t body_at;		/* request DATA arrived or was taken */
	struct buf resp;		/* response bytes for DATA frames */
	bool resp_eof;
	bool out_open;			/* a DATA source that has not ended */
	uint64_t progress_at;		/* output moved or became ready */
	char *trailers;			/* "Name: value\r\n" lines to send after
					 * the DATA (owned), or NULL */
	size_t trailers_len;
	bool deferred;			/* the DATA source is waiting */
	/* The exchange holds one of the session's h2_upstream_streams slots
	 * (and one of the address's). */
	bool slot;
	/* Waiting for a slot (only streams without a request body wait):
	 * the exchange to start is described by rq (its views point into
	 * this stream and its connection), route and hold (a snapshot
	 * reference the stream owns while it waits). */
	bool waiting;
	struct xchg_req rq;
	/* rq.set_cookie's copy (owned, wiped when freed), or NULL: the
	 * pipeline's decision it came from is gone while the stream waits. */
	char *set_cookie;
	const struct route *route;
	struct snap_hold *hold;
	struct admin_call *admin;	/* an admin request on this stream */
	char *abody;			/* the admin response body (owned) */
	const char *errbody;		/* our own page, or the admin body */
	size_t errlen, erroff;
	char errpage[160];
};

struct h2_session {
	nghttp2_session *ng;
	struct conn *c;
	/* Exchange callbacks run inside the exchange's own processing, so
	 * they only note work; this zero-delay timer sends it afterwards. */
	struct loop_timer kick;
	struct loop_timer watch;	/* send_timeout checks while streams live */
	struct h2_stream *streams;
	unsigned nstreams;
	unsigned resets;		/* client resets of streams in flight */
	unsigned nup;			/* streams holding a slot */
	unsigned nwait;			/* streams waiting for one */
	size_t resp_total;		/* response bytes buffered, all streams */
	bool rescan;			/* room may have appeared: see h2_resume */
	bool goaway;
	bool freeing;
};

static inline const struct front_settings *h2_set(const struct h2_session *s)
{
	return &s->c->w->hold->snap->set;
}

static inline uint64_t h2_now(const struct h2_session *s)
{
	return loop_now(s->c->w->loop);
}

/* The stream's output moved, or has just become ready to move: its
 * send_timeout starts over. */
static inline void h2_stream_touch(struct h2_stream *st)
{
	st->progress_at = h2_now(st->s);
}

/* True when the stream has body bytes (or the body's end) ready for DATA
 * frames that have not gone out. */
static inline bool h2_stream_ready(const struct h2_stream *st)
{
	if (!st->out_open)
		return false;
	return st->errbody || st->resp.len > 0 || st->resp_eof;
}

/* front_h2.c: writes the access-log line of the stream's finished
 * exchange, if one waits (`why`: NULL, or why its last bytes never left). */
void front_h2_log_done(struct h2_stream *st, const char *why);

/* front_h2.c: answers the stream with the hub's own page for `status`. */
void front_h2_error(struct h2_stream *st, int status);
/* Exchange callbacks run inside the exchange's own processing, so they
 * only note work: the session's zero-delay `kick` sends it afterwards. */
static inline void h2_kick(struct h2_session *s)
{
	if (!loop_timer_armed(&s->kick))
		loop_timer_arm(s->c->w->loop, &s->kick, 0);
}

/* front_h2.c: the exchange callbacks of a stream; pushes the request DATA
 * the stream holds to its exchange. */
extern const struct xchg_ops front_h2_xchg_ops;
void front_h2_push_body(struct h2_stream *st);

/* front_h2_up.c: slots and response buffers.
 * front_h2_proxy queues the exchange for `rq` along `route` (the stream
 * keeps a snapshot reference while it waits) and starts what the slots
 * allow; front_h2_dequeue starts (or refuses) waiting streams while slots
 * are free; front_h2_take_x detaches st's exchange (NULL if none) and
 * gives its slot back, waking a waiting stream (the caller frees the
 * exchange); front_h2_room is how many more response bytes st may
 * buffer; front_h2_resume resumes paused exchanges that have room again
 * (when `rescan` says room may have come back). */
void front_h2_proxy(struct h2_stream *st, const struct route *route,
		    const struct xchg_req *rq);
void front_h2_dequeue(struct h2_session *s);
struct xchg *front_h2_take_x(struct h2_stream *st);
size_t front_h2_room(const struct h2_stream *st);
void front_h2_resume(struct h2_session *s);

/* front_h2_watch.c: send_timeout and body_timeout. The session's `watch`
 * timer runs front_h2_watch_fire; front_h2_pump arms it, while the session
 * has streams, front_h2_watch_first() from now. */
void front_h2_watch_fire(struct loop_timer *t);
uint64_t front_h2_watch_first(const struct h2_session *s);

/* front_h2.c: sends what the session has pending (front_h2_proto.pump). */
void front_h2_pump(struct conn *c);

#endif
