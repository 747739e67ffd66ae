/* audit_verify.c - walking the chain, the checkpoints and the head record. */
#include "audit/audit_verify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/array.h"
#include "core/compiler.h"

struct verify {
	struct store *s;
	const struct audit_key *pub;
	struct audit_verify_result *r;
	struct audit_checkpoint *ck;	/* the store's checkpoints, by seq */
	size_t nck, next_ck;
	uint64_t prev_ck_seq;		/* newest checkpoint checked */
	struct audit_checkpoint head;	/* the head record, if read */
	bool have_head;
	bool head_seen;			/* the entry it names matched */
};

static void PRINTF_LIKE(3, 4) verify_fail(struct verify *v, uint64_t seq,
					  const char *fmt, ...)
{
	va_list ap;

	v->r->ok = false;
	v->r->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(v->r->message, sizeof(v->r->message), fmt, ap);
	va_end(ap);
}

/* "2025-01-02T03:04:05Z" */
static const char *verify_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld ms", (long long)ms);
	return buf;
}

static int verify_load_checkpoints(struct verify *v)
{
	sqlite3_stmt *st = store_prepare(v->s, "SELECT seq, head_hash, time_ms,"
		" key_id, signature FROM audit_checkpoints ORDER BY seq");
	size_t cap = 0;
	int rc;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_checkpoint *c;
		const char *id = (const char *)sqlite3_column_text(st, 3);
		if (array_grow((void **)&v->ck, v->nck, &cap, sizeof(*v->ck)) < 0)
			break;
		c = &v->ck[v->nck++];
		memset(c, 0, sizeof(*c));
		c->seq = (uint64_t)sqlite3_column_int64(st, 0);
		c->time_ms = sqlite3_column_int64(st, 2);
		snprintf(c->key_id, sizeof(c->key_id), "%s", id ? id : "");
		/* A malformed row keeps zeros and fails its signature check. */
		if (sqlite3_column_bytes(st, 1) == AUDIT_HASH_LEN)
			memcpy(c->head, sqlite3_column_blob(st, 1), AUDIT_HASH_LEN);
		if (sqlite3_column_bytes(st, 4) == AUDIT_SIG_LEN)
			memcpy(c->sig, sqlite3_column_blob(st, 4), AUDIT_SIG_LEN);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Checks the next checkpoints that cover `seq`, whose hash is `hash`. */
static bool verify_checkpoints_at(struct verify *v, uint64_t seq,
				  const uint8_t hash[AUDIT_HASH_LEN])
{
	char t[32];

	for (; v->next_ck < v->nck && v->ck[v->next_ck].seq == seq; v->next_ck++) {
		const struct audit_checkpoint *c = &v->ck[v->next_ck];
		if (strcmp(c->key_id, v->pub->id) != 0) {
			verify_fail(v, seq, "checkpoint at entry %llu is signed by "
				    "key %s, not by this key (%s)",
				    (unsigned long long)seq, c->key_id, v->pub->id);
			return false;
		}
		if (!audit_checkpoint_valid(c, v->pub)) {
			verify_fail(v, seq, "checkpoint at entry %llu: bad signature "
				    "(the checkpoint was forged or altered)",
				    (unsigned long long)seq);
			return false;
		}
		if (memcmp(c->head, hash, AUDIT_HASH_LEN) != 0) {
			verify_fail(v, v->prev_ck_seq + 1, "entries %llu..%llu were "
				    "rewritten: the checkpoint signed at %s for entry "
				    "%llu names a different hash",
				    (unsigned long long)v->prev_ck_seq + 1,
				    (unsigned long long)seq,
				    verify_time(c->time_ms, t, sizeof(t)),
				    (unsigned long long)seq);
			return false;
		}
		v->r->checkpoints++;
		v->r->signed_seq = seq;
		v->prev_ck_seq = seq;
	}
	if (v->have_head && v->head.seq == seq)
		v->head_seen = !memcmp(v->head.head, hash, AUDIT_HASH_LEN);
	return true;
}

/* Checks one entry against its predecessor. */
static bool verify_entry(struct verify *v, const struct audit_entry *e,
			 uint64_t expected, const uint8_t prev[AUDIT_HASH_LEN])
{
	uint8_t h[AUDIT_HASH_LEN];

	if (e->seq != expected) {
		verify_fail(v, expected, "entry %llu is missing: the log jumps "
			    "from entry %llu to entry %llu",
			    (unsigned long long)expected,
			    (unsigned long long)expected - 1,
			    (unsigned long long)e->seq);
		return false;
	}
	audit_entry_hash(e, h);
	if (memcmp(h, e->hash, AUDIT_HASH_LEN) != 0) {
		verify_fail(v, e->seq, "entry %llu: its content does not match "
			    "its hash (the entry was edited or moved)",
			    (unsigned long long)e->seq);
		return false;
	}
	if (memcmp(prev, e->prev_hash, AUDIT_HASH_LEN) != 0) {
		verify_fail(v, e->seq, "entry %llu: its prev_hash is not the hash "
			    "of entry %llu (an entry was inserted, removed, "
			    "replaced or moved here)", (unsigned long long)e->seq,
			    (unsigned long long)e->seq - 1);
		return false;
	}
	if (!strcmp(e->ev.action, "audit.head_reset"))
		v->r->head_resets++;
	return true;
}

static int verify_walk(struct verify *v)
{
	sqlite3_stmt *st = store_prepare(v->s, "SELECT " AUDIT_ENTRY_COLUMNS
					 " FROM audit_log ORDER BY seq");
	uint8_t prev[AUDIT_HASH_LEN] = { 0 };
	struct audit_entry e;
	uint64_t expected = 1;
	int rc;

	if (!st)
		return -1;
	if (!verify_checkpoints_at(v, 0, prev))
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (audit_entry_from_row(st, &e) < 0) {
			verify_fail(v, (uint64_t)sqlite3_column_int64(st, 0),
				    "entry %lld: malformed hash columns",
				    sqlite3_column_int64(st, 0));
			break;
		}
		if (!verify_entry(v, &e, expected, prev) ||
		    !verify_checkpoints_at(v, e.seq, e.hash))
			break;
		memcpy(prev, e.hash, AUDIT_HASH_LEN);
		expected++;
	}
	v->r->entries = expected - 1;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(v->r->message, sizeof(v->r->message), "cannot read the "
			 "audit log: %s", sqlite3_errmsg(v->s->db));
		sqlite3_finalize(st);
		return -1;
	}
