/* dns_cloudflare.c - Cloudflare API v4 (dns_records) with an API token.
 *
 *   GET    /zones?name=<zone>                 -> result[0].id
 *   POST   /zones/<zone_id>/dns_records       {"type":"TXT","name","content","ttl"}
 *   DELETE /zones/<zone_id>/dns_records/<id>
 * Authorization: Bearer <api_token>. Answers are {"success","errors":[{"code",
 * "message"}],"result"}. See docs/acme.md for the documentation followed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "acme/dns_provider_int.h"

static void cf_detail(json_t *j, char *out, size_t cap)
{
	json_t *e = json_array_get(json_object_get(j, "errors"), 0);
	json_t *code = json_object_get(e, "code");
	const char *msg = dns_json_str(j, "errors.message");

	if (json_is_integer(code))
		snprintf(out, cap, "%s (code %lld)", msg ? msg : "",
			 (long long)json_integer_value(code));
	else
		snprintf(out, cap, "%s", msg ? msg : "");
}

static bool cf_ok(json_t *j)
{
	return json_is_true(json_object_get(j, "success"));
}

static const struct dns_api cf_api = {
	.auth_prefix = "Authorization: Bearer ",
	.detail = cf_detail,
	.zone_path = "/zones?name=",
	.ok = cf_ok,
	.zone_id_at = "result.id",
	.records_path = "/zones/{zone_id}/dns_records",
	.value_key = "content",
	.record_id_at = "result.id",
};

static const char *const cf_keys[] = { "!api_token", "zone_id", "zone", NULL };

const struct dns_provider_ops dns_cloudflare_ops = {
	.name = "cloudflare",
	.default_url = "https://api.cloudflare.com/client/v4",
	.keys = cf_keys,
	.min_ttl = 60,
	DNS_API_OPS(&cf_api),
};
