/* audit_key.h - the Ed25519 key that signs audit checkpoints.
 *
 * The private key is a PKCS#8 PEM file (0600) outside the database; its
 * public half is written beside it as PATH.pub, which is all that
 * `postern audit verify` needs. An attacker who can write the database
 * but cannot read the key file cannot forge a checkpoint. */
#ifndef POSTERN_AUDIT_AUDIT_KEY_H
#define POSTERN_AUDIT_AUDIT_KEY_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_KEY_ID_LEN 16	/* hex: first 8 bytes of SHA-256(public key) */

struct audit_key {
	EVP_PKEY *pkey;
	bool has_private;
	char id[AUDIT_KEY_ID_LEN + 1];
	char fingerprint[65];	/* SHA-256 of the raw public key, hex */
};

/* Loads the private key at `path`; when it is missing and `create` is set,
 * generates one and writes `path` (0600) and `path`.pub (0644).
 * Returns 0 or -1 with a message in `err`. */
int audit_key_load_private(struct audit_key *k, const char *path, bool create,
			   char *err, size_t errlen);
/* Loads a public key (PEM "PUBLIC KEY"), or the public half of a private
 * key file. Returns 0 or -1 with a message. */
int audit_key_load_public(struct audit_key *k, const char *path, char *err,
			  size_t errlen);
void audit_key_free(struct audit_key *k);

/* Signs `len` bytes into `sig` (64 bytes). Returns 0 or -1. */
int audit_key_sign(const struct audit_key *k, const uint8_t *msg, size_t len,
		   uint8_t sig[64]);
bool audit_key_verify(const struct audit_key *k, const uint8_t *msg, size_t len,
		      const uint8_t sig[64]);

#endif
