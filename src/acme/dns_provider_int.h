/* dns_provider_int.h - helpers shared by the DNS provider modules. */
#ifndef POSTERN_ACME_DNS_PROVIDER_INT_H
#define POSTERN_ACME_DNS_PROVIDER_INT_H

#include <stdbool.h>

#include <jansson.h>

#include "acme/dns_provider.h"

/* An id from a provider's answer that goes into a URL path: 1..max of
 * [A-Za-z0-9_-]. Anything else is refused rather than escaped. */
bool dns_id_ok(const char *s, size_t max);

/* One JSON API call: `method` on url+`path` with `auth_header` ("Name:
 * value"; the caller wipes it) and an optional JSON body. On 0, *status is
 * the HTTP status and *out the parsed body (NULL when not JSON; caller
 * decrefs). Returns -errno on transport failure (message in err). */
int dns_http_json(struct dns_provider *p, const char *method, const char *path,
		  const char *auth_header, const char *body, long *status,
		  json_t **out, char *err, size_t errlen);

/* How a JSON API authenticates and reports errors. */
struct dns_api {
	const char *auth_prefix;	/* "Authorization: Bearer " + api_token */
	/* Writes the provider's error text from an error answer (j may be NULL). */
	void (*detail)(json_t *j, char *out, size_t cap);
	/* Extra success test beyond a 2xx status (NULL = none). */
	bool (*ok)(json_t *j);
	/* Where answers keep ids (dns_json_str paths): the zone's id in a
	 * zone lookup (NULL: the zone's name is its id, a 2xx says it
	 * exists), the zone's name there (NULL: not checked), and the new
	 * record's id in the answer to its creation. */
	const char *zone_id_at, *zone_name_at, *record_id_at;
	const char *zone_path;	/* the zone lookup: this + the zone's name */
	/* Where records are created, with "{zone_id}" or "{zone}" standing
	 * for the record's; one record is this + "/" + its id. */
	const char *records_path;
	/* The creation body: the member holding the TXT value, whether
	 * "name" is relative to the zone (else the FQDN), and whether the
	 * body names the zone as "zone_id". */
	const char *value_key;
	bool name_relative, zone_id_in_body;
};

#define DNS_WHAT_ZONE "zone lookup"	/* a 404 here means "no such zone" */

/* One authenticated call; the header carrying api_token is wiped after.
 * On 0, *out is the parsed answer (may be NULL; caller decrefs). Returns
 * -ENOENT for a 404 on DNS_WHAT_ZONE, -EPROTO for an error answer (message
 * "<provider>: <what> failed (HTTP n): <detail>"), or a transport -errno. */
int dns_api_call(struct dns_provider *p, const struct dns_api *api,
		 const char *method, const char *path, const char *body,
		 const char *what, json_t **out, char *err, size_t errlen);
/* The zone_find of a JSON API provider (p->ops->api): looks zone `cand`
 * up with a GET of api->zone_path + cand (a DNS_WHAT_ZONE call). Returns
 * 0 with its id in `id` (api->zone_id_at, checked with dns_id_ok), -ENOENT
 * when the account has no such zone (a 404, no usable id, or another
 * name at api->zone_name_at), or dns_api_call's errors. */
int dns_api_zone_find(struct dns_provider *p, const char *cand, char *id,
		      size_t cap, char *err, size_t errlen);
/* The add and del of a JSON API provider (p->ops->api): POST the body
 * the api describes to its records path and store the id found at
 * record_id_at as r->id; DELETE records path + "/" + r->id, ignoring the
 * answer. Return 0, -ENOMEM, -ENAMETOOLONG, dns_api_call's errors, or
 * dns_record_set_id's. */
int dns_api_add(struct dns_provider *p, struct dns_record *r, char *err, size_t errlen);
int dns_api_del(struct dns_provider *p, const struct dns_record *r, char *err, size_t errlen);
/* The ops members of a JSON API provider described by `api_`: the shared
 * calls above, over it. */
#define DNS_API_OPS(api_)                                                      \
	.zone_find = dns_api_zone_find, .add = dns_api_add,                    \
	.del = dns_api_del, .api = (api_)

/* Stores a record id from an answer (checked with dns_id_ok). Returns 0,
 * or -EPROTO with "<provider>: answer has no record id". */
int dns_record_set_id(struct dns_record *r, const char *id, const char *who,
		      char *err, size_t errlen);

/* String at a dotted path ("result.id"; arrays step into element 0). */
const char *dns_json_str(json_t *o, const char *path);
/* An id at a dotted path: the string there, or a positive integer
 * written into `buf`; NULL when neither. */
const char *dns_json_id(json_t *o, const char *path, char *buf, size_t cap);

/* Writes "<provider>: <what> failed (HTTP n): <detail>". */
void dns_fail(char *err, size_t errlen, const struct dns_provider *p,
	      const char *what, long status, const char *detail);

#endif
