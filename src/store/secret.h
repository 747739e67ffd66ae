/* secret.h - secrets at rest: encrypted rows of the `secrets` table.
 *
 * Private keys, OIDC client secrets, DNS API tokens and webhook secrets
 * are stored as XChaCha20-Poly1305 ciphertexts (libsodium) under a 32-byte
 * key read from a 0600 file outside the database. A secret belongs to
 * (owner, owner_id, name), e.g. ("certificate", 7, "key"); that identity
 * is the associated data, so a ciphertext copied onto another row (another
 * certificate's key) fails to decrypt instead of being used. Each row
 * names the key it was sealed with (key_id), which is what lets a key
 * rotation be interrupted at any point and recovered (secret_rotate.c). */
#ifndef POSTERN_STORE_SECRET_H
#define POSTERN_STORE_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define SECRET_KEY_BYTES 32
#define SECRET_KEY_ID_LEN 16	/* hex characters */
#define SECRET_MAX (256u << 10)	/* largest secret value */

struct secret_key {
	bool set;
	uint8_t key[SECRET_KEY_BYTES];
	char id[SECRET_KEY_ID_LEN + 1];
};

struct secret_keyring {
	char *path;		/* the key file */
	struct secret_key cur;	/* its key */
	struct secret_key next;	/* `path`.next, during a rotation */
};

/* Loads the key file at `path`, creating a new random key (0600) when it
 * is missing and `create` is set, and the `.next` file an interrupted
 * rotation may have left. Returns 0, or -1 with a message in `err`. */
int secret_keyring_load(struct secret_keyring *kr, const char *path,
			bool create, char *err, size_t errlen);
/* Wipes the keys and frees the ring. */
void secret_keyring_free(struct secret_keyring *kr);

/* Seals `len` bytes for (owner, owner_id, name) with the current key,
 * replacing any previous value. Runs inside the caller's transaction.
 * Returns 0 or -1 (logged without the value). */
int secret_put(struct store *s, const struct secret_keyring *kr,
	       const char *owner, int64_t owner_id, const char *name,
	       const void *val, size_t len);
/* Opens the secret of (owner, owner_id, name). On 0, *val is a new
 * NUL-terminated buffer of *len bytes (+1) the caller frees with
 * secure_free(*val, *len + 1). Returns 0, -ENOENT, -ENOKEY (sealed with a
 * key this ring does not hold) or -EBADMSG (the ciphertext was altered or
 * belongs to another row). */
int secret_get(struct store *s, const struct secret_keyring *kr,
	       const char *owner, int64_t owner_id, const char *name,
	       uint8_t **val, size_t *len);
/* Deletes (owner, owner_id, name), or all of the owner's secrets when
 * `name` is NULL. Returns 0 or -1. */
int secret_delete(struct store *s, const char *owner, int64_t owner_id,
		  const char *name);

/* Key rotation, in four steps so that the caller can put the re-encryption
 * and its audit entry in one transaction:
 *   secret_rotate_prepare   new random key written to `path`.next (0600)
 *   store_begin; secret_rotate_reseal (every row, under the new key);
 *   audit entry; store_commit
 *   secret_rotate_finish    `path`.next renamed over `path`
 * or secret_rotate_abort after a rollback. A crash anywhere leaves a state
 * secret_keyring_recover() completes or undoes at the next start. */
int secret_rotate_prepare(struct secret_keyring *kr, char *err, size_t errlen);
/* Returns the number of secrets resealed, or -1 (logged). */
int secret_rotate_reseal(struct secret_keyring *kr, struct store *s);
int secret_rotate_finish(struct secret_keyring *kr, char *err, size_t errlen);
void secret_rotate_abort(struct secret_keyring *kr);
/* After an interrupted rotation: if the store's rows are sealed with the
 * `.next` key, the rotation committed and the rename is completed;
 * otherwise it did not and `.next` is removed. Returns 0 or -1. */
int secret_keyring_recover(struct secret_keyring *kr, struct store *s,
			   char *err, size_t errlen);

#endif
