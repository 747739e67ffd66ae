/* webhook.h - the store's webhook rows: targets, the outbox and delivery
 * attempts (SQL for src/events and src/api/api_webhook.c lives here).
 *
 * Outbox rows are written by events_outbox_add() inside the audit entry's
 * transaction; everything else here runs in the caller's transaction or
 * on its own (the delivery worker's connection). */
#ifndef POSTERN_STORE_WEBHOOK_H
#define POSTERN_STORE_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_WEBHOOK_URL_MAX 2048
#define STORE_WEBHOOK_EVENTS_MAX 1024

struct store_webhook {
	int64_t id;
	char name[65];
	char url[STORE_WEBHOOK_URL_MAX + 1];
	char format[16];	/* json, slack, discord, ntfy */
	char events[STORE_WEBHOOK_EVENTS_MAX + 1];	/* the filter */
	bool enabled;
	bool allow_private;
	int64_t prev_secret_until;	/* ms; 0 = no previous secret */
};

/* One due delivery: the outbox row and the audit entry it carries. */
struct store_delivery {
	int64_t id;		/* outbox row */
	int64_t webhook_id;
	int64_t seq;
	int attempts;		/* made so far */
	int64_t created_at;
};

/* Calls `fn` for each enabled webhook (inside the caller's transaction).
 * Returns 0 or -1. */
int store_webhook_each_enabled(struct store *s,
			       int (*fn)(void *ctx, const struct store_webhook *w),
			       void *ctx);
/* Loads webhook `id`. Returns 0, -ENOENT or -1. */
int store_webhook_get(struct store *s, int64_t id, struct store_webhook *w);
/* Queues audit entry `seq` for webhook `id`, due now. Returns 0 or -1. */
int store_outbox_add(struct store *s, int64_t webhook_id, int64_t seq,
		     int64_t now_ms);
/* Up to `max` pending deliveries due at `now_ms`, oldest first, for
 * enabled webhooks. Returns how many, or -1. */
int store_outbox_due(struct store *s, int64_t now_ms, struct store_delivery *out,
		     int max);
/* When the next pending delivery is due (ms), or INT64_MAX. */
int64_t store_outbox_next_due(struct store *s);
/* Pending deliveries (the metrics' outbox depth). */
int64_t store_outbox_depth(struct store *s);
/* Records one attempt and the outbox row's new state: `state` "pending"
 * (retry at next_at), "delivered" or "failed". `status` 0 = no response.
 * One transaction. Returns 0 or -1. */
int store_outbox_attempt(struct store *s, const struct store_delivery *d,
			 int64_t now_ms, long status, int64_t latency_ms,
			 const char *error, const char *state, int64_t next_at);
/* Makes an outbox row pending again, due now, attempts reset (manual
 * redelivery; caller's transaction). Returns 0, -ENOENT or -1. */
int store_outbox_redeliver(struct store *s, int64_t id, int64_t now_ms,
			   int64_t *webhook_id);
/* Deletes finished outbox rows (and their attempts) and attempts older
 * than `before_ms`. Returns 0 or -1. */
int store_outbox_prune(struct store *s, int64_t before_ms);

/* A setting's stored JSON text (settings table) into out. Returns 0, or
 * -1 when unset or longer than len - 1. */
int store_setting_raw(struct store *s, const char *key, char *out, size_t len);

#endif
