/* dns_hetzner.c - Hetzner DNS API (dns.hetzner.com/api/v1).
 *
 *   GET    /zones?name=<zone>      -> zones[0].id
 *   POST   /records                {"zone_id","type":"TXT","name":<relative>,"value","ttl"}
 *   DELETE /records/<id>
 * Auth-API-Token: <api_token>. Errors come as {"error":{"message","code"}}
 * or {"message"}. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "acme/dns_provider_int.h"

static void hz_detail(json_t *j, char *out, size_t cap)
{
	const char *msg = dns_json_str(j, "error.message");

	snprintf(out, cap, "%s", msg ? msg : dns_json_str(j, "message") ?
		 dns_json_str(j, "message") : "");
}

static const struct dns_api hz_api = {
	.auth_prefix = "Auth-API-Token: ",
	.detail = hz_detail,
	.zone_path = "/zones?name=",
	.zone_id_at = "zones.id",
	.zone_name_at = "zones.name",
	.records_path = "/records",
	.value_key = "value",
	.name_relative = true,
	.zone_id_in_body = true,
	.record_id_at = "record.id",
};

static const char *const hz_keys[] = { "!api_token", "zone_id", "zone", NULL };

const struct dns_provider_ops dns_hetzner_ops = {
	.name = "hetzner",
	.default_url = "https://dns.hetzner.com/api/v1",
	.keys = hz_keys,
	.min_ttl = 60,
	DNS_API_OPS(&hz_api),
};
