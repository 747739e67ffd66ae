/* api_dns.c - DNS provider credentials for DNS-01: set, list, delete.
 * The settings are sealed in `secrets` as ("dns_provider", 0, NAME) and
 * never leave the hub through the API: lists show which keys are set,
 * never a value; the audit log records the key names only. */
#define LOG_SUBSYS "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/dns_provider.h"
#include "api/api_handlers.h"
#include "api/api_resource.h"
#include "core/secure.h"

#define API_DNS_VALUE_MAX 4096

/* A provider's rev: the seq of the audit entry of its last change (0 when
 * never set), like every row's ETag. */
static int64_t api_dns_rev(struct api *api, const char *name)
{
	sqlite3_stmt *st = store_prepare(&api->store, "SELECT max(seq) FROM audit_log"
		" WHERE object = 'dns_provider:' || ?");
	int64_t rev = 0;

	if (!st)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		rev = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rev;
}

/* {"name": N, "set": bool, "keys": [names of the stored settings], "rev"}. */
static json_t *api_dns_show(struct api *api, const char *name)
{
	json_t *o = json_pack("{s:s,s:b,s:[],s:I}", "name", name, "set", 0, "keys",
			      "rev", (json_int_t)api_dns_rev(api, name));
	uint8_t *val = NULL;
	size_t len = 0;
	const char *k;
	json_t *v, *stored;

	if (secret_get(&api->store, &api->keys, "dns_provider", 0, name, &val, &len) < 0)
		return o;
	stored = json_loadb((const char *)val, len, 0, NULL);
	secure_free(val, len + 1);
	json_object_set_new(o, "set", json_true());
	json_object_foreach(stored, k, v)
		json_array_append_new(json_object_get(o, "keys"), json_string(k));
	json_decref(stored);
	return o;
}

void api_dns_list(struct api_ctx *c)
{
	json_t *items = json_array();

	for (size_t i = 0; dns_provider_names[i]; i++)
		json_array_append_new(items, api_dns_show(c->api, dns_provider_names[i]));
	api_reply_json(c, 200, json_pack("{s:o,s:n}", "items", items, "next"));
}

/* Checks {"settings": {key: string, ...}} the way the provider will read
 * it (known keys, required ones present). Messages name keys, never
 * values. Returns 0 or -1 after replying. */
static int api_dns_check(struct api_ctx *c, const char *name, json_t *set)
{
	static const char *const allowed[] = { "settings", NULL };
	const char *kv[2 * 32 + 1], *k;
	struct dns_provider *p = NULL;
	char why[256];
	size_t n = 0;
	json_t *v;

	if (api_body_only(c, allowed) < 0)
		return -1;
	if (!json_is_object(set) || json_object_size(set) == 0 ||
	    json_object_size(set) > 32) {
		api_reply_error(c, 400, "invalid", "settings", "settings: an object of "
				"1 to 32 string settings");
		return -1;
	}
	json_object_foreach(set, k, v) {
		const char *s = json_string_value(v);
		if (!s || !s[0] || strlen(s) != json_string_length(v) ||
		    strlen(s) > API_DNS_VALUE_MAX || api_check_text(s)) {
			api_reply_error(c, 400, "invalid", "settings", "settings.%.64s: "
					"must be a non-empty string without control "
					"characters", k);
			return -1;
		}
		kv[n++] = k;
		kv[n++] = s;
	}
	kv[n] = NULL;
	if (dns_provider_new(name, kv, NULL, &p, why, sizeof(why)) < 0) {
		api_reply_error(c, 400, "invalid", "settings", "settings: %s", why);
		return -1;
	}
	dns_provider_free(p);
	return 0;
}

/* The audit summary: the provider and its key names. */
static char *api_dns_summary(struct api *api, const char *name)
{
	json_t *o = api_dns_show(api, name);
	char *s;

	json_object_del(o, "set");
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* Looks the provider up and checks If-Match against its rev (required
 * for PUT). Returns the name or NULL after replying. */
static const char *api_dns_target(struct api_ctx *c, bool required)
{
	const char *name = NULL;

	if (required && api_if_match_required(c) < 0)
		return NULL;
	for (size_t i = 0; dns_provider_names[i] && !name; i++)
		if (!strcmp(dns_provider_names[i], c->param))
			name = dns_provider_names[i];
	if (api_if_match(c, name ? api_dns_rev(c->api, name) : 0, required) < 0)
		return NULL;
	if (!name)
		api_reply_error(c, 404, "not_found", NULL, "no DNS provider '%s'", c->param);
	return name;
}

/* PUT /dns-providers/{key} {"settings": {...}}: replaces the settings
 * (If-Match: the rev listed, or "*"). */
void api_dns_put(struct api_ctx *c)
{
	const char *name = api_dns_target(c, true);
	json_t *set = json_object_get(c->body, "settings");
	char *text = NULL, *before = NULL, *after = NULL, object[64];
	int64_t seq;

	if (!name || api_dns_check(c, name, set) < 0 || (seq = api_tx_begin(c)) < 0)
		return;
	before = api_dns_summary(c->api, name);
	text = json_dumps(set, JSON_COMPACT);
	if (!text || secret_put(&c->api->store, &c->api->keys, "dns_provider", 0, name,
				text, strlen(text)) < 0) {
		api_tx_abort(c);
		api_reply_error(c, 500, "internal", NULL, "internal error");
		goto out;
	}
	after = api_dns_summary(c->api, name);
	snprintf(object, sizeof(object), "dns_provider:%s", name);
	if (api_tx_commit(c, seq, "dns_provider.set", object, before, after) == 0) {
		api_reply_etag(c, seq);
		api_reply_json(c, 200, api_dns_show(c->api, name));
	}
out:
	if (text)
		secure_free(text, strlen(text));
	free(before);
	free(after);
}

/* DELETE /dns-providers/{key}: forgets the settings. */
void api_dns_delete(struct api_ctx *c)
{
	const char *name = api_dns_target(c, false);
	char *before = NULL, object[64];
	uint8_t *val = NULL;
	size_t len = 0;
	int64_t seq;

	if (!name || (seq = api_tx_begin(c)) < 0)
		return;
	if (secret_get(&c->api->store, &c->api->keys, "dns_provider", 0, name, &val,
		       &len) < 0) {
		api_tx_abort(c);
		api_reply_error(c, 404, "not_found", NULL, "no settings for '%s'", name);
		return;
	}
	secure_free(val, len + 1);
	before = api_dns_summary(c->api, name);
	snprintf(object, sizeof(object), "dns_provider:%s", name);
	if (secret_delete(&c->api->store, "dns_provider", 0, name) < 0) {
		api_tx_abort(c);
		api_reply_error(c, 500, "internal", NULL, "internal error");
	} else if (api_tx_commit(c, seq, "dns_provider.delete", object, before, "") == 0) {
		api_reply_empty(c, 204);
	}
	free(before);
}
