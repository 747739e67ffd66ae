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
	.records_path = "/domains/{zone}/records",
	.value_key = "data",
	.name_relative = true,
	.record_id_at = "domain_record.id",
};

static const char *const do_keys[] = { "!api_token", "zone", NULL };

const struct dns_provider_ops dns_digitalocean_ops = {
	.name = "digitalocean",
	.default_url = "https://api.digitalocean.com/v2",
	.keys = do_keys,
	.min_ttl = 30,
	DNS_API_OPS(&do_api),
};
