/* acme_cert.h - X.509 pieces the ACME flow needs: CSRs, certificate facts
 * (names, validity, issuer, the ARI certID), the TLS-ALPN-01 validation
 * certificate (RFC 8737) and DER/PEM conversions. OpenSSL does the ASN.1. */
#ifndef POSTERN_ACME_ACME_CERT_H
#define POSTERN_ACME_ACME_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define ACME_CERT_MAX_NAMES 100

/* Facts about a certificate (the first one in a PEM chain). */
struct acme_cert_info {
	char *names[ACME_CERT_MAX_NAMES];	/* SAN dNSNames */
	size_t n_names;
	char *issuer;		/* issuer DN, one line */
	char *serial_hex;
	int64_t not_before, not_after;	/* Unix seconds */
	char *ari_id;		/* RFC 9773 certID, NULL without an AKI */
	bool self_signed;	/* issuer == subject and self-verified */
};

/* A DER CSR for `names` (CN = first name that fits 64 bytes, SANs = all),
 * signed with `key`, as base64url (malloc'd). NULL on failure. */
char *acme_csr_b64url(EVP_PKEY *key, const char *const *names, size_t n);
/* The first certificate of a PEM text as base64url DER; NULL if none. */
char *acme_cert_der_b64url(const char *pem);
/* Parses the first certificate of `pem`. Returns 0 or -EINVAL; free the
 * info with acme_cert_info_free (also after an error). */
int acme_cert_info_get(const char *pem, struct acme_cert_info *ci);
void acme_cert_info_free(struct acme_cert_info *ci);

/* Self-signed RFC 8737 certificate for `domain` carrying the critical
 * acmeIdentifier extension = SHA-256(key_authz), with its fresh P-256 key.
 * Returns 0 and PEM strings (malloc'd; the key is secret) or -EINVAL. */
int acme_alpn_cert_make(const char *domain, const char *key_authz,
			char **cert_pem, char **key_pem);

/* Checks that `cert_pem`'s first certificate matches private key `key_pem`
 * and is currently parseable. Returns 0 or -EINVAL. */
int acme_cert_key_match(const char *cert_pem, const char *key_pem);

#endif
