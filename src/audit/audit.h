/* audit.h - the tamper-evident audit log: a hash chain with signed
 * checkpoints.
 *
 * Every entry stores the previous entry's hash and its own SHA-256 over a
 * canonical encoding (audit_entry_hash; docs/control-plane.md gives it
 * byte by byte). After `every_entries` entries, or once `every_ms` has
 * passed since the last checkpoint while entries are pending, a checkpoint
 * (seq, head hash, time) is signed with an Ed25519 key kept in a 0600
 * file outside the database and stored in `audit_checkpoints`; the newest one is also written to a head record
 * file beside the key, which is what exposes a truncated tail. Entries are
 * appended inside the caller's transaction, so a change and its record
 * commit (or vanish) together. */
#ifndef POSTERN_AUDIT_AUDIT_H
#define POSTERN_AUDIT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/audit_key.h"
#include "store/store.h"

#define AUDIT_HASH_LEN 32
#define AUDIT_SIG_LEN 64
#define AUDIT_FIELD_MAX 4096	/* bytes kept of any text field */

/* What happened, as the caller describes it. Strings are borrowed. */
struct audit_event {
	const char *actor;	/* "user:alice", "token:3", "unix:uid=0", "system" */
	const char *source;	/* client IP, "unix:pid=812", or "" */
	const char *action;	/* "route.create", "session.login_failed", ... */
	const char *object;	/* "route:5", or "" */
	const char *before;	/* JSON summary before the change, or "" */
	const char *after;	/* JSON summary after it, or "" */
};

/* An entry as stored. Strings point into the row being read. */
struct audit_entry {
	uint64_t seq;		/* 1, 2, 3, ... */
	int64_t time_ms;
	struct audit_event ev;
	uint8_t prev_hash[AUDIT_HASH_LEN];	/* zeros for entry 1 */
	uint8_t hash[AUDIT_HASH_LEN];
};

/* A signed statement "the log up to `seq` ends in `head`, at `time_ms`".
 * seq 0 (head all zeros) is the genesis checkpoint of an empty log. */
struct audit_checkpoint {
	uint64_t seq;
	uint8_t head[AUDIT_HASH_LEN];
	int64_t time_ms;
	char key_id[AUDIT_KEY_ID_LEN + 1];
	uint8_t sig[AUDIT_SIG_LEN];
};

struct audit {
	struct store *store;
	struct audit_key key;	/* the signing key */
	char *head_path;
	uint64_t every_entries;
	uint64_t every_ms;
	/* Hashes of the entries this process appended since the last
	 * checkpoint, in order; the first `ncommitted` are committed (the
	 * connection's commit and rollback hooks keep the count, so audit
	 * owns those hooks on the store's connection). A checkpoint signs
	 * only if the entries after the last one are exactly these: an entry
	 * slipped in, edited or deleted while the hub runs is refused a
	 * signature (and reported) instead of being vouched for. */
	uint8_t (*mine)[AUDIT_HASH_LEN];
	size_t nmine, ncommitted, capmine;
	bool tamper_reported;
	/* Called inside the transaction after each entry is inserted (the
	 * webhook outbox, src/events): -1 makes the append fail, so the
	 * entry and whatever it fans out to commit or vanish together. */
	int (*appended)(void *ctx, const struct audit_entry *e);
	void *appended_ctx;
};

#define AUDIT_DEFAULT_EVERY_ENTRIES 16
#define AUDIT_DEFAULT_EVERY_MS (60 * 1000)

/* Loads (creating when missing: `key_path` 0600 and `key_path`.pub) the
 * signing key, checks the head record at `head_path` against the store,
 * and writes the genesis checkpoint of a new log. Entries left unsigned
 * by a crash are checked for chain integrity, then adopted and signed
 * with an "audit.tail_adopted" entry saying so. A missing or mismatched
 * head record is logged, kept aside as `head_path`.mismatch-TIME, audited
 * ("audit.head_reset") and replaced: the hub keeps running, and
 * `postern audit verify` keeps failing on the old evidence until an
 * operator looks. The `appended` hook set in `a` before the call is kept
 * (every other field is reset), so those entries reach it too. Returns 0,
 * or -1 with a message in `err`. */