out:
	sqlite3_finalize(st);
	return 0;
}

/* After a clean walk: nothing may claim entries past the end. */
static void verify_tail(struct verify *v, const char *head_path)
{
	uint64_t last = v->r->entries;
	char t[32];

	if (v->next_ck < v->nck) {
		const struct audit_checkpoint *c = &v->ck[v->next_ck];
		verify_fail(v, last + 1, "entry %llu onwards was deleted: the log "
			    "ends at entry %llu but a checkpoint signed at %s covers "
			    "entries up to %llu (the tail was truncated)",
			    (unsigned long long)last + 1, (unsigned long long)last,
			    verify_time(c->time_ms, t, sizeof(t)),
			    (unsigned long long)c->seq);
		return;
	}
	if (!v->have_head)
		return;
	if (v->head.seq > last) {
		verify_fail(v, last + 1, "entry %llu onwards was deleted: the log "
			    "ends at entry %llu but the head record %s (signed at "
			    "%s) covers entries up to %llu (the tail was truncated)",
			    (unsigned long long)last + 1, (unsigned long long)last,
			    head_path, verify_time(v->head.time_ms, t, sizeof(t)),
			    (unsigned long long)v->head.seq);
	} else if (!v->head_seen) {
		verify_fail(v, v->head.seq, "entry %llu differs from the head "
			    "record %s (the log was rewritten up to there)",
			    (unsigned long long)v->head.seq, head_path);
	}
}

/* The head record's checkpoint must be one of the store's. */
static void verify_head_in_store(struct verify *v, const char *head_path)
{
	for (size_t i = 0; i < v->nck; i++)
		if (v->ck[i].seq == v->head.seq &&
		    !memcmp(v->ck[i].head, v->head.head, AUDIT_HASH_LEN))
			return;
	verify_fail(v, v->head.seq, "the checkpoint for entry %llu in the head "
		    "record %s is missing from the store (checkpoints were "
		    "deleted)", (unsigned long long)v->head.seq, head_path);
}

static bool verify_read_head(struct verify *v, const char *head_path)
{
	char err[256];
	int rc = audit_head_read(head_path, &v->head, err, sizeof(err));

	if (rc == -ENOENT) {
		verify_fail(v, 0, "the head record %s is missing", head_path);
		return false;
	}
	if (rc < 0) {
		verify_fail(v, 0, "%s", err);
		return false;
	}
	if (!audit_checkpoint_valid(&v->head, v->pub)) {
		verify_fail(v, 0, "the head record %s is not signed by this key "
			    "(%s)", head_path, v->pub->id);
		return false;
	}
	v->have_head = true;
	return true;
}

static void verify_summary(struct verify *v, const char *head_path)
{
	struct audit_verify_result *r = v->r;
	uint64_t unsigned_n = r->entries - r->signed_seq;

	snprintf(r->message, sizeof(r->message),
		 "ok: %llu entries, %llu checkpoints, signed through entry %llu; "
		 "%llu newer entries not signed yet; head record %s; key %s",
		 (unsigned long long)r->entries,
		 (unsigned long long)r->checkpoints,
		 (unsigned long long)r->signed_seq,
		 (unsigned long long)unsigned_n,
		 head_path ? "matches" : "not checked", v->pub->id);
}

int audit_verify(struct store *s, const struct audit_key *pub,
		 const char *head_path, struct audit_verify_result *r)
{
	struct verify v = { .s = s, .pub = pub, .r = r };
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->ok = true;
	if (verify_load_checkpoints(&v) < 0) {
		snprintf(r->message, sizeof(r->message), "cannot read the "
			 "checkpoints: %s", sqlite3_errmsg(s->db));
		free(v.ck);
		return -1;
	}
	if (v.nck == 0 || v.ck[0].seq != 0)
		verify_fail(&v, 0, "the genesis checkpoint is missing (the "
			    "checkpoints were deleted)");
	else if (!head_path || verify_read_head(&v, head_path))
		rc = verify_walk(&v);
	if (rc == 0 && r->ok)
		verify_tail(&v, head_path);
	if (rc == 0 && r->ok && v.have_head)
		verify_head_in_store(&v, head_path);
	if (rc == 0 && r->ok)
		verify_summary(&v, head_path);
	free(v.ck);
	return rc;
}
