/* cert.h - the store's certificate rows (SQL for src/api/api_acme*.c,
 * src/hub/certstore.c and the hub's certificate loading lives here).
 *
 * Writes run inside the caller's transaction (the API's, with its audit
 * entry); reads run on their own. Control thread. */
#ifndef POSTERN_STORE_CERT_H
#define POSTERN_STORE_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Names handed to store_cert_each_acme (more are left out); the ACME
 * manager's own limit (hub/certstore.c checks they agree). */
#define STORE_CERT_MAX_NAMES 16

/* What a certificate row records about its chain. */
struct store_cert_row {
	const char *name;		/* the certificate's own name */
	const char *source;		/* "acme", "self-signed", "manual" */
	const char *names;		/* JSON array of DNS names */
	const char *issuer, *serial, *fingerprint;
	int64_t not_before, not_after;	/* ms */
	const char *chain;		/* PEM */
	const char *acme;		/* order options (JSON) or NULL */
};

/* The order options kept with a certificate the hub orders itself. */
struct store_cert_acme {
	const char *challenge, *key_type, *dns_provider;	/* or NULL */
};

/* The id of certificate `name`: >0, 0 when there is none, -1 on error. */
int64_t store_cert_id(struct store *s, const char *name);
/* The chain of certificate `name` (malloc'd), or NULL when there is none
 * or it was revoked. */
char *store_cert_pem(struct store *s, const char *name);
/* Inserts (id 0) or replaces row `id` with `row`, rev = `rev`; clears
 * last_error and revoked_at. Returns the id or -1. */
int64_t store_cert_write(struct store *s, int64_t id, int64_t rev,
			 const struct store_cert_row *row);
/* Sets certificate `id`'s last_error. Returns 0 or -1. */
int store_cert_set_error(struct store *s, int64_t id, const char *text);
/* Marks certificate `id` revoked at `now_ms` (revoked = true), or live
 * again with no error (revoked = false); rev = `rev`. Returns 0 or -1. */
int store_cert_set_revoked(struct store *s, int64_t id, int64_t rev,
			   bool revoked, int64_t now_ms);
/* Calls fn for every certificate the hub orders itself (not imported,
 * not revoked), oldest first, with its names and order options.
 * Returns 0 or -1. */
typedef void store_cert_acme_fn(void *arg, const char *name,
				const char *const *names, size_t n,
				const struct store_cert_acme *o);
int store_cert_each_acme(struct store *s, store_cert_acme_fn *fn, void *arg);
/* Calls fn for every certificate row (id, name, chain), oldest first.
 * Returns 0 or -1. */
typedef void store_cert_row_fn(void *arg, int64_t id, const char *name,
			       const char *chain);
int store_cert_each(struct store *s, store_cert_row_fn *fn, void *arg);
/* Whether an imported certificate, unrevoked and unexpired at `now_ms`,
 * covers `host` ("*.example.com" covers one label, not the apex). */
bool store_cert_covers(struct store *s, const char *host, int64_t now_ms);

#endif
