/* api_webhook.c - webhooks: targets with a format and an event filter,
 * a whsec_ secret shown once (sealed in `secrets`), rotation with an
 * overlap, test sends, deliveries and redelivery (docs/webhooks.md). */
#define LOG_SUBSYS "api"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_resource.h"
#include "core/log.h"
#include "core/secure.h"
#include "events/events.h"

#define API_WEBHOOK_OVERLAP_DEFAULT 86400

static const char *api_check_webhook_url(const char *s)
{
	const char *host = !strncmp(s, "https://", 8) ? s + 8 :
			   !strncmp(s, "http://", 7) ? s + 7 : NULL;

	if (!host || !*host || *host == '/')
		return "must be an http:// or https:// URL";
	if (strpbrk(s, " \"<>\\^`{|}"))
		return "must not contain spaces or unsafe characters";
	return NULL;
}

static const char *api_check_webhook_format(const char *s)
{
	static const char *const ok[] = { "json", "slack", "discord", "ntfy" };

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (!strcmp(s, ok[i]))
			return NULL;
	return "must be json, slack, discord or ntfy";
}

const char *api_check_schedule(const char *s)
{
	int64_t ms[EVENTS_SCHEDULE_MAX];

	return events_schedule_parse(s, ms, EVENTS_SCHEDULE_MAX) < 0 ?
		"must be up to 32 durations separated by commas (0s,5s,5m,...)" : NULL;
}

static const struct api_field api_webhook_fields[] = {
	{ "name", API_T_STR, API_F_REQUIRED, 1, 64, api_check_name },
	/* Slack and Discord URLs are credentials: never in the audit log. */
	{ "url", API_T_STR, API_F_REQUIRED | API_F_NOAUDIT, 1, STORE_WEBHOOK_URL_MAX,
	  api_check_webhook_url },
	{ "format", API_T_STR, 0, 1, 16, api_check_webhook_format },
	{ "events", API_T_STR, 0, 1, STORE_WEBHOOK_EVENTS_MAX, events_filter_check },
	{ "enabled", API_T_BOOL, 0, 0, 0, NULL },
	{ "allow_private", API_T_BOOL, 0, 0, 0, NULL },
	{ "disabled_reason", API_T_STR, API_F_READONLY | API_F_NULL, 0, 0, NULL },
	{ "prev_secret_until", API_T_INT, API_F_READONLY | API_F_NULL, 0, 0, NULL },
};

static const char *api_webhook_str(const json_t *row, const char *name)
{
	return json_string_value(json_object_get(row, name));
}

/* ntfy needs a topic (the URL's last segment); enabling clears the
 * reason it was disabled. */
