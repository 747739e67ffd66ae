/* certstore.c - the ACME manager's hooks onto the store (certstore.h). */
#define LOG_SUBSYS "acme"
#include "hub/certstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_mgr.h"
#include "acme/acme_name.h"
#include "acme/acme_records.h"
#include "api/api.h"
#include "api/api_acme.h"
#include "core/log.h"
#include "core/loop.h"
#include "hub/control.h"
#include "hub/hub.h"
#include "store/cert.h"

_Static_assert(STORE_CERT_MAX_NAMES == ACME_MGR_MAX_NAMES,
	       "the store hands the manager at most as many names as it takes");

static char *certstore_load(void *arg, const char *id)
{
	return store_cert_pem(api_store(hub_control_api(arg)), id);
}

/* Publishing from inside a manager callback could re-enter the manager
 * (the snapshot hands route hosts to it): the new certificate is
 * published from the loop's next turn instead. */
static void certstore_republish(struct loop_timer *t)
{
	struct hub *hub = t->data;

	if (!hub->stopping)
		hub_republish(hub);
}

static void certstore_publish_soon(struct hub *hub)
{
	struct certstore *cs = &hub->certs;

	if (!hub->loop)
		return;
	if (!cs->timer_ready) {
		loop_timer_init(&cs->republish, certstore_republish, hub);
		cs->timer_ready = true;
	}
	loop_timer_arm(hub->loop, &cs->republish, 0);
}

static const char *certstore_key_type(const struct acme_mgr_opts *o)
{
	return o && o->key_type_set ? acme_key_type_name(o->key_type) : NULL;
}

static int certstore_save(void *arg, const char *id, const char *names,
			  const struct acme_mgr_opts *o, const char *chain,
			  const char *key, const char *what, char *err, size_t errlen)
{
	struct store_cert_acme ao = {
		o && o->challenge[0] ? o->challenge : NULL, certstore_key_type(o),
		o && o->dns_provider[0] ? o->dns_provider : NULL,
	};

	struct hub *hub = arg;

	(void)names;
	if (acme_records_cert_save(&hub->certs.rec, id, &ao, chain, key, what, err,
				   errlen) < 0)
		return -1;
	certstore_publish_soon(arg);
	return 0;
}

static char *certstore_account_key(void *arg, char *err, size_t errlen)
{
	struct hub *hub = arg;

	return acme_records_account_key(&hub->certs.rec, hub->cfg.acme.account_key, err,
					errlen);
}

static char **certstore_dns_creds(void *arg, const char *provider)
{
	struct hub *hub = arg;

	return acme_records_dns_creds(&hub->certs.rec, provider);
}

/* Issued and renewed are recorded with the stored certificate; a failure
 * has no change of its own to go with. "certificate.expiring" comes from
 * the control plane's watcher (api_cert_expiry.c), which covers uploaded
 * certificates too and announces each threshold once across restarts. */
static void certstore_event(void *arg, enum acme_event ev, const char *id,
			    const char *names, const char *detail)
{
	struct hub *hub = arg;

	(void)names;
	if (ev == ACME_EV_FAILED)
		acme_records_cert_event(&hub->certs.rec, id, acme_event_name(ev), detail);
}

static void certstore_revoked(void *arg, const char *id, int rc, const char *err)
{
	struct hub *hub = arg;

	acme_records_cert_revoked(&hub->certs.rec, id, rc, err);
	certstore_publish_soon(hub);
}

bool certstore_hooks(struct hub *hub, struct acme_mgr_hooks *h)
{
	if (!hub_control_active(hub))
		return false;
	hub->certs.rec = api_acme_records(hub_control_api(hub));
	h->load = certstore_load;
	h->save = certstore_save;
	h->account_key = certstore_account_key;
	h->dns_creds = certstore_dns_creds;
	h->event = certstore_event;
	h->revoked = certstore_revoked;
	h->install = NULL;
	h->arg = hub;
	return true;
}

