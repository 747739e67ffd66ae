/* secret.c - the key ring and sealing/opening secrets (libsodium AEAD). */
#define LOG_SUBSYS "store"
#include "store/secret_int.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/enc.h"
#include "core/log.h"
#include "core/secure.h"
#include "store/keyfile.h"

#define SECRET_FILE_LEN (SECRET_KEY_BYTES * 2 + 1)	/* hex + '\n' */

/* The key's name: a keyed BLAKE2b of a constant, so it says which key
 * sealed a row without saying anything about the key. */
static void secret_key_set(struct secret_key *k, const uint8_t raw[SECRET_KEY_BYTES])
{
	static const char label[] = "postern secret key id";
	uint8_t id[SECRET_KEY_ID_LEN / 2];

	memcpy(k->key, raw, SECRET_KEY_BYTES);
	crypto_generichash(id, sizeof(id), (const uint8_t *)label,
			   sizeof(label) - 1, raw, SECRET_KEY_BYTES);
	enc_hex_encode(k->id, id, sizeof(id));
	k->set = true;
}

/* Reads one key file. Returns 0, -ENOENT, or -1 with a message. */
static int secret_key_read(struct secret_key *k, const char *path, char *err,
			   size_t errlen)
{
	char text[SECRET_FILE_LEN + 1];
	uint8_t raw[SECRET_KEY_BYTES];
	ssize_t n = keyfile_read(path, text, sizeof(text), err, errlen);
	int rc = -1;

	if (n < 0)
		return n == -ENOENT ? -ENOENT : -1;
	if (n == SECRET_FILE_LEN && text[n - 1] == '\n' &&
	    enc_hex_decode(raw, sizeof(raw), text, SECRET_KEY_BYTES * 2) == 0) {
		secret_key_set(k, raw);
		rc = 0;
	} else {
		snprintf(err, errlen, "%s: not a postern secret key "
			 "(64 hex digits and a newline)", path);
	}
	secure_wipe(text, sizeof(text));
	secure_wipe(raw, sizeof(raw));
	return rc;
}

int secret_key_create(struct secret_key *k, const char *path, char *err,
		      size_t errlen)
{
	uint8_t raw[SECRET_KEY_BYTES];
	char text[SECRET_FILE_LEN + 1];
	int rc = -1;

	if (secure_random(raw, sizeof(raw)) == 0) {
		enc_hex_encode(text, raw, sizeof(raw));
		text[SECRET_FILE_LEN - 1] = '\n';
		rc = keyfile_write(path, text, SECRET_FILE_LEN, 0600, err, errlen);
		if (rc == 0)
			secret_key_set(k, raw);
	} else {
		snprintf(err, errlen, "no randomness for a new key");
	}
	secure_wipe(raw, sizeof(raw));
	secure_wipe(text, sizeof(text));
	return rc;
}

/* "PATH.next": where a rotation stages its new key. */
char *secret_next_path(const struct secret_keyring *kr)
{
	size_t n = strlen(kr->path) + sizeof(".next");
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s.next", kr->path);
	return p;
}

int secret_keyring_load(struct secret_keyring *kr, const char *path,
			bool create, char *err, size_t errlen)
{
	char *next;
	int rc;

	memset(kr, 0, sizeof(*kr));
	if (sodium_init() < 0 || !(kr->path = strdup(path))) {
		snprintf(err, errlen, "cannot initialize libsodium");
		return -1;
	}
	rc = secret_key_read(&kr->cur, path, err, errlen);
	if (rc == -ENOENT && create) {
		log_info("creating the secrets key %s", path);
		rc = secret_key_create(&kr->cur, path, err, errlen);
	} else if (rc == -ENOENT) {
		snprintf(err, errlen, "%s: no such file", path);
	}
	next = secret_next_path(kr);
	if (rc == 0 && (!next || secret_key_read(&kr->next, next, err, errlen) == -1))
		rc = -1;
	free(next);
	if (rc < 0)
		secret_keyring_free(kr);
	return rc < 0 ? -1 : 0;
}

void secret_keyring_free(struct secret_keyring *kr)
{
	free(kr->path);
	secure_wipe(kr, sizeof(*kr));
}