static int api_webhook_prepare(struct api_ctx *c, json_t *row, const json_t *old)
{
	const char *fmt = api_webhook_str(row, "format"), *url = api_webhook_str(row, "url");
	const char *topic = url ? strrchr(url, '/') : NULL;

	if (fmt && !strcmp(fmt, "ntfy") &&
	    (!topic || topic - url < 9 || !topic[1] ||
	     strspn(topic + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_") != strlen(topic + 1) || strlen(topic + 1) > 64)) {
		api_reply_error(c, 400, "invalid", "url", "url: a ntfy URL ends in "
				"its topic (https://ntfy.example/TOPIC)");
		return -1;
	}
	if (old && json_is_true(json_object_get(c->body, "enabled")))
		json_object_set_new(row, "disabled_reason", json_null());
	return 0;
}

/* Puts a new secret for webhook `id` and keeps it in c->reveal. */
static int api_webhook_new_secret(struct api_ctx *c, int64_t id)
{
	char sec[EVENTS_SECRET_LEN];
	int rc = -1;

	if (events_secret_new(sec) == 0 &&
	    secret_put(&c->api->store, &c->api->keys, "webhook", id, "secret", sec,
		       strlen(sec)) == 0 && (c->reveal = strdup(sec))) {
		c->reveal_as = "secret";
		rc = 0;
	}
	secure_wipe(sec, sizeof(sec));
	if (rc < 0)
		api_reply_error(c, 500, "internal", NULL, "internal error");
	return rc;
}

static int api_webhook_written(struct api_ctx *c, int64_t id, const json_t *row,
			       const json_t *old)
{
	(void)row;
	return old ? 0 : api_webhook_new_secret(c, id);
}

static int api_webhook_deleting(struct api_ctx *c, const json_t *old)
{
	if (secret_delete(&c->api->store, "webhook", c->id, NULL) < 0) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return -1;
	}
	(void)old;
	return 0;
}

const struct api_resource api_webhook_res = {
	API_RES_TABLE("webhook", "webhooks", api_webhook_fields),
	.prepare = api_webhook_prepare,
	.written = api_webhook_written,
	.deleting = api_webhook_deleting,
};

/* Inside a transaction: whether webhook c->id exists (and is enabled);
 * replies 404 / 409 otherwise. */
static int api_webhook_exists(struct api_ctx *c, bool need_enabled)
{
	struct store_webhook w;
	int rc = store_webhook_get(&c->api->store, c->id, &w);

	if (rc == -ENOENT)
		api_reply_error(c, 404, "not_found", NULL, "no webhook %lld", (long long)c->id);
	else if (rc < 0)
		api_reply_error(c, 500, "internal", NULL, "internal error");
	else if (need_enabled && !w.enabled)
		api_reply_error(c, 409, "disabled", "enabled", "the webhook is disabled");
	else
		return 0;
	return -1;
}

/* A test event is an audit entry like any other, which the outbox hook
 * queues for this webhook only. */
void api_webhook_test(struct api_ctx *c)
{
	char object[48];
	int64_t seq;

	if ((seq = api_tx_begin(c)) < 0)
		return;
	if (api_webhook_exists(c, true) < 0) {
		api_tx_abort(c);
		return;
	}
	snprintf(object, sizeof(object), "webhook:%lld", (long long)c->id);
	if (api_tx_commit(c, seq, EVENTS_TEST_ACTION, object, "", "") == 0)
		api_reply_json(c, 202, json_pack("{s:I}", "seq", (json_int_t)seq));
}

static int api_webhook_set_prev(struct api_ctx *c, int64_t seq, int64_t until)
{
	return store_exec_i64(&c->api->store, "UPDATE webhooks SET"
			      " prev_secret_until = ?, rev = ? WHERE id = ?",
			      (const int64_t[]){ until, seq, c->id }, 3);
}

/* The current secret becomes the previous one, which keeps signing (a
 * second v1 signature) for `overlap` seconds while receivers switch. */
void api_webhook_rotate(struct api_ctx *c)
{
	static const char *const allowed[] = { "overlap", NULL };
	json_t *ov = json_object_get(c->body, "overlap");
	int64_t overlap = API_WEBHOOK_OVERLAP_DEFAULT, seq, until;
	uint8_t *old = NULL;
	size_t olen = 0;
	char object[48], after[64];

	if (api_body_only(c, allowed) < 0)
		return;
	if (ov && (!json_is_integer(ov) || json_integer_value(ov) < 0 ||
		   json_integer_value(ov) > 30 * 86400)) {
		api_reply_error(c, 400, "invalid", "overlap", "overlap: must be seconds "
				"from 0 to %d", 30 * 86400);
		return;
	}
	if (ov)
		overlap = json_integer_value(ov);
	if ((seq = api_tx_begin(c)) < 0)
		return;
	until = store_now_ms() + overlap * 1000;
	if (api_webhook_exists(c, false) < 0)
		goto fail;
	if (secret_get(&c->api->store, &c->api->keys, "webhook", c->id, "secret",
		       &old, &olen) < 0 ||
	    secret_put(&c->api->store, &c->api->keys, "webhook", c->id, "secret_prev",
		       old, olen) < 0 || api_webhook_set_prev(c, seq, until) < 0) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		goto fail;
	}
	if (api_webhook_new_secret(c, c->id) < 0)
		goto fail;
	secure_free(old, olen + 1);
	snprintf(object, sizeof(object), "webhook:%lld", (long long)c->id);
	snprintf(after, sizeof(after), "{\"prev_secret_until\":%lld}", (long long)until);
	if (api_tx_commit(c, seq, "webhook.rotate_secret", object, "", after) == 0) {
		api_reply_etag(c, seq);
		api_reply_json(c, 200, json_pack("{s:s,s:I}", "secret", c->reveal,
				"prev_secret_until", (json_int_t)until));
	}
	return;
fail:
	if (old)
		secure_free(old, olen + 1);
	api_tx_abort(c);
}

/* The attempts of one outbox row, oldest first. */
static json_t *api_webhook_attempts(struct api_ctx *c, int64_t outbox_id)
{
	sqlite3_stmt *st = store_prepare(&c->api->store, "SELECT time, status,"
		" latency_ms, error FROM webhook_attempts WHERE outbox_id = ? ORDER BY id");
	json_t *a = json_array();

	if (!st)
		return a;
	sqlite3_bind_int64(st, 1, outbox_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *o = json_pack("{s:I,s:I}", "time", (json_int_t)sqlite3_column_int64(st, 0),
				      "latency_ms", (json_int_t)sqlite3_column_int64(st, 2));
		json_object_set_new(o, "status", sqlite3_column_type(st, 1) == SQLITE_NULL ?
				    json_null() : json_integer(sqlite3_column_int64(st, 1)));
		json_object_set_new(o, "error", sqlite3_column_type(st, 3) == SQLITE_NULL ?
				    json_null() : json_string((const char *)sqlite3_column_text(st, 3)));
		json_array_append_new(a, o);
	}
	sqlite3_finalize(st);
	return a;
}

