/* webhook.c - SQL for webhooks, their outbox and delivery attempts. */
#define LOG_SUBSYS "store"
#include "store/webhook.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

#define WEBHOOK_COLS "id, name, url, format, events, enabled, allow_private," \
	" COALESCE(prev_secret_until, 0)"

static void store_webhook_row(sqlite3_stmt *st, struct store_webhook *w)
{
	memset(w, 0, sizeof(*w));
	w->id = sqlite3_column_int64(st, 0);
	snprintf(w->name, sizeof(w->name), "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(w->url, sizeof(w->url), "%s", (const char *)sqlite3_column_text(st, 2));
	snprintf(w->format, sizeof(w->format), "%s", (const char *)sqlite3_column_text(st, 3));
	snprintf(w->events, sizeof(w->events), "%s", (const char *)sqlite3_column_text(st, 4));
	w->enabled = sqlite3_column_int(st, 5);
	w->allow_private = sqlite3_column_int(st, 6);
	w->prev_secret_until = sqlite3_column_int64(st, 7);
}

int store_webhook_each_enabled(struct store *s,
			       int (*fn)(void *ctx, const struct store_webhook *w),
			       void *ctx)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT " WEBHOOK_COLS
					 " FROM webhooks WHERE enabled = 1 ORDER BY id");
	struct store_webhook w;
	int rc, r = 0;

	if (!st)
		return -1;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		store_webhook_row(st, &w);
		r = fn(ctx, &w);
	}
	sqlite3_finalize(st);
	return r;
}

int store_webhook_get(struct store *s, int64_t id, struct store_webhook *w)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT " WEBHOOK_COLS
					 " FROM webhooks WHERE id = ?");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_webhook_row(st, w);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -1;
}

int store_outbox_add(struct store *s, int64_t webhook_id, int64_t seq,
		     int64_t now_ms)
{
	return store_exec_i64(s, "INSERT INTO webhook_outbox"
			      "(webhook_id, seq, next_at, created_at) VALUES (?, ?, ?, ?)",
			      (const int64_t[]){ webhook_id, seq, now_ms, now_ms }, 4);
}

int store_outbox_due(struct store *s, int64_t now_ms, struct store_delivery *out,
		     int max)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT o.id, o.webhook_id, o.seq,"
		" o.attempts, o.created_at FROM webhook_outbox o JOIN webhooks w"
		" ON w.id = o.webhook_id WHERE o.state = 'pending' AND o.next_at <= ?"
		" AND w.enabled = 1 ORDER BY o.next_at, o.id LIMIT ?");
	int n = 0, rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int(st, 2, max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		out[n].id = sqlite3_column_int64(st, 0);
		out[n].webhook_id = sqlite3_column_int64(st, 1);
		out[n].seq = sqlite3_column_int64(st, 2);
		out[n].attempts = sqlite3_column_int(st, 3);
		out[n].created_at = sqlite3_column_int64(st, 4);
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

int64_t store_outbox_next_due(struct store *s)
{
	return store_query_int(s, "SELECT COALESCE(MIN(o.next_at), 9223372036854775807)"
		" FROM webhook_outbox o JOIN webhooks w ON w.id = o.webhook_id"
		" WHERE o.state = 'pending' AND w.enabled = 1", INT64_MAX);
}

int64_t store_outbox_depth(struct store *s)
{
	return store_query_int(s, "SELECT count(*) FROM webhook_outbox"
			       " WHERE state = 'pending'", 0);
}

static int store_outbox_step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_outbox_attempt(struct store *s, const struct store_delivery *d,
			 int64_t now_ms, long status, int64_t latency_ms,
			 const char *error, const char *state, int64_t next_at)
{
	sqlite3_stmt *a, *o;
	bool done = strcmp(state, "pending") != 0;

	if (store_begin(s) < 0)
		return -1;
	a = store_prepare(s, "INSERT INTO webhook_attempts(outbox_id, time, status,"
			  " latency_ms, error) VALUES (?, ?, ?, ?, ?)");
	if (!a)
		goto fail;
	sqlite3_bind_int64(a, 1, d->id);
	sqlite3_bind_int64(a, 2, now_ms);
	if (status)
		sqlite3_bind_int64(a, 3, status);
	sqlite3_bind_int64(a, 4, latency_ms);
	store_bind_text(a, 5, error);
	if (store_outbox_step(a) < 0)
		goto fail;
	o = store_prepare(s, "UPDATE webhook_outbox SET attempts = attempts + 1,"
			  " state = ?, next_at = ?, last_status = ?, last_error = ?,"
			  " done_at = ? WHERE id = ? AND state = 'pending'");
	if (!o)
		goto fail;
	sqlite3_bind_text(o, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(o, 2, next_at);
	if (status)
		sqlite3_bind_int64(o, 3, status);
	store_bind_text(o, 4, error);
	if (done)
		sqlite3_bind_int64(o, 5, now_ms);
	sqlite3_bind_int64(o, 6, d->id);
	if (store_outbox_step(o) < 0)
		goto fail;
	return store_commit(s);
fail:
	store_rollback(s);
	return -1;
}

int store_outbox_redeliver(struct store *s, int64_t id, int64_t now_ms,
			   int64_t *webhook_id)
{
	sqlite3_stmt *st = store_prepare(s, "UPDATE webhook_outbox SET state ="
		" 'pending', attempts = 0, next_at = ?, done_at = NULL WHERE id = ?"
		" RETURNING webhook_id");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*webhook_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -1;
}

int store_outbox_prune(struct store *s, int64_t before_ms)
{
	char sql[320];

	snprintf(sql, sizeof(sql),
		 "DELETE FROM webhook_attempts WHERE time < %lld;"
		 "DELETE FROM webhook_outbox WHERE state != 'pending'"
		 " AND done_at < %lld;", (long long)before_ms, (long long)before_ms);
	return store_exec(s, sql, NULL, 0);
}

int store_setting_raw(struct store *s, const char *key, char *out, size_t len)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT value FROM settings WHERE key = ?");
	int rc = -1;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
	    (size_t)sqlite3_column_bytes(st, 0) < len) {
		memcpy(out, sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0) + 1);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}
