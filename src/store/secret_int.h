/* secret_int.h - pieces of secret.c that secret_rotate.c shares. */
#ifndef POSTERN_STORE_SECRET_INT_H
#define POSTERN_STORE_SECRET_INT_H

#include <sodium.h>

#include "store/secret.h"

#define SECRET_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define SECRET_TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES

/* Returns a new "PATH.next" string (free it), or NULL. */
char *secret_next_path(const struct secret_keyring *kr);
/* Makes a new random key and writes it to `path` (0600). Returns 0 or -1. */
int secret_key_create(struct secret_key *k, const char *path, char *err,
		      size_t errlen);
/* The key of the ring named `id`, or NULL. */
const struct secret_key *secret_keyring_find(const struct secret_keyring *kr,
					     const char *id);
/* Decrypts `ct` into a new NUL-terminated buffer (*val, *len).
 * Returns 0, -EBADMSG or -ENOMEM. */
int secret_open(const struct secret_key *k, const char *owner, int64_t owner_id,
		const char *name, const uint8_t *ct, size_t ctlen,
		const uint8_t *nonce, uint8_t **val, size_t *len);
/* Seals and stores a value under key `k`. Returns 0 or -1. */
int secret_put_with(struct store *s, const struct secret_key *k,
		    const char *owner, int64_t owner_id, const char *name,
		    const void *val, size_t len);

#endif
