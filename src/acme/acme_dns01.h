/* acme_dns01.h - the DNS-01 solver: a TXT record through a DNS provider,
 * then a wait until every authoritative server of the zone serves it, and
 * removal afterwards (RFC 8555 s8.4). */
#ifndef POSTERN_ACME_ACME_DNS01_H
#define POSTERN_ACME_ACME_DNS01_H

#include <stdatomic.h>

#include "acme/acme_solver.h"
#include "acme/dns_provider.h"

#define ACME_DNS01_MAX_SERVERS 8

struct acme_dns01 {
	struct acme_solver solver;	/* hand this to the client */
	struct dns_provider *provider;	/* borrowed */
	/* Servers to check ("ip[:port]"); none = the zone's NS records,
	 * found through the system resolver. */
	const char *servers[ACME_DNS01_MAX_SERVERS];
	size_t n_servers;
	unsigned timeout_s;		/* propagation wait (120) */
	unsigned interval_ms;		/* between checks (2000) */
	const atomic_bool *cancel;	/* stops the wait when set (or NULL) */
	struct dns_record rec;		/* the record in place, if any */
	bool have_rec;
};

/* Sets up the solver around `provider`. */
void acme_dns01_init(struct acme_dns01 *d, struct dns_provider *provider);

/* Checks once whether every server in `servers` answers `fqdn` TXT with
 * `value`. Returns 1 (all do), 0 (not yet; `why` says which) or -errno. */
int acme_dns01_visible(const char *const *servers, size_t n, const char *fqdn,
		       const char *value, char *why, size_t whylen);

#endif
