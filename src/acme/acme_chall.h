/* acme_chall.h - the challenge store: answers the front (HTTP-01 on :80)
 * and the TLS layer (TLS-ALPN-01 on :443) must give while an order is in
 * flight. The ACME worker thread writes (through the solvers, whose ctx is
 * the store); front workers read. Its owner keeps it (the hub's front_ctx,
 * or `postern acme issue` for its standalone responders) and hands it to
 * both sides; it must outlive them. Entries are few and short-lived, and
 * readers get copies, so nothing is held across the store's lock. */
#ifndef POSTERN_ACME_ACME_CHALL_H
#define POSTERN_ACME_ACME_CHALL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "acme/acme_solver.h"

#define ACME_CHALL_PREFIX "/.well-known/acme-challenge/"
#define ACME_ALPN_PROTO "acme-tls/1"

struct acme_chall_entry;

struct acme_chall {
	pthread_mutex_t lock;		/* guards the lists and count */
	struct acme_chall_entry *http, *alpn;
	size_t count;
	atomic_ulong alpn_gen;
};

/* An empty store / frees every entry (no reader or writer left). */
void acme_chall_init(struct acme_chall *cs);
void acme_chall_fini(struct acme_chall *cs);

/* HTTP-01: publishes / withdraws a token's key authorization. Returns 0,
 * -EINVAL (bad token), -ENOSPC (store full) or -ENOMEM. */
int acme_chall_http_put(struct acme_chall *cs, const char *token,
			const char *key_authz);
void acme_chall_http_del(struct acme_chall *cs, const char *token);

/* For the front: when `path` (raw request path, `len` bytes) is
 * /.well-known/acme-challenge/<known token>, copies the key authorization
 * (the whole 200 response body, text/plain) into out and returns its
 * length; returns -ENOENT when the path is a challenge path with an unknown
 * token (answer 404), and 0 when the path is not a challenge path at all. */
long acme_chall_http_lookup(struct acme_chall *cs, const char *path, size_t len,
			   char *out, size_t cap);

/* TLS-ALPN-01: the RFC 8737 certificate and key to present for `domain`
 * when a client offers only "acme-tls/1". Returns 0, -EINVAL or -ENOMEM. */
int acme_chall_alpn_put(struct acme_chall *cs, const char *domain,
			const char *cert_pem, const char *key_pem);
void acme_chall_alpn_del(struct acme_chall *cs, const char *domain);
/* For the TLS layer: malloc'd copies of the certificate and key for
 * `domain` (SNI, case-insensitive). Returns 0 or -ENOENT. The caller frees
 * the key with secure_free(key, strlen(key)). */
int acme_chall_alpn_get(struct acme_chall *cs, const char *domain,
			char **cert_pem, char **key_pem);
/* The TLS layer's TLS-ALPN-01 hook (tls_alpn_challenge_fn, tls/tls.h;
 * arg = the store): for `name` with a pending challenge, returns 1 with
 * new references to the validation certificate and key; else 0. Worker
 * threads; quick. */
struct x509_st;
struct evp_pkey_st;
int acme_chall_tls_hook(void *arg, const char *name, struct x509_st **cert,
			struct evp_pkey_st **key);

/* Changes whenever an ALPN entry is added or removed (for caches). */
unsigned long acme_chall_alpn_generation(struct acme_chall *cs);

/* Solvers backed by a store: their struct acme_solver's ctx is it. */
extern const struct acme_solver_ops acme_http01_ops, acme_alpn01_ops;

#endif
