/* dns_rfc2136.c - the generic provider: DNS UPDATE (RFC 2136) over TCP to
 * the zone's primary, signed with TSIG (RFC 8945, hmac-sha256/-sha512).
 *
 *   zone section  <zone> SOA IN
 *   update        add:    <fqdn> <ttl> IN TXT "<value>"
 *                 delete: <fqdn> 0 NONE TXT "<value>"   (that value only)
 *   additional    TSIG <tsig_name> (when tsig_name is set)
 * The server's rcode decides: NOERROR is success; anything else is an
 * error naming the rcode (NOTAUTH usually means a wrong key). The message,
 * its TSIG and the check of the reply's TSIG are ldns's (dns_update). */
#define LOG_SUBSYS "acme"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "acme/dns_provider_int.h"
#include "acme/dns_query.h"

#define UPD_TIMEOUT_MS 10000

static const char *const rcodes[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

static int upd_send(struct dns_provider *p, const struct dns_record *r,
		    const char *zone, bool add, char *err, size_t errlen)
{
	struct dns_update u = {
		.server = dns_provider_get(p, "server"), .zone = zone,
		.fqdn = r->fqdn, .value = r->value, .ttl = p->ttl, .add = add,
		.tsig_name = dns_provider_get(p, "tsig_name"),
		.tsig_secret = dns_provider_get(p, "tsig_secret"),
		.tsig_alg = dns_provider_get(p, "tsig_algorithm"),
		.timeout_ms = UPD_TIMEOUT_MS,
	};
	char why[200] = "";
	int rc = dns_update(&u, why, sizeof(why));

	if (rc < 0) {
		snprintf(err, errlen, "rfc2136: %s", why);
		return rc;
	}
	if (rc) {
		snprintf(err, errlen, "rfc2136: %s %s refused: %s", add ? "adding" : "deleting",
			 r->fqdn, (size_t)rc < sizeof(rcodes) / sizeof(rcodes[0])
			 ? rcodes[rc] : "error");
		return -EPROTO;
	}
	return 0;
}

static int u_zone_find(struct dns_provider *p, const char *cand, char *id,
		       size_t cap, char *err, size_t errlen)
{
	snprintf(id, cap, "%s", cand);
	return 0;
}

static int u_add(struct dns_provider *p, struct dns_record *r, char *err,
		 size_t errlen)
{
	int rc = upd_send(p, r, r->zone, true, err, errlen);

	if (rc == 0)
		snprintf(r->id, sizeof(r->id), "%s", r->value);
	return rc;
}

static int u_del(struct dns_provider *p, const struct dns_record *r, char *err,
		 size_t errlen)
{
	return upd_send(p, r, r->zone, false, err, errlen);
}

static const char *const u_keys[] = {
	"!server", "!zone", "tsig_name", "tsig_secret", "tsig_algorithm", NULL,
};

const struct dns_provider_ops dns_rfc2136_ops = {
	.name = "rfc2136",
	.default_url = "",
	.keys = u_keys,
	.min_ttl = 0,
	.zone_find = u_zone_find,
	.add = u_add,
	.del = u_del,
};
