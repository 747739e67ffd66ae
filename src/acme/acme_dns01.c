/* acme_dns01.c - DNS-01: provider add, authoritative check, cleanup. */
#define LOG_SUBSYS "acme"
#include "acme/acme_dns01.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme/acme_key.h"
#include "acme/dns_query.h"
#include "core/clock.h"
#include "core/log.h"

#define DNS01_QUERY_MS 3000

int acme_dns01_visible(const char *const *servers, size_t n, const char *fqdn,
		       const char *value, char *why, size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		struct dns_answer a;
		int rc = dns_query(servers[i], fqdn, DNS_T_TXT, DNS01_QUERY_MS, &a);

		if (rc) {
			snprintf(why, whylen, "%s: %s", servers[i], strerror(-rc));
			return 0;
		}
		if (!dns_answer_has_txt(&a, fqdn, value)) {
			snprintf(why, whylen, "%s does not serve the TXT value yet (rcode %u)",
				 servers[i], a.rcode);
			return 0;
		}
	}
	return 1;
}

static int dns01_wait(struct acme_dns01 *d, char *err, size_t errlen)
{
	char store[ACME_DNS01_MAX_SERVERS][64], why[256] = "";
	const char *list[ACME_DNS01_MAX_SERVERS];
	size_t n = d->n_servers;
	uint64_t deadline = clock_mono_ns() + (uint64_t)d->timeout_s * NSEC_PER_SEC;
	struct timespec ts = { d->interval_ms / 1000,
			       (long)(d->interval_ms % 1000) * 1000000L };

	memcpy(list, d->servers, sizeof(list));
	if (n == 0) {
		n = dns_zone_servers(d->rec.zone, store, ACME_DNS01_MAX_SERVERS);
		for (size_t i = 0; i < n; i++)
			list[i] = store[i];
	}
	if (n == 0) {
		snprintf(err, errlen, "no authoritative servers found for zone %s "
			 "(set dns_check_servers)", d->rec.zone);
		return -ENOENT;
	}
	for (;;) {
		int rc = acme_dns01_visible(list, n, d->rec.fqdn, d->rec.value, why,
					    sizeof(why));
		if (rc)
			return rc < 0 ? rc : 0;
		if (clock_mono_ns() >= deadline)
			break;
		if (d->cancel && atomic_load(d->cancel)) {
			snprintf(err, errlen, "cancelled");
			return -ECANCELED;
		}
		nanosleep(&ts, NULL);
	}
	snprintf(err, errlen, "TXT %s not visible after %us: %s", d->rec.fqdn,
		 d->timeout_s, why);
	return -ETIMEDOUT;
}

static int dns01_present(struct acme_solver *s, const char *domain,
			 const char *token, const char *ka, char *err,
			 size_t errlen)
{
	struct acme_dns01 *d = s->ctx;
	int rc;

	memset(&d->rec, 0, sizeof(d->rec));
	if (snprintf(d->rec.fqdn, sizeof(d->rec.fqdn), "_acme-challenge.%s",
		     domain) >= (int)sizeof(d->rec.fqdn))
		return -EINVAL;
	acme_dns01_value(ka, d->rec.value);
	rc = dns_provider_add(d->provider, &d->rec, err, errlen);
	if (rc)
		return rc;
	d->have_rec = true;
	rc = dns01_wait(d, err, errlen);
	if (rc == 0)
		log_info("TXT %s visible at the authoritative servers", d->rec.fqdn);
	return rc;
}

static void dns01_cleanup(struct acme_solver *s, const char *domain,
			  const char *token, const char *ka)
{
	struct acme_dns01 *d = s->ctx;
	char err[256];

	if (!d->have_rec)
		return;
	dns_provider_del(d->provider, &d->rec, err, sizeof(err));
	d->have_rec = false;
}

static const struct acme_solver_ops dns01_ops = {
	.type = "dns-01",
	.present = dns01_present,
	.cleanup = dns01_cleanup,
};

void acme_dns01_init(struct acme_dns01 *d, struct dns_provider *provider)
{
	memset(d, 0, sizeof(*d));
	d->solver.ops = &dns01_ops;
	d->solver.ctx = d;
	d->provider = provider;
	d->timeout_s = 120;
	d->interval_ms = 2000;
}