/* Newest first; ?after=ID continues below that id. */
void api_webhook_deliveries(struct api_ctx *c)
{
	sqlite3_stmt *st;
	json_t *items;
	int64_t limit, after, last = 0;
	int n = 0, rc = SQLITE_DONE;

	if (api_query_page(c, &limit, &after) < 0)
		return;
	if (store_webhook_get(&c->api->store, c->id, &(struct store_webhook){ 0 }) < 0) {
		api_reply_error(c, 404, "not_found", NULL, "no webhook %lld", (long long)c->id);
		return;
	}
	st = api_prepare(c, "SELECT id, seq, state, attempts, next_at, created_at, done_at"
			 " FROM webhook_outbox WHERE webhook_id = ? AND id < ?"
			 " ORDER BY id DESC LIMIT ?");
	if (!st)
		return;
	items = json_array();
	sqlite3_bind_int64(st, 1, c->id);
	sqlite3_bind_int64(st, 2, after ? after : INT64_MAX);
	sqlite3_bind_int64(st, 3, limit + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n++ < limit) {
		last = sqlite3_column_int64(st, 0);
		json_t *o = json_pack("{s:I,s:I,s:s,s:I,s:I,s:I}", "id", (json_int_t)last,
			"seq", (json_int_t)sqlite3_column_int64(st, 1),
			"state", (const char *)sqlite3_column_text(st, 2),
			"attempts", (json_int_t)sqlite3_column_int64(st, 3),
			"next_at", (json_int_t)sqlite3_column_int64(st, 4),
			"created_at", (json_int_t)sqlite3_column_int64(st, 5));
		json_object_set_new(o, "done_at", sqlite3_column_type(st, 6) == SQLITE_NULL ?
				    json_null() : json_integer(sqlite3_column_int64(st, 6)));
		json_object_set_new(o, "attempt_log", api_webhook_attempts(c, last));
		json_array_append_new(items, o);
	}
	sqlite3_finalize(st);
	api_reply_json(c, 200, json_pack("{s:o,s:o}", "items", items, "next",
					 rc == SQLITE_ROW ? json_integer(last) : json_null()));
}

void api_webhook_redeliver(struct api_ctx *c)
{
	char object[48], after[64];
	int64_t seq, webhook_id = 0;
	int rc;

	if ((seq = api_tx_begin(c)) < 0)
		return;
	rc = store_outbox_redeliver(&c->api->store, c->id, store_now_ms(), &webhook_id);
	if (rc < 0) {
		if (rc == -ENOENT)
			api_reply_error(c, 404, "not_found", NULL, "no delivery %lld",
					(long long)c->id);
		else
			api_reply_error(c, 500, "internal", NULL, "internal error");
		api_tx_abort(c);
		return;
	}
	snprintf(object, sizeof(object), "webhook:%lld", (long long)webhook_id);
	snprintf(after, sizeof(after), "{\"delivery\":%lld}", (long long)c->id);
	if (api_tx_commit(c, seq, "webhook.redeliver", object, "", after) == 0)
		api_reply_json(c, 202, json_pack("{s:I}", "id", (json_int_t)c->id));
}

/* On the control thread: a receiver answered 410; the webhook is
 * disabled with an audit entry by "system". */
static void api_webhook_gone(void *ctx, int64_t id, const char *why)
{
	struct api *api = ctx;
	char object[48], after[256];
	struct audit_event ev = { "system", "", "webhook.disable", object, "", after };
	sqlite3_stmt *st;
	int64_t seq;
	int rc = -1;

	snprintf(object, sizeof(object), "webhook:%lld", (long long)id);
	snprintf(after, sizeof(after), "{\"disabled_reason\":\"%s\",\"enabled\":false}", why);
	if (store_begin(&api->store) < 0)
		return;
	seq = audit_next_seq(&api->audit);
	st = seq > 0 ? store_prepare(&api->store, "UPDATE webhooks SET enabled = 0,"
		" disabled_reason = ?, rev = ? WHERE id = ? AND enabled = 1") : NULL;
	if (st) {
		sqlite3_bind_text(st, 1, why, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, seq);
		sqlite3_bind_int64(st, 3, id);
		rc = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(api->store.db) == 1 ? 0 : 1;
		sqlite3_finalize(st);
	}
	if (rc != 0 || audit_append(&api->audit, (uint64_t)seq, &ev) < 0 ||
	    store_commit(&api->store) < 0) {
		store_rollback(&api->store);
		return;
	}
	log_warn("webhook %lld disabled: %s", (long long)id, why);
	audit_checkpoint(&api->audit, false);
	events_worker_kick(api->events);
}

int api_events_start(struct api *api, struct loop *loop, const char *ca_file)
{
	struct events_worker_cfg cfg = {
		.db_path = sqlite3_db_filename(api->store.db, "main"),
		.key_path = api->keys.path, .ca_file = ca_file, .loop = loop,
		.disable = api_webhook_gone, .ctx = api,
	};
	char err[256] = "";

	api->events = events_worker_start(&cfg, err, sizeof(err));
	if (!api->events) {
		log_err("webhook delivery: %s", err);
		return -1;
	}
	return 0;
}

void api_events_stop(struct api *api)
{
	events_worker_stop(api->events);
	api->events = NULL;
}
