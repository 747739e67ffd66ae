/* events.h - events out: webhooks signed per the Standard Webhooks
 * specification, a durable outbox and the delivery worker.
 *
 * Every audit entry is offered to the enabled webhooks whose event filter
 * matches its action (events_outbox_add, the audit log's append hook), in
 * the entry's own transaction: an event is queued exactly when its record
 * commits. The delivery worker (events_worker.c) runs on a thread of its
 * own with its own store connection and sends each queued event at least
 * once, with the same webhook-id on every attempt (receivers
 * de-duplicate), until it is delivered, refused for good or past the
 * retry horizon. docs/webhooks.md describes the wire format. */
#ifndef POSTERN_EVENTS_EVENTS_H
#define POSTERN_EVENTS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "audit/audit.h"
#include "store/webhook.h"

#define EVENTS_SECRET_PREFIX "whsec_"
#define EVENTS_SECRET_BYTES 32
/* "whsec_" + base64 of 32 bytes + NUL */
#define EVENTS_SECRET_LEN (6 + 44 + 1)
#define EVENTS_SCHEDULE_MAX 32
/* The Standard Webhooks schedule: immediately, 5 s, 5 min, 30 min, 2 h,
 * 5 h, 10 h, 14 h, 20 h, 24 h. */
#define EVENTS_SCHEDULE_DEFAULT "0s,5s,5m,30m,2h,5h,10h,14h,20h,24h"
#define EVENTS_HORIZON_DEFAULT_S 86400
#define EVENTS_RETENTION_DEFAULT_S (7 * 86400)
#define EVENTS_TIMEOUT_DEFAULT_S 10
#define EVENTS_BODY_MAX (64u << 10)	/* response bytes read */
/* A "webhook.test" entry goes to its own webhook only, whatever the filter. */
#define EVENTS_TEST_ACTION "webhook.test"

/* --- filters (events_filter.c) --- */
/* Whether `type` matches a filter: patterns separated by commas or
 * spaces, each an exact type, "*", or "prefix.*". */
bool events_filter_match(const char *filter, const char *type);
/* Checks a filter's syntax: NULL when fine, else what is wrong. */
const char *events_filter_check(const char *filter);

/* --- the outbox (events_outbox.c) --- */
/* The audit append hook (struct audit's `appended`): queues entry `e` for
 * every enabled webhook that wants it; `ctx` is the struct store. Inside
 * the entry's transaction. Returns 0 or -1 (the entry rolls back). */
int events_outbox_add(void *ctx, const struct audit_entry *e);

/* --- signing (events_sign.c) --- */
/* A new secret "whsec_" + base64(32 random bytes) into out. Returns 0/-1. */
int events_secret_new(char out[EVENTS_SECRET_LEN]);
/* Appends "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" for secret
 * `whsec` to `out` (space-separated after what is there). Returns 0, or
 * -1 for a malformed secret or no room. */
int events_sign(const char *whsec, const char *msg_id, int64_t ts,
		const void *body, size_t len, char *out, size_t outlen);

/* --- payloads (events_format.c) --- */
/* The message id of entry `e` (stable across attempts and restarts). */
void events_msg_id(const struct audit_entry *e, char out[64]);
/* The body for webhook `w` (its format) about entry `e`; `hub_url` is
 * the hub's public URL or "". For ntfy, *url gets the server's root URL
 * to post to (else a copy of w->url). Returns a malloc'd NUL-terminated
 * body, or NULL. */
char *events_body(const struct store_webhook *w, const struct audit_entry *e,
		  const char *hub_url, char **url);
/* 1 info, 2 warning, 3 critical: from the event type. */
int events_severity(const char *type);

/* --- retries (events_retry.c) --- */
/* Parses "0s,5s,5m,..." into delays in ms. Returns the count (1..max) or -1. */
int events_schedule_parse(const char *s, int64_t *ms, int max);
/* The delay before attempt `n` + 1 (n attempts made, n >= 1), with up to
 * 20% jitter, or -1 when the schedule is exhausted. A Retry-After of
 * `retry_after_ms` (>= 0) is honoured when longer. */
int64_t events_retry_delay(const int64_t *sched, int nsched, int n,
			   int64_t retry_after_ms);

/* --- where it may send (events_addr.c) --- */
#define EVENTS_ADDR_F_PRIVATE (1u << 0)	/* RFC 1918, ULA, CGNAT ranges */
#define EVENTS_ADDR_F_LOOPBACK (1u << 1)	/* 127/8, ::1 (tests, relays) */
/* NULL when a webhook may connect to `sa`, else why not. */
const char *events_addr_refused(unsigned flags, const struct sockaddr *sa,
				socklen_t len);

/* --- the delivery worker (events_worker.c) --- */
struct loop;
struct events_worker;
/* Called on the loop's thread when a receiver answered 410 Gone. */
typedef void events_disable_fn(void *ctx, int64_t webhook_id, const char *why);

struct events_worker_cfg {
	const char *db_path;	/* the store (its own connection) */
	const char *key_path;	/* the secrets key file */
	const char *ca_file;	/* extra trust anchors (tests), or NULL */
	struct loop *loop;	/* where `disable` runs */
	events_disable_fn *disable;
	void *ctx;
};

/* Starts the thread. Returns it, or NULL with a message in err. */
struct events_worker *events_worker_start(const struct events_worker_cfg *cfg,
					  char *err, size_t errlen);
/* Wakes the worker: something was queued (any thread). */
void events_worker_kick(struct events_worker *w);
/* Stops (an attempt in flight finishes or times out) and frees. */
void events_worker_stop(struct events_worker *w);

/* Appends w's webhook metrics (Prometheus text; any thread while w is
 * not stopped): postern_webhook_attempts_total{outcome="delivered|retry|
 * failed"} and the gauge postern_webhook_outbox_depth (pending deliveries,
 * as of the worker's last round); all zero when w is NULL (no worker
 * runs). Returns 0 or -ENOBUFS. */
struct buf;
int events_worker_metrics_render(const struct events_worker *w, struct buf *out);

#endif
