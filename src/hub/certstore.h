/* certstore.h - the hub's ACME manager on the control plane's store:
 * certificates, keys and the account key sealed in the store instead of
 * [acme] state_dir, DNS-01 credentials set through the API, and the API's
 * renew/revoke reaching the manager. Active when the hub has a data_dir.
 * Control thread only. */
#ifndef POSTERN_HUB_CERTSTORE_H
#define POSTERN_HUB_CERTSTORE_H

#include <stdbool.h>

#include "api/api_acme.h"
#include "core/loop.h"

struct acme_mgr;
struct acme_mgr_hooks;
struct hub;

/* The hub's side of it (a field of struct hub; control thread only). */
struct certstore {
	struct acme_mgr *mgr;		/* attached manager, or NULL */
	struct api_acme_ops ops;	/* the API's renew/revoke reach it here */
	/* Where the manager's certificates, events, revocations, account
	 * key and DNS-01 credentials are kept (acme_records.h: the control
	 * plane's store, keyring and audit log; set by certstore_hooks;
	 * control thread). */
	struct acme_records rec;
	struct loop_timer republish;	/* publish after a manager callback */
	bool timer_ready, attached;
	bool syncing;			/* certstore_sync is running (no re-entry) */
};

/* Fills the manager's store-mode hooks. Returns false (hooks untouched)
 * when the hub has no control plane. */
bool certstore_hooks(struct hub *hub, struct acme_mgr_hooks *h);
/* Adds the hub's own name (the admin API's host) to the certificates
 * ordered, unless one of them covers it already. */
struct acme_mgr_cfg;
void certstore_want_hostname(struct acme_mgr_cfg *cfg, const char *hostname);
/* Once the manager runs: the API may ask it to renew and revoke, and the
 * stored certificates it orders are handed to it. */
void certstore_attach(struct hub *hub, struct acme_mgr *m);
/* Before the manager is freed. */
void certstore_detach(struct hub *hub);
/* Brings the manager in line with the store: certificates requested
 * through the API are added, deleted ones dropped. */
void certstore_sync(struct hub *hub);
/* Whether an imported certificate in the store covers `host` (so no
 * certificate is ordered for a route on it). */
bool certstore_covers(const struct hub *hub, const char *host);

#endif
