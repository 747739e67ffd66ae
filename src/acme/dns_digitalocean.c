/* dns_digitalocean.c - DigitalOcean API v2 domain records.
 *
 *   GET    /domains/<zone>                  -> 200 or 404
 *   POST   /domains/<zone>/records          {"type":"TXT","name":<relative>,"data","ttl"}
 *                                           -> 201 {"domain_record":{"id":N}}
 *   DELETE /domains/<zone>/records/<id>     -> 204
 * Authorization: Bearer <api_token>. Errors: {"id","message"}. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "acme/dns_provider_int.h"

static void do_detail(json_t *j, char *out, size_t cap)
{
	const char *id = dns_json_str(j, "id"), *msg = dns_json_str(j, "message");

	snprintf(out, cap, "%s%s%s", id ? id : "", id && msg ? ": " : "",
		 msg ? msg : "");
}

static const struct dns_api do_api = {
	.auth_prefix = "Authorization: Bearer ",
	.detail = do_detail,
	.zone_path = "/domains/",
	.record_id_at = "domain_record.id",
};

static int do_add(struct dns_provider *p, struct dns_record *r, char *err,
		  size_t errlen)
{
	char rel[DNS_NAME_MAX + 1], path[300];

	dns_record_relative(r, rel, sizeof(rel));
	snprintf(path, sizeof(path), "/domains/%s/records", r->zone);
	return dns_api_create(p, &do_api, path,
			      json_pack("{s:s, s:s, s:s, s:i}", "type", "TXT", "name", rel,
					"data", r->value, "ttl", (int)p->ttl),
			      r, err, errlen);
}

static int do_del(struct dns_provider *p, const struct dns_record *r, char *err,
		  size_t errlen)
{
	char path[600];

	snprintf(path, sizeof(path), "/domains/%s/records/%s", r->zone, r->id);
	return dns_api_delete(p, &do_api, path, err, errlen);
}

static const char *const do_keys[] = { "!api_token", "zone", NULL };

const struct dns_provider_ops dns_digitalocean_ops = {
	.name = "digitalocean",
	.default_url = "https://api.digitalocean.com/v2",
	.keys = do_keys,
	.min_ttl = 30,
	.zone_find = dns_api_zone_find,
	.add = do_add,
	.del = do_del,
	.api = &do_api,
};
