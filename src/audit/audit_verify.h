/* audit_verify.h - checking the audit chain, its checkpoints and the head
 * record.
 *
 * What is checked, in order of the log:
 *   - entries are numbered 1, 2, 3, ... without gaps (a deleted row),
 *   - each entry's hash is the hash of its content (an edited row),
 *   - each entry's prev_hash is the previous entry's hash (an inserted,
 *     removed or reordered row),
 *   - each checkpoint is signed by the audit key and names the hash the
 *     entry at its seq has (a rewrite that recomputed the hashes),
 *   - no checkpoint and not the head record names a seq past the end of
 *     the log (a truncated tail), and the head record's checkpoint is in
 *     the store.
 * The first failure, in log order, is reported with the entry it names. */
#ifndef POSTERN_AUDIT_AUDIT_VERIFY_H
#define POSTERN_AUDIT_AUDIT_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"

struct audit_verify_result {
	bool ok;
	uint64_t entries;	/* entries in the log */
	uint64_t checkpoints;	/* checkpoints checked */
	uint64_t signed_seq;	/* newest entry covered by a valid checkpoint */
	uint64_t bad_seq;	/* first bad entry (0: none, or not an entry) */
	uint64_t head_resets;	/* "audit.head_reset" entries seen */
	char message[512];	/* what failed, or a one-line summary */
};

/* Verifies the log in `s` with the public key `pub`; `head_path` is the
 * head record (NULL: not checked, said in the message). Returns 0 when the
 * check ran (r->ok tells the outcome), -1 when it could not (database
 * error; message in r->message). */
int audit_verify(struct store *s, const struct audit_key *pub,
		 const char *head_path, struct audit_verify_result *r);

#endif
