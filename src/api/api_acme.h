/* api_acme.h - the control plane's side of the hub's ACME client.
 *
 * The certificate manager (acme/acme_mgr.h) keeps, in store mode, its
 * certificates in the `certificates` table (keys sealed in `secrets`), its
 * account key sealed as ("acme", 0, "account_key") and reads DNS-01
 * credentials sealed as ("dns_provider", 0, NAME), through
 * acme/acme_records.h with the handles api_acme_records gives. All
 * functions run on the control thread.
 *
 * The API in turn asks the manager to renew or revoke through the ops the
 * hub registers (api_set_acme); without them (no [acme] section) the
 * ACME endpoints answer 409 "acme_disabled". */
#ifndef POSTERN_API_API_ACME_H
#define POSTERN_API_API_ACME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acme/acme_records.h"
#include "store/cert.h"

struct api;

/* What the API asks of the manager. */
struct api_acme_ops {
	/* Renew now; -ENOENT when `name` is not managed. */
	int (*renew)(void *ctx, const char *name);
	/* Queue revocation of `cert_pem`; the outcome comes back through
	 * acme_records_cert_revoked. Returns 0 or -errno. */
	int (*revoke)(void *ctx, const char *name, const char *cert_pem, int reason);
	const char *challenges;		/* the [acme] challenges list */
	const char *dns_provider;	/* the [acme] dns_provider or "" */
	void *ctx;
};
void api_set_acme(struct api *api, const struct api_acme_ops *ops);

/* The control plane's store, keyring and audit log as the certificate
 * manager's records use them (acme_records.h: the hub's certstore writes
 * certificates, events and revocations through those, never through the
 * API). Borrowed from `api`. */
struct acme_records api_acme_records(struct api *api);

#endif
