/* acme_chall.h - the challenge store: answers the front (HTTP-01 on :80)
 * and the TLS layer (TLS-ALPN-01 on :443) must give while an order is in
 * flight. The ACME worker thread writes; front workers read. One process-
 * wide store behind a mutex: entries are few and short-lived, and readers
 * get copies, so nothing is held across a lock. */
#ifndef POSTERN_ACME_ACME_CHALL_H
#define POSTERN_ACME_ACME_CHALL_H

#include <stddef.h>

#include "acme/acme_solver.h"

#define ACME_CHALL_PREFIX "/.well-known/acme-challenge/"
#define ACME_ALPN_PROTO "acme-tls/1"

/* HTTP-01: publishes / withdraws a token's key authorization. Returns 0,
 * -EINVAL (bad token) or -ENOMEM. */
int acme_chall_http_put(const char *token, const char *key_authz);
void acme_chall_http_del(const char *token);

/* For the front: when `path` (raw request path, `len` bytes) is
 * /.well-known/acme-challenge/<known token>, copies the key authorization
 * (the whole 200 response body, text/plain) into out and returns its
 * length; returns -ENOENT when the path is a challenge path with an unknown
 * token (answer 404), and 0 when the path is not a challenge path at all. */
long acme_chall_http_lookup(const char *path, size_t len, char *out, size_t cap);

/* TLS-ALPN-01: the RFC 8737 certificate and key to present for `domain`
 * when a client offers only "acme-tls/1". Returns 0, -EINVAL or -ENOMEM. */
int acme_chall_alpn_put(const char *domain, const char *cert_pem,
			const char *key_pem);
void acme_chall_alpn_del(const char *domain);
/* For the TLS layer: malloc'd copies of the certificate and key for
 * `domain` (SNI, case-insensitive). Returns 0 or -ENOENT. The caller frees
 * the key with secure_free(key, strlen(key)). */
int acme_chall_alpn_get(const char *domain, char **cert_pem, char **key_pem);
/* The TLS layer's TLS-ALPN-01 hook (tls_alpn_challenge_fn, tls/tls.h):
 * for `name` with a pending challenge, returns 1 with new references to
 * the validation certificate and key; else 0. Worker threads; quick. */
struct x509_st;
struct evp_pkey_st;
int acme_chall_tls_hook(void *arg, const char *name, struct x509_st **cert,
			struct evp_pkey_st **key);

/* Changes whenever an ALPN entry is added or removed (for caches). */
unsigned long acme_chall_alpn_generation(void);

/* Solvers backed by this store. */
extern const struct acme_solver_ops acme_http01_ops, acme_alpn01_ops;

#endif
