/* dns_hetzner.c - Hetzner DNS API (dns.hetzner.com/api/v1).
 *
 *   GET    /zones?name=<zone>      -> zones[0].id
 *   POST   /records                {"zone_id","type":"TXT","name":<relative>,"value","ttl"}
 *   DELETE /records/<id>
 * Auth-API-Token: <api_token>. Errors come as {"error":{"message","code"}}
 * or {"message"}. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
};

static int hz_zone_find(struct dns_provider *p, const char *cand, char *id,
			size_t cap, char *err, size_t errlen)
{
	const char *got, *name;
	char path[300];
	json_t *j;
	int rc;

	snprintf(path, sizeof(path), "/zones?name=%s", cand);
	rc = dns_api_call(p, &hz_api, "GET", path, NULL, DNS_WHAT_ZONE, &j, err,
			  errlen);
	if (rc)
		return rc;
	got = dns_json_str(j, "zones.id");
	name = dns_json_str(j, "zones.name");
	rc = got && name && !strcmp(name, cand) && dns_id_ok(got, 64) ? 0 : -ENOENT;
	if (rc == 0)
		snprintf(id, cap, "%s", got);
	json_decref(j);
	return rc;
}

static int hz_add(struct dns_provider *p, struct dns_record *r, char *err,
		  size_t errlen)
{
	char rel[DNS_NAME_MAX + 1], *s;
	json_t *j, *body;
	int rc;

	dns_record_relative(r, rel, sizeof(rel));
	body = json_pack("{s:s, s:s, s:s, s:s, s:i}", "zone_id", r->zone_id,
			 "type", "TXT", "name", rel, "value", r->value, "ttl",
			 (int)p->ttl);
	s = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	rc = s ? dns_api_call(p, &hz_api, "POST", "/records", s,
			      "creating the TXT record", &j, err, errlen) : -ENOMEM;
	free(s);
	if (rc)
		return rc;
	rc = dns_record_set_id(r, dns_json_str(j, "record.id"), "hetzner", err,
			       errlen);
	json_decref(j);
	return rc;
}

static int hz_del(struct dns_provider *p, const struct dns_record *r, char *err,
		  size_t errlen)
{
	char path[300];

	snprintf(path, sizeof(path), "/records/%s", r->id);
	return dns_api_delete(p, &hz_api, path, err, errlen);
}

static const char *const hz_keys[] = { "!api_token", "zone_id", "zone", NULL };

const struct dns_provider_ops dns_hetzner_ops = {
	.name = "hetzner",
	.default_url = "https://dns.hetzner.com/api/v1",
	.keys = hz_keys,
	.min_ttl = 60,
	.zone_find = hz_zone_find,
	.add = hz_add,
	.del = hz_del,
};
