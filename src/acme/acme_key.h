/* acme_key.h - keys, JWS signing (RFC 7515 flattened JSON, as RFC 8555
 * s6.2 requires), JWK thumbprints (RFC 7638), key authorizations and
 * External Account Binding (RFC 8555 s7.3.4).
 *
 * Account keys sign with ES256 (P-256, the default) or RS256 (RSA). The
 * same key types serve as certificate keys (acme_key_type). */
#ifndef POSTERN_ACME_ACME_KEY_H
#define POSTERN_ACME_ACME_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "core/enc.h"

enum acme_key_type {
	ACME_KEY_EC256 = 0,	/* default */
	ACME_KEY_RSA2048,
	ACME_KEY_RSA3072,
	ACME_KEY_TYPE_MAX
};

struct acme_key {
	EVP_PKEY *pkey;
	void *jwk;		/* cjose_jwk_t *, private */
	const char *alg;	/* "ES256" or "RS256" */
	char *jwk_json;		/* public JWK in RFC 7638 member order */
	char thumb[B64URL_LEN(32)];
};

/* "ec256", "rsa2048", "rsa3072" <-> enum. Parse returns 0 or -EINVAL. */
int acme_key_type_parse(const char *s, enum acme_key_type *out);
const char *acme_key_type_name(enum acme_key_type t);

/* Generates a bare OpenSSL key of type `t`. NULL on failure. */
EVP_PKEY *acme_pkey_generate(enum acme_key_type t);

/* Generates an account key. Returns 0 or -errno. */
int acme_key_generate(enum acme_key_type t, struct acme_key *k);
/* Loads a PEM private key (EC P-256 or RSA >= 2048). Returns 0 or -EINVAL. */
int acme_key_from_pem(const char *pem, size_t len, struct acme_key *k);
/* Takes ownership of `pkey` on success. Returns 0 or -EINVAL. */
int acme_key_from_pkey(EVP_PKEY *pkey, struct acme_key *k);
void acme_key_free(struct acme_key *k);

/* PEM (PKCS#8) of a private key, malloc'd and NUL-terminated; the caller
 * wipes it (secure_free with strlen+1). NULL on failure. */
char *acme_pkey_to_pem(EVP_PKEY *pkey);

/* Signs `payload` (NUL-terminated; "" for POST-as-GET) for `url`.
 * With `kid` the header names the account; without it carries the JWK
 * (newAccount, revocation by certificate key). Returns the flattened JWS
 * JSON (malloc'd) or NULL. */
char *acme_jws_sign(const struct acme_key *k, const char *kid,
		    const char *nonce, const char *url, const char *payload);

/* The externalAccountBinding object for newAccount: a JWS over the account
 * key's public JWK, HS256 with the CA-issued MAC key (`mac_b64url`, as the
 * CA hands it out). Returns malloc'd JSON or NULL (bad key encoding). */
char *acme_jws_eab(const struct acme_key *k, const char *eab_kid,
		   const char *mac_b64url, const char *url);

/* keyAuthorization = token "." thumbprint (RFC 8555 s8.1); malloc'd. */
char *acme_key_authz(const struct acme_key *k, const char *token);

/* base64url(SHA-256(s)): the DNS-01 TXT value (RFC 8555 s8.4). */
void acme_dns01_value(const char *key_authz, char out[B64URL_LEN(32)]);

#endif
