/* acme_records.h - the certificate manager's records in the store: the
 * certificates it issues (row + sealed key), their events and
 * revocations, its account key and the DNS-01 credentials it reads.
 * Each change is one transaction with its audit entry by actor "system"
 * (audit_tx_*); the SQL itself is the store's (store/cert.h,
 * store/secret.h). The hub's certstore and the admin API both write
 * through here, so neither reaches the other's tables. Control thread. */
#ifndef POSTERN_ACME_ACME_RECORDS_H
#define POSTERN_ACME_ACME_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "store/cert.h"
#include "store/secret.h"

/* The control plane's store, secrets keyring and audit log (the API's;
 * api_acme_records hands them out). Borrowed, never freed here. */
struct acme_records {
	struct store *store;
	const struct secret_keyring *keys;
	struct audit *audit;
};

/* Inside the caller's transaction `seq`: writes certificate `name` as
 * row `id` (0 inserts) with the facts of `chain` (tls_cert_facts),
 * `source` and the order options `opts` (JSON), and seals `key` as its
 * private key. Returns the row id, or -1 (the caller rolls back). */
int64_t acme_records_cert_put(const struct acme_records *r, int64_t id, int64_t seq,
			      const char *name, const json_t *facts, const char *source,
			      const char *chain, const char *opts, const char *key);
/* Stores chain + key as certificate `name` (inserted or replaced; source
 * "self-signed" when what is "self-signed", else "acme"), with the audit
 * entry "certificate.WHAT". Returns 0 or -1 with a message in err. */
int acme_records_cert_save(const struct acme_records *r, const char *name,
			   const struct store_cert_acme *o, const char *chain,
			   const char *key, const char *what, char *err, size_t errlen);
/* Records an event ("failed", "expiring") about certificate `name`; a
 * failure is also kept as the certificate's last_error. */
void acme_records_cert_event(const struct acme_records *r, const char *name,
			     const char *event, const char *detail);
/* Records a finished revocation (rc 0: revoked_at is set). */
void acme_records_cert_revoked(const struct acme_records *r, const char *name, int rc,
			       const char *err);
/* The account key (PEM, wipe and free it): the stored one, else the one in
 * `legacy_file` (moved into the store), else a new P-256 key. NULL with
 * err on failure. */
char *acme_records_account_key(const struct acme_records *r, const char *legacy_file,
			       char *err, size_t errlen);
/* The stored DNS-01 settings of `provider` as "key", "value", ..., NULL
 * (free with acme_kv_free): those set with PUT /dns-providers/NAME, else
 * the acme.dns_api_token setting as api_token; NULL when neither is. */
char **acme_records_dns_creds(const struct acme_records *r, const char *provider);

#endif
