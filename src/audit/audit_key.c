/* audit_key.c - loading, creating and using the Ed25519 signing key. */
#define LOG_SUBSYS "audit"
#include "audit/audit_key.h"

#include <errno.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/enc.h"
#include "core/log.h"
#include "core/secure.h"
#include "store/keyfile.h"

#define AUDIT_KEY_FILE_MAX 4096

/* Fills id and fingerprint from the public key. */
static int audit_key_name(struct audit_key *k)
{
	uint8_t raw[32], md[32];
	size_t len = sizeof(raw);

	if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &len) != 1 || len != 32 ||
	    EVP_Digest(raw, len, md, NULL, EVP_sha256(), NULL) != 1)
		return -1;
	enc_hex_encode(k->fingerprint, md, sizeof(md));
	memcpy(k->id, k->fingerprint, AUDIT_KEY_ID_LEN);
	k->id[AUDIT_KEY_ID_LEN] = 0;
	return 0;
}

static int audit_key_check_type(struct audit_key *k, const char *path,
				char *err, size_t errlen)
{
	if (!k->pkey || EVP_PKEY_get_id(k->pkey) != EVP_PKEY_ED25519 ||
	    audit_key_name(k) < 0) {
		snprintf(err, errlen, "%s: not an Ed25519 key", path);
		audit_key_free(k);
		return -1;
	}
	return 0;
}

/* Writes the public half as PEM to `path`.pub (0644: it is public). */
static int audit_key_write_public(struct audit_key *k, const char *path,
				  char *err, size_t errlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char pub[4096];
	char *data;
	long n;
	int rc = -1;

	if (snprintf(pub, sizeof(pub), "%s.pub", path) >= (int)sizeof(pub) || !b)
		goto out;
	if (PEM_write_bio_PUBKEY(b, k->pkey) != 1)
		goto out;
	n = BIO_get_mem_data(b, &data);
	rc = keyfile_write(pub, data, (size_t)n, 0644, err, errlen);
out:
	if (rc < 0 && !err[0])
		snprintf(err, errlen, "%s.pub: cannot write", path);
	BIO_free(b);
	return rc;
}

static int audit_key_create(struct audit_key *k, const char *path, char *err,
			    size_t errlen)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *data;
	long n;
	int rc = -1;

	err[0] = 0;
	k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!b || !k->pkey ||
	    PEM_write_bio_PKCS8PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	n = BIO_get_mem_data(b, &data);
	if (keyfile_write(path, data, (size_t)n, 0600, err, errlen) < 0)
		goto out;
	k->has_private = true;
	if (audit_key_name(k) == 0)
		rc = audit_key_write_public(k, path, err, errlen);
	if (rc == 0)
		log_info("created the audit signing key %s (id %s)", path, k->id);
out:
	if (rc < 0 && !err[0])
		snprintf(err, errlen, "%s: cannot create an Ed25519 key", path);
	BIO_free(b);
	return rc;
}

int audit_key_load_private(struct audit_key *k, const char *path, bool create,
			   char *err, size_t errlen)
{
	char *text = malloc(AUDIT_KEY_FILE_MAX);
	ssize_t n;
	BIO *b;

	memset(k, 0, sizeof(*k));
	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = keyfile_read(path, text, AUDIT_KEY_FILE_MAX, err, errlen);
	if (n == -ENOENT && create) {
		free(text);
		if (audit_key_create(k, path, err, errlen) == 0)
			return 0;
		audit_key_free(k);
		return -1;
	}
	if (n == -ENOENT)
		snprintf(err, errlen, "%s: no such file", path);
	if (n >= 0 && (b = BIO_new_mem_buf(text, (int)n))) {
		k->pkey = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	secure_free(text, AUDIT_KEY_FILE_MAX);
	if (n < 0)
		return -1;
	k->has_private = true;
	return audit_key_check_type(k, path, err, errlen);
}

int audit_key_load_public(struct audit_key *k, const char *path, char *err,
			  size_t errlen)
{
	FILE *f = fopen(path, "re");

	memset(k, 0, sizeof(*k));
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	k->pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k->pkey) {
		/* A private key file will do (its public half is used). */
		char priv_err[256];
		if (audit_key_load_private(k, path, false, priv_err,
					   sizeof(priv_err)) == 0) {
			k->has_private = false;
			return 0;
		}
	}
	return audit_key_check_type(k, path, err, errlen);
}

void audit_key_free(struct audit_key *k)
{
	EVP_PKEY_free(k->pkey);
	memset(k, 0, sizeof(*k));
}

int audit_key_sign(const struct audit_key *k, const uint8_t *msg, size_t len,
		   uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = 64;
	int ok;

	ok = ctx && k->has_private &&
	     EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 && siglen == 64;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

bool audit_key_verify(const struct audit_key *k, const uint8_t *msg, size_t len,
		      const uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok;

	ok = ctx && k->pkey &&
	     EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestVerify(ctx, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}