static int certstore_renew(void *ctx, const char *name)
{
	struct hub *hub = ctx;

	return hub->certs.mgr ? acme_mgr_renew_now(hub->certs.mgr, name) : -ENOENT;
}

static int certstore_revoke(void *ctx, const char *name, const char *cert_pem,
			    int reason)
{
	struct hub *hub = ctx;

	return hub->certs.mgr ? acme_mgr_revoke(hub->certs.mgr, name, cert_pem, reason)
			      : -ENOENT;
}

void certstore_attach(struct hub *hub, struct acme_mgr *m)
{
	struct certstore *cs = &hub->certs;

	if (!hub_control_active(hub))
		return;
	cs->mgr = m;
	cs->ops = (struct api_acme_ops){
		.renew = certstore_renew, .revoke = certstore_revoke,
		.challenges = hub->cfg.acme.challenges[0] ? hub->cfg.acme.challenges
							  : "http-01",
		.dns_provider = hub->cfg.acme.dns_provider, .ctx = hub,
	};
	api_set_acme(hub_control_api(hub), &cs->ops);
	cs->attached = true;
	certstore_sync(hub);
}

void certstore_detach(struct hub *hub)
{
	struct certstore *cs = &hub->certs;

	if (!cs->attached)
		return;
	api_set_acme(hub_control_api(hub), NULL);
	if (cs->timer_ready && hub->loop)
		loop_timer_disarm(hub->loop, &cs->republish);
	cs->timer_ready = cs->attached = false;
	cs->mgr = NULL;
}

static bool certstore_keep(void *arg, const char *id)
{
	char *pem = store_cert_pem(api_store(hub_control_api(arg)), id);

	free(pem);
	return pem != NULL;
}

static void certstore_add(void *arg, const char *name, const char *const *names,
			  size_t n, const struct store_cert_acme *o)
{
	struct acme_mgr *mgr = arg;
	struct acme_mgr_opts mo = { 0 };

	if (acme_mgr_has(mgr, name))
		return;
	snprintf(mo.challenge, sizeof(mo.challenge), "%s", o->challenge ? o->challenge : "");
	snprintf(mo.dns_provider, sizeof(mo.dns_provider), "%s",
		 o->dns_provider ? o->dns_provider : "");
	mo.key_type_set = o->key_type && acme_key_type_parse(o->key_type, &mo.key_type) == 0;
	if (acme_mgr_add(mgr, name, names, n, &mo) < 0)
		log_warn("certificate %s: cannot manage it (too many)", name);
}

void certstore_sync(struct hub *hub)
{
	struct certstore *cs = &hub->certs;

	if (!cs->attached || !cs->mgr || cs->syncing)
		return;
	cs->syncing = true;
	acme_mgr_prune(cs->mgr, certstore_keep, hub);
	store_cert_each_acme(api_store(hub_control_api(hub)), certstore_add, cs->mgr);
	cs->syncing = false;
}

bool certstore_covers(const struct hub *hub, const char *host)
{
	return hub_control_active(hub) &&
	       store_cert_covers(api_store(hub_control_api(hub)), host, store_now_ms());
}

void certstore_want_hostname(struct acme_mgr_cfg *cfg, const char *hostname)
{
	struct acme_mgr_want *w;

	if (!hostname || !hostname[0] || !acme_name_valid(hostname, false) ||
	    cfg->n_want == ACME_MGR_MAX_WANT || strlen(hostname) >= sizeof(w->id))
		return;
	for (size_t i = 0; i < cfg->n_want; i++)
		for (size_t k = 0; k < cfg->want[i].n_names; k++)
			if (!strcmp(cfg->want[i].names[k], hostname) ||
			    acme_name_covers(cfg->want[i].names[k], hostname))
				return;
	w = &cfg->want[cfg->n_want++];
	snprintf(w->id, sizeof(w->id), "%s", hostname);
	snprintf(w->names[0], sizeof(w->names[0]), "%s", hostname);
	w->n_names = 1;
}
