/* api_audit.c - reading and verifying the audit log, and rotating the
 * secrets key (an operation whose whole point is its audit entry). */
#include <stdio.h>
#include <string.h>

#include "api/api_handlers.h"
#include "audit/audit_verify.h"
#include "core/enc.h"

/* A summary column as JSON when it is JSON, else as a string. */
static json_t *api_audit_summary(const char *s)
{
	json_t *v;

	if (!*s)
		return json_null();
	v = json_loads(s, JSON_DECODE_ANY, NULL);
	return v ? v : json_string(s);
}

static json_t *api_audit_entry(const struct audit_entry *e)
{
	char hash[HEX_LEN(AUDIT_HASH_LEN)];

	enc_hex_encode(hash, e->hash, AUDIT_HASH_LEN);
	return json_pack("{s:I,s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:s}",
		"seq", (json_int_t)e->seq, "time", (json_int_t)e->time_ms,
		"actor", e->ev.actor, "source", e->ev.source, "action", e->ev.action,
		"object", e->ev.object, "before", api_audit_summary(e->ev.before),
		"after", api_audit_summary(e->ev.after), "hash", hash);
}

void api_audit_list(struct api_ctx *c)
{
	int64_t limit, after, last = 0;
	struct audit_entry e;
	sqlite3_stmt *st;
	json_t *items;
	int rc, n = 0;

	if (api_query_page(c, &limit, &after) < 0)
		return;
	st = api_prepare(c, "SELECT " AUDIT_ENTRY_COLUMNS
			 " FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?");
	if (!st)
		return;
	items = json_array();
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, limit + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n++ < limit) {
		last = sqlite3_column_int64(st, 0);
		if (audit_entry_from_row(st, &e) == 0)
			json_array_append_new(items, api_audit_entry(&e));
		else	/* shown as it is; verification names it */
			json_array_append_new(items, json_pack("{s:I,s:s}", "seq",
				(json_int_t)last, "error", "malformed row"));
	}
	sqlite3_finalize(st);
	api_reply_json(c, 200, json_pack("{s:o,s:o}", "items", items, "next",
					 rc == SQLITE_ROW ? json_integer(last) : json_null()));
}

void api_audit_verify(struct api_ctx *c)
{
	struct audit_verify_result r;
	struct audit *a = &c->api->audit;

	if (audit_verify(&c->api->store, &a->key, a->head_path, &r) < 0) {
		api_reply_error(c, 500, "internal", NULL, "%s", r.message);
		return;
	}
	api_reply_json(c, 200, json_pack("{s:b,s:I,s:I,s:I,s:o,s:I,s:s,s:s,s:s}",
		"ok", r.ok, "entries", (json_int_t)r.entries,
		"checkpoints", (json_int_t)r.checkpoints,
		"signed_seq", (json_int_t)r.signed_seq,
		"bad_seq", r.ok ? json_null() : json_integer((json_int_t)r.bad_seq),
		"head_resets", (json_int_t)r.head_resets, "message", r.message,
		"key_id", a->key.id, "key_fingerprint", a->key.fingerprint));
}

void api_secret_rotate(struct api_ctx *c)
{
	struct secret_keyring *kr = &c->api->keys;
	char err[256], after[128];
	int64_t seq;
	int n;

	if (secret_rotate_prepare(kr, err, sizeof(err)) < 0) {
		api_reply_error(c, 500, "internal", NULL, "cannot write the new key");
		return;
	}
	if ((seq = api_tx_begin(c)) < 0) {
		secret_rotate_abort(kr);
		return;
	}
	if ((n = secret_rotate_reseal(kr, &c->api->store)) < 0) {
		api_tx_abort(c);
		secret_rotate_abort(kr);
		api_reply_error(c, 500, "internal", NULL, "a secret could not be "
				"opened; nothing changed (see the hub's log)");
		return;
	}
	snprintf(after, sizeof(after), "{\"key_id\":\"%s\",\"resealed\":%d}",
		 kr->next.id, n);
	if (api_tx_commit(c, seq, "secrets.rotate_key", "secrets", "", after) < 0) {
		secret_rotate_abort(kr);
		return;
	}
	if (secret_rotate_finish(kr, err, sizeof(err)) < 0) {
		/* Committed: the next start completes the rename. */
		api_reply_error(c, 500, "internal", NULL, "resealed, but the key file "
				"could not be replaced yet; restart the hub");
		return;
	}
	api_reply_json(c, 200, json_pack("{s:s,s:i}", "key_id", kr->cur.id,
					 "resealed", n));
}
