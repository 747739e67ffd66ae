/* audit.c - appending to the audit chain and signing checkpoints. */
#define LOG_SUBSYS "audit"
#include "audit/audit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/enc.h"
#include "core/log.h"

/* The newest entry's seq and hash (0 and zeros for an empty log). */
static int audit_last_entry(struct audit *a, uint64_t *seq,
			    uint8_t hash[AUDIT_HASH_LEN])
{
	sqlite3_stmt *st = store_prepare(a->store,
		"SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
	int rc;

	if (!st)
		return -1;
	*seq = 0;
	memset(hash, 0, AUDIT_HASH_LEN);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 1) == AUDIT_HASH_LEN) {
		*seq = (uint64_t)sqlite3_column_int64(st, 0);
		memcpy(hash, sqlite3_column_blob(st, 1), AUDIT_HASH_LEN);
	} else if (rc == SQLITE_ROW) {
		rc = SQLITE_ERROR;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Remembers an entry this process appended (see struct audit). */
static int audit_mine_add(struct audit *a, const uint8_t hash[AUDIT_HASH_LEN])
{
	return ARRAY_PUSH(a->mine, a->nmine, a->capmine, hash);
}

static int audit_on_commit(void *arg)
{
	struct audit *a = arg;

	a->ncommitted = a->nmine;
	return 0;
}

static void audit_on_rollback(void *arg)
{
	struct audit *a = arg;

	a->nmine = a->ncommitted;
}

int64_t audit_next_seq(struct audit *a)
{
	return store_query_int(a->store,
			       "SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_log", -1);
}

/* A copy of `s` cut to AUDIT_FIELD_MAX bytes on a UTF-8 boundary. */
static char *audit_field(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > AUDIT_FIELD_MAX) {
		n = AUDIT_FIELD_MAX;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return strndup(s ? s : "", n);
}

static int audit_insert(struct audit *a, const struct audit_entry *e)
{
	sqlite3_stmt *st = store_prepare(a->store, "INSERT INTO audit_log("
		AUDIT_ENTRY_COLUMNS ") VALUES (?,?,?,?,?,?,?,?,?,?)");
	const char *f[6] = { e->ev.actor, e->ev.source, e->ev.action,
			     e->ev.object, e->ev.before, e->ev.after };
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)e->seq);
	sqlite3_bind_int64(st, 2, e->time_ms);
	for (int i = 0; i < 6; i++)
		sqlite3_bind_text(st, 3 + i, f[i], -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 9, e->prev_hash, AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 10, e->hash, AUDIT_HASH_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		log_err("audit insert: %s", sqlite3_errmsg(a->store->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int audit_append(struct audit *a, uint64_t seq, const struct audit_event *ev)
{
	struct audit_entry e = { .seq = seq, .time_ms = store_now_ms() };
	char *f[6] = { audit_field(ev->actor), audit_field(ev->source),
		       audit_field(ev->action), audit_field(ev->object),
		       audit_field(ev->before), audit_field(ev->after) };
	uint64_t last;
	int rc = -1;

	for (int i = 0; i < 6; i++)
		if (!f[i])
			goto out;
	e.ev = (struct audit_event){ f[0], f[1], f[2], f[3], f[4], f[5] };
	if (audit_last_entry(a, &last, e.prev_hash) < 0)
		goto out;
	if (seq != last + 1) {
		log_err("audit entry %llu out of order (last is %llu)",
			(unsigned long long)seq, (unsigned long long)last);
		goto out;
	}
	audit_entry_hash(&e, e.hash);
	rc = audit_insert(a, &e);
	if (rc == 0 && a->appended)
		rc = a->appended(a->appended_ctx, &e);
	if (rc == 0)
		rc = audit_mine_add(a, e.hash);
out:
	for (int i = 0; i < 6; i++)
		free(f[i]);
	return rc;
}

int64_t audit_record(struct audit *a, const struct audit_event *ev)
{
	int64_t seq;

	if (store_begin(a->store) < 0)
		return -1;
	seq = audit_next_seq(a);
	if (seq < 0 || audit_append(a, (uint64_t)seq, ev) < 0) {
		store_rollback(a->store);
		return -1;
	}
	return store_commit(a->store) < 0 ? -1 : seq;
}

static int audit_checkpoint_insert(struct audit *a, const struct audit_checkpoint *c)
{
	sqlite3_stmt *st = store_prepare(a->store, "INSERT INTO audit_checkpoints"
		"(seq, head_hash, time_ms, key_id, signature) VALUES (?,?,?,?,?)");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)c->seq);
	sqlite3_bind_blob(st, 2, c->head, AUDIT_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, c->time_ms);
	sqlite3_bind_text(st, 4, c->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, c->sig, AUDIT_SIG_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		log_err("checkpoint insert: %s", sqlite3_errmsg(a->store->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Inside a transaction: the newest checkpoint's seq and head (-1 when
 * there is none yet). */
static int audit_last_checkpoint(struct audit *a, int64_t *seq, int64_t *time_ms,
				 uint8_t head[AUDIT_HASH_LEN])
{
	sqlite3_stmt *st = store_prepare(a->store, "SELECT seq, time_ms, head_hash"
		" FROM audit_checkpoints ORDER BY seq DESC LIMIT 1");
	int rc;

	if (!st)
		return -1;
	*seq = -1;
	*time_ms = 0;
	memset(head, 0, AUDIT_HASH_LEN);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		*time_ms = sqlite3_column_int64(st, 1);
		if (sqlite3_column_bytes(st, 2) == AUDIT_HASH_LEN)
			memcpy(head, sqlite3_column_blob(st, 2), AUDIT_HASH_LEN);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Walks the entries after checkpoint `from` (whose head is `head`).
 * Without `adopt`: the entries must be exactly the ones this process
 * committed, in order (recomputed hashes compared); returns the count, or
 * -1 with the first offending seq in *bad. With `adopt`: takes every entry as its
 * own and returns the count, with the first entry that breaks the chain
 * (edited, unlinked or after a gap) in *bad, or 0. */
static int64_t audit_tail_check(struct audit *a, int64_t from,
				const uint8_t head[AUDIT_HASH_LEN], bool adopt,
				uint64_t *bad)
{
	sqlite3_stmt *st = store_prepare(a->store, "SELECT " AUDIT_ENTRY_COLUMNS
		" FROM audit_log WHERE seq > ? ORDER BY seq");
	uint8_t prev[AUDIT_HASH_LEN], h[AUDIT_HASH_LEN];
	uint64_t expect = (uint64_t)(from < 0 ? 0 : from) + 1;
	struct audit_entry e;
	int64_t n = 0;
	bool broken;

	if (!st)
		return -1;
	memcpy(prev, head, AUDIT_HASH_LEN);
	sqlite3_bind_int64(st, 1, from < 0 ? 0 : from);
	*bad = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		memset(h, 0, sizeof(h));
		memset(&e, 0, sizeof(e));
		broken = audit_entry_from_row(st, &e) < 0;
		if (!broken)
			audit_entry_hash(&e, h);
		broken = broken || e.seq != expect ||
			 memcmp(h, e.hash, AUDIT_HASH_LEN) ||
			 memcmp(prev, e.prev_hash, AUDIT_HASH_LEN);
		if (broken && !*bad)
			*bad = expect;
		if (adopt ? audit_mine_add(a, h) < 0
			  : (e.seq != expect || (size_t)n >= a->ncommitted ||
			     memcmp(a->mine[n], h, AUDIT_HASH_LEN))) {
			*bad = expect;
			n = -1;
			break;
		}
		memcpy(prev, e.hash, AUDIT_HASH_LEN);
		expect = e.seq + 1;
		n++;
	}
	sqlite3_finalize(st);
	if (adopt)
		a->ncommitted = a->nmine;
	else if (n >= 0 && (size_t)n != a->ncommitted) {
		*bad = expect;	/* entries of ours are gone */
		n = -1;
	}
	return n;
}

/* Inside a transaction: whether a checkpoint is due, and its content.
 * Returns 1 (due), 0 (not due) or -1 (error, or an entry this process
 * will not vouch for). */
static int audit_checkpoint_due(struct audit *a, bool force,
				struct audit_checkpoint *c)
{
	uint8_t chead[AUDIT_HASH_LEN];
	int64_t cseq, ctime;
	uint64_t bad;

	memset(c, 0, sizeof(*c));
	if (audit_last_checkpoint(a, &cseq, &ctime, chead) < 0 ||
	    audit_last_entry(a, &c->seq, c->head) < 0)
		return -1;
	c->time_ms = store_now_ms();
	if (cseq >= 0 && c->seq <= (uint64_t)cseq && a->ncommitted == 0)
		return 0;
	if (audit_tail_check(a, cseq, chead, false, &bad) < 0) {
		if (!a->tamper_reported)
			log_err("audit entry %llu was not written by this hub, or "
				"entries it wrote after entry %lld are gone: "
				"refusing to sign; run 'postern audit verify'",
				(unsigned long long)bad, (long long)cseq);
		a->tamper_reported = true;
		return -1;
	}
	if (cseq >= 0 && c->seq <= (uint64_t)cseq)
		return 0;
	if (cseq >= 0 && !force && c->seq - (uint64_t)cseq < a->every_entries &&
	    (uint64_t)(c->time_ms - ctime) < a->every_ms)
		return 0;
	return 1;
}

int audit_checkpoint(struct audit *a, bool force)
{
	struct audit_checkpoint c;
	char err[256], head[HEX_LEN(AUDIT_HASH_LEN)];
	int due;

	if (store_begin(a->store) < 0)
		return -1;
	due = audit_checkpoint_due(a, force, &c);
	if (due <= 0) {
		store_rollback(a->store);
		return due;
	}
	if (audit_checkpoint_sign(&c, &a->key) < 0 ||
	    audit_checkpoint_insert(a, &c) < 0) {
		store_rollback(a->store);
		return -1;
	}
	if (store_commit(a->store) < 0)
		return -1;
	a->nmine = a->ncommitted = 0;
	/* After the commit: a crash in between leaves the head record one
	 * checkpoint behind the store, which verification accepts. */
	if (audit_head_write(a->head_path, &c, err, sizeof(err)) < 0) {
		log_err("audit head record: %s", err);
		return -1;
	}
	enc_hex_encode(head, c.head, AUDIT_HASH_LEN);
	/* Also in the daemon log: a shipped copy is a witness off the box. */
	log_info("audit checkpoint seq=%llu head=%s key=%s",
		 (unsigned long long)c.seq, head, c.key_id);
	return 1;
}

/* Whether the head record matches the store: its signature is ours and
 * the entry it names has the hash it names. Sets `why` when not. */
static bool audit_head_matches(struct audit *a, const struct audit_checkpoint *h,
			       char *why, size_t whylen)
{
	sqlite3_stmt *st;
	bool ok = false;

	if (!audit_checkpoint_valid(h, &a->key)) {
		snprintf(why, whylen, "its signature is not by this key");
		return false;
	}
	if (h->seq == 0)
		return true;
	st = store_prepare(a->store, "SELECT hash FROM audit_log WHERE seq = ?");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, (int64_t)h->seq);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 0) == AUDIT_HASH_LEN)
		ok = !memcmp(sqlite3_column_blob(st, 0), h->head, AUDIT_HASH_LEN);
	sqlite3_finalize(st);
	if (!ok)
		snprintf(why, whylen, "entry %llu is missing or differs",
			 (unsigned long long)h->seq);
	return ok;
}

/* Keeps a mismatched head record aside as evidence and audits the reset;
 * the caller's checkpoint then writes a new one. */
static int audit_head_reset(struct audit *a, const char *why)
{
	char aside[4200], after[512];
	struct audit_event ev = { "system", "", "audit.head_reset", "", "", after };

	snprintf(aside, sizeof(aside), "%s.mismatch-%lld", a->head_path,
		 (long long)store_now_ms());
	if (rename(a->head_path, aside) == 0)
		log_err("audit head record %s does not match the store (%s); "
			"kept as %s: run 'postern audit verify'", a->head_path,
			why, aside);
	else
		log_err("audit head record %s: %s; starting a new one",
			a->head_path, why);
	snprintf(after, sizeof(after), "{\"reason\":\"%s\"}", why);
	return audit_record(a, &ev) < 0 ? -1 : 0;
}

/* Compares the head record with the store, writing nothing. Returns 1
 * when they match, 0 with `why` set when not, 2 for a new, empty log,
 * -1 on a database error. */
static int audit_head_status(struct audit *a, char *why, size_t whylen)
{
	struct audit_checkpoint h;
	int64_t nckpt = store_query_int(a->store,
		"SELECT count(*) FROM audit_checkpoints", -1);
	int64_t nent = store_query_int(a->store, "SELECT count(*) FROM audit_log", -1);
	int rc = audit_head_read(a->head_path, &h, why, whylen);

	if (nckpt < 0 || nent < 0)
		return -1;
	if (rc == -ENOENT && nckpt == 0 && nent == 0)
		return 2;
	if (rc == -ENOENT)
		snprintf(why, whylen, "the head record is missing");
	else if (rc < 0)
		snprintf(why, whylen, "the head record is unreadable");
	else if (audit_head_matches(a, &h, why, whylen))
		return 1;
	return 0;
}

/* Entries a crash left unsigned (the hub signs everything when it stops
 * cleanly): this process cannot vouch for them, so it takes them as they
 * are and records that it did, and where their chain is broken, if it is.
 * Verification still checks them entry by entry. Returns how many, or -1
 * on a database error. */
static int64_t audit_tail_adopt(struct audit *a)
{
	uint8_t chead[AUDIT_HASH_LEN];
	char after[160];
	struct audit_event ev = { "system", "", "audit.tail_adopted", "", "", after };
	int64_t cseq, ctime, n;
	uint64_t bad;

	if (audit_last_checkpoint(a, &cseq, &ctime, chead) < 0)
		return -1;
	n = audit_tail_check(a, cseq, chead, true, &bad);
	if (n <= 0)
		return n;
	if (bad)
		log_err("audit entry %llu (after the last checkpoint) breaks the "
			"chain; run 'postern audit verify'", (unsigned long long)bad);
	log_warn("audit: %lld entries after entry %lld were not signed before "
		 "the last stop; signing them now", (long long)n, (long long)cseq);
	snprintf(after, sizeof(after), "{\"entries\":%lld,\"first_broken\":%llu}",
		 (long long)n, (unsigned long long)bad);
	return audit_record(a, &ev) < 0 ? -1 : n;
}

/* What audit_open checks and repairs; see audit.h. */
static int audit_startup(struct audit *a, char *err, size_t errlen)
{
	char why[256];
	int head = audit_head_status(a, why, sizeof(why));
	int64_t adopted;

	if (head == 2)	/* a new log: its genesis checkpoint */
		return audit_checkpoint(a, true) < 0 ? -1 : 0;
	adopted = head < 0 ? -1 : audit_tail_adopt(a);
	if (adopted < 0) {
		snprintf(err, errlen, "cannot read the audit tables: %s",
			 sqlite3_errmsg(a->store->db));
		return -1;
	}
	if (head == 0 && audit_head_reset(a, why) < 0)
		return -1;
	if ((head == 0 || adopted > 0) && audit_checkpoint(a, true) < 0)
		return -1;
	return 0;
}

int audit_open(struct audit *a, struct store *s, const char *key_path,
	       const char *head_path, char *err, size_t errlen)
{
	int (*appended)(void *, const struct audit_entry *) = a->appended;
	void *appended_ctx = a->appended_ctx;

	memset(a, 0, sizeof(*a));
	/* Kept: what the opening itself records (a head record that does not
	 * match, an adopted tail) reaches the webhooks like any entry. */
	a->appended = appended;
	a->appended_ctx = appended_ctx;
	if (errlen)
		err[0] = 0;
	a->store = s;
	a->every_entries = AUDIT_DEFAULT_EVERY_ENTRIES;
	a->every_ms = AUDIT_DEFAULT_EVERY_MS;
	sqlite3_commit_hook(s->db, audit_on_commit, a);
	sqlite3_rollback_hook(s->db, audit_on_rollback, a);
	if (audit_key_load_private(&a->key, key_path, true, err, errlen) < 0)
		return -1;
	a->head_path = strdup(head_path);
	if (!a->head_path || audit_startup(a, err, errlen) < 0) {
		if (!err[0])
			snprintf(err, errlen, "cannot set up the audit log");
		audit_close(a);
		return -1;
	}
	return 0;
}

void audit_close(struct audit *a)
{
	if (a->store && a->store->db) {
		sqlite3_commit_hook(a->store->db, NULL, NULL);
		sqlite3_rollback_hook(a->store->db, NULL, NULL);
	}
	audit_key_free(&a->key);
	free(a->head_path);
	free(a->mine);
	a->head_path = NULL;
	a->mine = NULL;
	a->nmine = a->ncommitted = a->capmine = 0;
}
