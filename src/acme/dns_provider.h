/* dns_provider.h - DNS-01 providers: put a TXT record in a zone through a
 * DNS host's API, and take it out again.
 *
 * A provider is made from its name and key/value settings (credentials
 * included; they are wiped on free and never appear in messages). Calls
 * block (libcurl or a DNS socket) and run on the ACME worker thread.
 *
 *   cloudflare    api_token [zone_id] [zone] [api_url]
 *   hetzner       api_token [zone_id] [zone] [api_url]
 *   digitalocean  api_token [zone] [api_url]
 *   route53       access_key_id secret_access_key [session_token]
 *                 [hosted_zone_id] [zone] [region] [api_url]
 *   rfc2136       server zone [tsig_name tsig_secret [tsig_algorithm]]
 * Every provider also takes ttl (seconds, default 60 or the provider's
 * minimum). api_url points a provider at another endpoint (tests). */
#ifndef POSTERN_ACME_DNS_PROVIDER_H
#define POSTERN_ACME_DNS_PROVIDER_H

#include <stddef.h>

#include "acme/acme_http.h"
#include "acme/dns_query.h"

struct dns_record {
	char fqdn[DNS_NAME_MAX + 1];	/* "_acme-challenge.example.com" */
	char value[128];		/* TXT value */
	char zone[DNS_NAME_MAX + 1];	/* found by dns_provider_add */
	char zone_id[128];
	char id[128];			/* the provider's record id */
};

struct dns_provider;
struct dns_api;

struct dns_provider_ops {
	const char *name;
	const char *default_url;
	const char *const *keys;	/* accepted keys; "!" prefix = required */
	unsigned min_ttl;
	/* Looks `cand` up as a zone. Returns 0 with its id, -ENOENT when the
	 * account has no such zone, or another -errno with a message. */
	int (*zone_find)(struct dns_provider *p, const char *cand, char *id,
			 size_t cap, char *err, size_t errlen);
	int (*add)(struct dns_provider *p, struct dns_record *r, char *err,
		   size_t errlen);
	int (*del)(struct dns_provider *p, const struct dns_record *r,
		   char *err, size_t errlen);
	/* A JSON API's description for the shared calls of
	 * dns_provider_int.h (NULL for the others). */
	const struct dns_api *api;
};

struct dns_provider {
	const struct dns_provider_ops *ops;
	char **keys, **vals;
	size_t n;
	struct acme_http *http;	/* borrowed; NULL for rfc2136 */
	const char *url;	/* api_url or the default */
	unsigned ttl;
};

/* Makes a provider. `kv` is "key", "value", ..., NULL. Unknown or missing
 * required keys are errors naming the key. `http` is borrowed. Returns 0
 * or -EINVAL with a message. */
int dns_provider_new(const char *name, const char *const *kv,
		     struct acme_http *http, struct dns_provider **out,
		     char *err, size_t errlen);
void dns_provider_free(struct dns_provider *p);
/* A setting's value or NULL. */
const char *dns_provider_get(const struct dns_provider *p, const char *key);
/* The names of all providers, NULL-terminated. */
extern const char *const dns_provider_names[];

/* Finds the zone holding r->fqdn (the `zone` setting, or walking up the
 * labels asking the provider) and creates the TXT record; r->zone,
 * r->zone_id and r->id are filled. Returns 0 or -errno with a message
 * that names the provider and quotes its error. */
int dns_provider_add(struct dns_provider *p, struct dns_record *r, char *err,
		     size_t errlen);
int dns_provider_del(struct dns_provider *p, const struct dns_record *r,
		     char *err, size_t errlen);

/* For providers: "<fqdn minus .zone>" ("_acme-challenge" or "_acme-challenge.www"). */
void dns_record_relative(const struct dns_record *r, char *out, size_t cap);

extern const struct dns_provider_ops dns_cloudflare_ops, dns_hetzner_ops,
	dns_digitalocean_ops, dns_route53_ops, dns_rfc2136_ops;

#endif
