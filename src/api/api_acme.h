/* api_acme.h - the control plane's side of the hub's ACME client.
 *
 * The certificate manager (acme/acme_mgr.h) keeps, in store mode, its
 * certificates in the `certificates` table (keys sealed in `secrets`), its
 * account key sealed as ("acme", 0, "account_key") and reads DNS-01
 * credentials sealed as ("dns_provider", 0, NAME). Each change is one
 * transaction with its audit entry, by actor "system". All functions run
 * on the control thread.
 *
 * The API in turn asks the manager to renew or revoke through the ops the
 * hub registers (api_set_acme); without them (no [acme] section) the
 * ACME endpoints answer 409 "acme_disabled". */
#ifndef POSTERN_API_API_ACME_H
#define POSTERN_API_API_ACME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/cert.h"

struct api;

/* What the API asks of the manager. */
struct api_acme_ops {
	/* Renew now; -ENOENT when `name` is not managed. */
	int (*renew)(void *ctx, const char *name);
	/* Queue revocation of `cert_pem`; the outcome comes back through
	 * api_acme_revoked. Returns 0 or -errno. */
	int (*revoke)(void *ctx, const char *name, const char *cert_pem, int reason);
	const char *challenges;		/* the [acme] challenges list */
	const char *dns_provider;	/* the [acme] dns_provider or "" */
	void *ctx;
};
void api_set_acme(struct api *api, const struct api_acme_ops *ops);

/* Stores chain + key as certificate `name` (inserted or replaced; source
 * "self-signed" when what is "self-signed", else "acme"), with the audit
 * entry "certificate.WHAT". Returns 0 or -1 with a message in err. */
int api_acme_cert_save(struct api *api, const char *name,
		       const struct store_cert_acme *o, const char *chain,
		       const char *key, const char *what, char *err, size_t errlen);
/* Inside a transaction: inserts (id 0) or replaces row `id` of
 * certificate `name` with `facts` (api_cert_facts), `source`, the chain
 * and the order options (JSON); rev = seq. Returns the id or -1. */
struct json_t;
int64_t api_acme_cert_write(struct api *api, int64_t id, int64_t seq,
			    const char *name, const struct json_t *facts,
			    const char *source, const char *chain, const char *opts);
/* Records an event ("failed", "expiring") about certificate `name`; a
 * failure is also kept as the certificate's last_error. */
void api_acme_cert_event(struct api *api, const char *name, const char *event,
			 const char *detail);
/* Records a finished revocation (rc 0: revoked_at is set). */
void api_acme_cert_revoked(struct api *api, const char *name, int rc,
			   const char *err);
/* The account key (PEM, wipe and free it): the stored one, else the one in
 * `legacy_file` (moved into the store), else a new P-256 key. NULL with
 * err on failure. */
char *api_acme_account_key(struct api *api, const char *legacy_file, char *err,
			   size_t errlen);
/* The stored DNS-01 settings of `provider` as "key", "value", ..., NULL
 * (free with acme_kv_free): those set with PUT /dns-providers/NAME, else
 * the acme.dns_api_token setting as api_token; NULL when neither is. */
char **api_acme_dns_creds(struct api *api, const char *provider);

#endif
