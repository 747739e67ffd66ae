/* secret_rotate.c - replacing the secrets key without a window of loss. */
#define LOG_SUBSYS "store"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "core/log.h"
#include "core/secure.h"
#include "store/keyfile.h"
#include "store/secret_int.h"

int secret_rotate_prepare(struct secret_keyring *kr, char *err, size_t errlen)
{
	char *next = secret_next_path(kr);
	int rc;

	if (!next) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = secret_key_create(&kr->next, next, err, errlen);
	free(next);
	return rc;
}

/* Reseals one row that is not under the new key yet. Returns 1 when it
 * did, 0 when none is left, -1 on error. Taking one row at a time keeps
 * the SELECT and the rewrite of the same table apart. */
static int secret_reseal_one(struct secret_keyring *kr, struct store *s)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT owner, owner_id, name, key_id,"
		" nonce, ciphertext FROM secrets WHERE key_id <> ? LIMIT 1");
	const struct secret_key *k;
	uint8_t *val = NULL;
	size_t len = 0;
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, kr->next.id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? 0 : -1;
	}
	const char *owner = (const char *)sqlite3_column_text(st, 0);
	int64_t owner_id = sqlite3_column_int64(st, 1);
	const char *name = (const char *)sqlite3_column_text(st, 2);
	k = secret_keyring_find(kr, (const char *)sqlite3_column_text(st, 3));
	rc = -1;
	if (!k || sqlite3_column_bytes(st, 4) != SECRET_NONCE_BYTES)
		log_err("secret %s/%lld/%s: sealed with an unknown key", owner,
			(long long)owner_id, name);
	else if (secret_open(k, owner, owner_id, name, sqlite3_column_blob(st, 5),
			     (size_t)sqlite3_column_bytes(st, 5),
			     sqlite3_column_blob(st, 4), &val, &len) < 0)
		log_err("secret %s/%lld/%s: cannot be opened", owner,
			(long long)owner_id, name);
	else if (secret_put_with(s, &kr->next, owner, owner_id, name, val, len) == 0)
		rc = 1;
	if (val)
		secure_free(val, len + 1);
	sqlite3_finalize(st);
	return rc;
}

int secret_rotate_reseal(struct secret_keyring *kr, struct store *s)
{
	int n = 0, rc;

	if (!kr->next.set)
		return -1;
	while ((rc = secret_reseal_one(kr, s)) == 1)
		n++;
	return rc < 0 ? -1 : n;
}

int secret_rotate_finish(struct secret_keyring *kr, char *err, size_t errlen)
{
	char *next = secret_next_path(kr);
	int rc = -1;

	if (!next || rename(next, kr->path) < 0 || file_sync_dir(kr->path) < 0)
		snprintf(err, errlen, "%s: %s", kr->path, strerror(errno));
	else
		rc = 0;
	free(next);
	if (rc == 0) {
		kr->cur = kr->next;
		secure_wipe(&kr->next, sizeof(kr->next));
		log_info("secrets key rotated; key id is now %s", kr->cur.id);
	}
	return rc;
}

void secret_rotate_abort(struct secret_keyring *kr)
{
	char *next = secret_next_path(kr);

	if (next) {
		unlink(next);
		file_sync_dir(next);
	}
	free(next);
	secure_wipe(&kr->next, sizeof(kr->next));
}

static int64_t secret_count_key(struct store *s, const char *id)
{
	return store_query_int_args(s, "SELECT count(*) FROM secrets WHERE key_id = ?",
				    &STORE_T(id), 1, -1, -1);
}

int secret_keyring_recover(struct secret_keyring *kr, struct store *s,
			   char *err, size_t errlen)
{
	int64_t on_cur, on_next;

	if (!kr->next.set)
		return 0;
	on_cur = secret_count_key(s, kr->cur.id);
	on_next = secret_count_key(s, kr->next.id);
	if (on_cur < 0 || on_next < 0) {
		snprintf(err, errlen, "cannot count secrets: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	if (on_next > 0 && on_cur > 0) {
		/* Cannot happen (the reseal is one transaction); keep both
		 * files rather than lose what either key sealed. */
		snprintf(err, errlen, "secrets are sealed under both %s and "
			 "its .next file: keep both and report this", kr->path);
		return -1;
	}
	if (on_next > 0) {
		log_warn("completing an interrupted secrets key rotation");
		return secret_rotate_finish(kr, err, errlen);
	}
	log_warn("discarding the key of an unfinished secrets key rotation");
	secret_rotate_abort(kr);
	return 0;
}
