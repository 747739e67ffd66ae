/* audit_hash.c - the canonical encoding of entries and checkpoints.
 *
 * Entry hash = SHA-256 of:
 *   "postern-audit-v1\n"                     17 bytes
 *   seq                                      8 bytes, big-endian
 *   time_ms                                  8 bytes, big-endian (two's
 *                                            complement)
 *   actor, source, action, object,           each: length as 4 bytes
 *   before_json, after_json                  big-endian, then the bytes
 *   prev_hash                                32 bytes
 * Checkpoint signature (Ed25519) over:
 *   "postern-audit-checkpoint-v1\n"          28 bytes
 *   seq (8, BE), head hash (32), time_ms (8, BE)
 * Lengths make the encoding unambiguous (no separator can be forged by a
 * field's content); the version prefixes keep an entry hash from ever
 * being read as a checkpoint message or the other way round. */
#include <openssl/evp.h>
#include <string.h>

#include "audit/audit.h"

static const char audit_entry_tag[] = "postern-audit-v1\n";
static const char audit_ckpt_tag[] = "postern-audit-checkpoint-v1\n";

static void audit_be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static void audit_hash_field(EVP_MD_CTX *ctx, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	uint8_t len[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16),
			   (uint8_t)(n >> 8), (uint8_t)n };

	EVP_DigestUpdate(ctx, len, 4);
	if (n)
		EVP_DigestUpdate(ctx, s, n);
}

void audit_entry_hash(const struct audit_entry *e, uint8_t out[AUDIT_HASH_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t num[8];

	memset(out, 0, AUDIT_HASH_LEN);
	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		return;	/* all zeros never matches a real entry */
	}
	EVP_DigestUpdate(ctx, audit_entry_tag, sizeof(audit_entry_tag) - 1);
	audit_be64(num, e->seq);
	EVP_DigestUpdate(ctx, num, 8);
	audit_be64(num, (uint64_t)e->time_ms);
	EVP_DigestUpdate(ctx, num, 8);
	audit_hash_field(ctx, e->ev.actor);
	audit_hash_field(ctx, e->ev.source);
	audit_hash_field(ctx, e->ev.action);
	audit_hash_field(ctx, e->ev.object);
	audit_hash_field(ctx, e->ev.before);
	audit_hash_field(ctx, e->ev.after);
	EVP_DigestUpdate(ctx, e->prev_hash, AUDIT_HASH_LEN);
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
}

void audit_checkpoint_msg(const struct audit_checkpoint *c,
			  uint8_t out[AUDIT_CKPT_MSG_LEN])
{
	size_t n = sizeof(audit_ckpt_tag) - 1;

	memcpy(out, audit_ckpt_tag, n);
	audit_be64(out + n, c->seq);
	memcpy(out + n + 8, c->head, AUDIT_HASH_LEN);
	audit_be64(out + n + 8 + AUDIT_HASH_LEN, (uint64_t)c->time_ms);
}

int audit_checkpoint_sign(struct audit_checkpoint *c, const struct audit_key *k)
{
	uint8_t msg[AUDIT_CKPT_MSG_LEN];

	audit_checkpoint_msg(c, msg);
	memcpy(c->key_id, k->id, sizeof(c->key_id));
	return audit_key_sign(k, msg, sizeof(msg), c->sig);
}

bool audit_checkpoint_valid(const struct audit_checkpoint *c,
			    const struct audit_key *k)
{
	uint8_t msg[AUDIT_CKPT_MSG_LEN];

	if (strcmp(c->key_id, k->id) != 0)
		return false;
	audit_checkpoint_msg(c, msg);
	return audit_key_verify(k, msg, sizeof(msg), c->sig);
}

static const char *audit_col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

int audit_entry_from_row(sqlite3_stmt *st, struct audit_entry *e)
{
	e->seq = (uint64_t)sqlite3_column_int64(st, 0);
	e->time_ms = sqlite3_column_int64(st, 1);
	e->ev.actor = audit_col_text(st, 2);
	e->ev.source = audit_col_text(st, 3);
	e->ev.action = audit_col_text(st, 4);
	e->ev.object = audit_col_text(st, 5);
	e->ev.before = audit_col_text(st, 6);
	e->ev.after = audit_col_text(st, 7);
	if (sqlite3_column_bytes(st, 8) != AUDIT_HASH_LEN ||
	    sqlite3_column_bytes(st, 9) != AUDIT_HASH_LEN)
		return -1;
	memcpy(e->prev_hash, sqlite3_column_blob(st, 8), AUDIT_HASH_LEN);
	memcpy(e->hash, sqlite3_column_blob(st, 9), AUDIT_HASH_LEN);
	return 0;
}
