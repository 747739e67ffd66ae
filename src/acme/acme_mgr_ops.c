/* acme_mgr_ops.c - what the hub asks of the certificate manager: route
 * hosts, certificates requested or deleted through the API, renew and
 * revoke now. Control thread only. */
#define LOG_SUBSYS "acme"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_mgr_int.h"
#include "acme/acme_name.h"
#include "core/log.h"

static bool mgr_covered(const struct acme_mgr *m, const char *host)
{
	for (size_t i = 0; i < ACME_MGR_MAX_CERTS; i++)
		for (size_t k = 0; m->certs[i].used && !m->certs[i].dropped &&
				   k < m->certs[i].n_names; k++)
			if (acme_name_covers(m->certs[i].names[k], host) ||
			    !strcmp(m->certs[i].names[k], host))
				return true;
	return false;
}

void acme_mgr_set_hosts(struct acme_mgr *m, const char *const *hosts, size_t n)
{
	char names[1][256], id[64];

	if (!m->cfg.route_hosts)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!acme_name_valid(hosts[i], true) || mgr_covered(m, hosts[i]))
			continue;
		snprintf(names[0], sizeof(names[0]), "%s", hosts[i]);
		snprintf(id, sizeof(id), "%s%s", hosts[i][0] == '*' ? "_wildcard" : "",
			 hosts[i][0] == '*' ? hosts[i] + 1 : hosts[i]);
		log_info("route host %s has no certificate: ordering one", hosts[i]);
		acme_mgr_cert_add(m, id, (const char (*)[256])names, 1, NULL);
	}
	acme_mgr_metrics_refresh(m);
}

int acme_mgr_renew_now(struct acme_mgr *m, const char *id)
{
	struct mgr_cert *c = acme_mgr_cert_find(m, id);

	if (!c)
		return -ENOENT;
	if (!c->busy)
		acme_mgr_submit(m, c, ACME_JOB_ISSUE);
	return 0;
}

bool acme_mgr_has(const struct acme_mgr *m, const char *id)
{
	return acme_mgr_cert_find((struct acme_mgr *)m, id) != NULL;
}

int acme_mgr_add(struct acme_mgr *m, const char *id, const char *const *names,
		 size_t n, const struct acme_mgr_opts *opts)
{
	char (*copy)[256];
	struct mgr_cert *c;

	if (acme_mgr_cert_find(m, id))
		return -EEXIST;
	if (n == 0 || n > ACME_MGR_MAX_NAMES || !(copy = calloc(n, sizeof(*copy))))
		return -ENOSPC;
	for (size_t i = 0; i < n; i++)
		snprintf(copy[i], sizeof(copy[i]), "%s", names[i]);
	c = acme_mgr_cert_add(m, id, (const char (*)[256])copy, n, opts);
	free(copy);
	acme_mgr_metrics_refresh(m);
	return c ? 0 : -ENOSPC;
}

int acme_mgr_remove(struct acme_mgr *m, const char *id)
{
	struct mgr_cert *c = acme_mgr_cert_find(m, id);

	if (!c)
		return -ENOENT;
	loop_timer_disarm(m->loop, &c->timer);
	if (c->busy)
		c->dropped = true;	/* mgr_done frees the slot */
	else
		c->used = false;
	log_info("certificate %s: no longer managed", id);
	acme_mgr_metrics_refresh(m);
	return 0;
}

int acme_mgr_revoke(struct acme_mgr *m, const char *id, const char *cert_pem,
		    int reason)
{
	struct acme_job *j = calloc(1, sizeof(*j));

	if (!j || !(j->cert_pem = strdup(cert_pem))) {
		free(j);
		return -ENOMEM;
	}
	j->kind = ACME_JOB_REVOKE;
	j->reason = reason;
	snprintf(j->id, sizeof(j->id), "%s", id);
	acme_worker_submit(m->worker, j);
	return 0;
}

void acme_mgr_prune(struct acme_mgr *m, bool (*keep)(void *arg, const char *id),
		    void *arg)
{
	for (size_t i = 0; i < ACME_MGR_MAX_CERTS; i++) {
		struct mgr_cert *c = &m->certs[i];

		if (c->used && !c->dropped && !keep(arg, c->id))
			acme_mgr_remove(m, c->id);
	}
}