/* The associated data: the row's identity, unambiguously framed. */
static int secret_ad(char *ad, size_t cap, const char *owner, int64_t owner_id,
		     const char *name)
{
	int n = snprintf(ad, cap, "postern-secret-v1%c%s%c%lld%c%s", 0, owner, 0,
			 (long long)owner_id, 0, name);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Encrypts into a new buffer of len + tag bytes. Returns it or NULL. */
static uint8_t *secret_seal(const struct secret_key *k, const char *owner,
			    int64_t owner_id, const char *name, const void *val,
			    size_t len, uint8_t nonce[SECRET_NONCE_BYTES])
{
	char ad[512];
	int adlen = secret_ad(ad, sizeof(ad), owner, owner_id, name);
	uint8_t *ct;

	if (adlen < 0 || len > SECRET_MAX || !(ct = malloc(len + SECRET_TAG_BYTES)))
		return NULL;
	randombytes_buf(nonce, SECRET_NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, val, len,
		(const uint8_t *)ad, (unsigned long long)adlen, NULL, nonce, k->key);
	return ct;
}

int secret_open(const struct secret_key *k, const char *owner, int64_t owner_id,
		const char *name, const uint8_t *ct, size_t ctlen,
		const uint8_t *nonce, uint8_t **val, size_t *len)
{
	char ad[512];
	int adlen = secret_ad(ad, sizeof(ad), owner, owner_id, name);
	unsigned long long n;
	uint8_t *out;

	if (adlen < 0 || ctlen < SECRET_TAG_BYTES)
		return -EBADMSG;
	if (!(out = malloc(ctlen - SECRET_TAG_BYTES + 1)))
		return -ENOMEM;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &n, NULL, ct, ctlen,
		(const uint8_t *)ad, (unsigned long long)adlen, nonce, k->key) != 0) {
		free(out);
		return -EBADMSG;
	}
	out[n] = 0;
	*val = out;
	*len = (size_t)n;
	return 0;
}

int secret_put_with(struct store *s, const struct secret_key *k,
		    const char *owner, int64_t owner_id, const char *name,
		    const void *val, size_t len)
{
	uint8_t nonce[SECRET_NONCE_BYTES];
	uint8_t *ct = secret_seal(k, owner, owner_id, name, val, len, nonce);
	sqlite3_stmt *st;
	int rc = -1;

	if (!ct) {
		log_err("cannot seal secret %s/%lld/%s", owner, (long long)owner_id, name);
		return -1;
	}
	st = store_prepare(s, "INSERT OR REPLACE INTO secrets(owner, owner_id,"
			   " name, key_id, nonce, ciphertext) VALUES (?,?,?,?,?,?)");
	if (st) {
		sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, owner_id);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, k->id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 5, nonce, sizeof(nonce), SQLITE_STATIC);
		sqlite3_bind_blob(st, 6, ct, (int)(len + SECRET_TAG_BYTES), SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
		if (rc < 0)
			log_err("secret %s/%lld/%s: %s", owner, (long long)owner_id,
				name, sqlite3_errmsg(s->db));
		sqlite3_finalize(st);
	}
	free(ct);
	return rc;
}

int secret_put(struct store *s, const struct secret_keyring *kr,
	       const char *owner, int64_t owner_id, const char *name,
	       const void *val, size_t len)
{
	return secret_put_with(s, &kr->cur, owner, owner_id, name, val, len);
}

const struct secret_key *secret_keyring_find(const struct secret_keyring *kr,
					     const char *id)
{
	if (kr->cur.set && !strcmp(kr->cur.id, id))
		return &kr->cur;
	if (kr->next.set && !strcmp(kr->next.id, id))
		return &kr->next;
	return NULL;
}

int secret_get(struct store *s, const struct secret_keyring *kr,
	       const char *owner, int64_t owner_id, const char *name,
	       uint8_t **val, size_t *len)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT key_id, nonce, ciphertext "
		"FROM secrets WHERE owner = ? AND owner_id = ? AND name = ?");
	const struct secret_key *k;
	int rc = -ENOENT;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, owner_id);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		k = secret_keyring_find(kr, (const char *)sqlite3_column_text(st, 0));
		if (!k)
			rc = -ENOKEY;
		else if (sqlite3_column_bytes(st, 1) != SECRET_NONCE_BYTES)
			rc = -EBADMSG;
		else
			rc = secret_open(k, owner, owner_id, name,
					 sqlite3_column_blob(st, 2),
					 (size_t)sqlite3_column_bytes(st, 2),
					 sqlite3_column_blob(st, 1), val, len);
	}
	sqlite3_finalize(st);
	if (rc == -EBADMSG || rc == -ENOKEY)
		log_err("secret %s/%lld/%s cannot be opened: %s", owner,
			(long long)owner_id, name,
			rc == -ENOKEY ? "sealed with an unknown key"
				      : "altered or moved from another row");
	return rc;
}

int secret_delete(struct store *s, const char *owner, int64_t owner_id,
		  const char *name)
{
	sqlite3_stmt *st = store_prepare(s, "DELETE FROM secrets WHERE owner = ?"
		" AND owner_id = ? AND (?3 IS NULL OR name = ?3)");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, owner_id);
	store_bind_text(st, 3, name);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}