int audit_open(struct audit *a, struct store *s, const char *key_path,
	       const char *head_path, char *err, size_t errlen);
void audit_close(struct audit *a);

/* Inside a transaction: the sequence number the next entry will get
 * (callers stamp it on changed rows as their `rev`). Returns it, or -1. */
int64_t audit_next_seq(struct audit *a);
/* Inside the caller's transaction: appends `ev` as entry `seq` (which
 * must be audit_next_seq()). Text fields longer than AUDIT_FIELD_MAX are
 * cut. Returns 0 or -1 (logged); on -1 the caller rolls back. */
int audit_append(struct audit *a, uint64_t seq, const struct audit_event *ev);
/* Appends `ev` in a transaction of its own (logins, token use, system
 * events). Returns the entry's seq, or -1. */
int64_t audit_record(struct audit *a, const struct audit_event *ev);
/* A change that carries an audit entry, in one transaction
 * (audit_tx.c): audit_tx_begin begins it and returns the entry's seq
 * (stamp it on the changed rows as their `rev`), or -1 with nothing
 * begun; the caller then writes its rows and either rolls back
 * (store_rollback) or calls audit_tx_commit, which appends `ev` as entry
 * `seq`, commits, and signs a checkpoint when one is due. Returns 0, or
 * -1 (logged, rolled back). Control thread. */
int64_t audit_tx_begin(struct audit *a);
int audit_tx_commit(struct audit *a, int64_t seq, const struct audit_event *ev);
/* Outside a transaction: signs a checkpoint when one is due (or, with
 * `force`, whenever unsigned entries exist) and updates the head record.
 * Refuses (-1, logged once) when an unsigned entry is not one this
 * process appended or the chain since the last checkpoint is broken.
 * Returns 1 when it made one, 0 when none was due, -1 on error. */
int audit_checkpoint(struct audit *a, bool force);

/* The canonical encoding's hash of an entry (audit_hash.c). */
void audit_entry_hash(const struct audit_entry *e, uint8_t out[AUDIT_HASH_LEN]);
/* The bytes a checkpoint's signature covers. */
#define AUDIT_CKPT_MSG_LEN (28 + 8 + AUDIT_HASH_LEN + 8)
void audit_checkpoint_msg(const struct audit_checkpoint *c,
			  uint8_t out[AUDIT_CKPT_MSG_LEN]);
/* Signs `c` (seq, head, time_ms set) with `k`, filling key_id and sig. */
int audit_checkpoint_sign(struct audit_checkpoint *c, const struct audit_key *k);
/* True when `c` carries a valid signature by `k`. */
bool audit_checkpoint_valid(const struct audit_checkpoint *c,
			    const struct audit_key *k);

/* Reads the current row of a statement selecting, in this order,
 * seq, time_ms, actor, source, action, object, before_json, after_json,
 * prev_hash, hash. Returns 0, or -1 if a hash column has the wrong size. */
#define AUDIT_ENTRY_COLUMNS \
	"seq, time_ms, actor, source, action, object, before_json, " \
	"after_json, prev_hash, hash"
int audit_entry_from_row(sqlite3_stmt *st, struct audit_entry *e);

/* The head record file (audit_head.c): text, see docs/control-plane.md.
 * read returns 0, -ENOENT, or -1 with a message in err. */
int audit_head_write(const char *path, const struct audit_checkpoint *c,
		     char *err, size_t errlen);
int audit_head_read(const char *path, struct audit_checkpoint *c, char *err,
		    size_t errlen);
/* Parses the head record's text strictly. Returns 0 or -1. */
int audit_head_parse(const char *text, size_t len, struct audit_checkpoint *c);

#endif
