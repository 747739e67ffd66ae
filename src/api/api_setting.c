/* api_setting.c - settings: a fixed registry of keys with types, ranges
 * and defaults; values live in the `settings` table (secret ones sealed in
 * `secrets`). Unknown keys are refused, so a typo is an error. */
#define LOG_SUBSYS "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_resource.h"
#include "core/log.h"
#include "core/secure.h"
#include "events/events.h"

struct api_setting_def {
	const char *key;
	enum api_ftype type;
	int64_t dflt, min, max;	/* INT; STR: length range */
	bool secret;
	api_check_fn *check;
	const char *help;
};

static const char *api_check_public_url(const char *s)
{
	if (!*s)
		return NULL;
	if (strncmp(s, "https://", 8) || strchr(s + 8, '/') || strpbrk(s, "@?# "))
		return "must be https://HOST[:PORT] (no path), or empty";
	return NULL;
}

static const struct api_setting_def api_settings[] = {
	{ "hub.public_url", API_T_STR, 0, 0, 300, false, api_check_public_url,
	  "the hub's public URL, for setup links, join commands and Origin checks" },
	{ "audit.checkpoint_entries", API_T_INT, AUDIT_DEFAULT_EVERY_ENTRIES, 1,
	  100000, false, NULL, "sign a checkpoint after this many entries" },
	{ "audit.checkpoint_interval", API_T_INT, AUDIT_DEFAULT_EVERY_MS / 1000, 1,
	  86400, false, NULL, "or this many seconds after the last one, when entries are pending" },
	{ "session.lifetime", API_T_INT, 12 * 3600, 300, 30 * 86400, false, NULL,
	  "seconds a browser session lasts at most" },
	{ "session.idle_timeout", API_T_INT, 3600, 5, 7 * 86400, false, NULL,
	  "seconds of inactivity that end a browser session (admin, portal and route)" },
	{ "login.max_failures", API_T_INT, 5, 1, 1000, false, NULL,
	  "failed attempts per client address (and per account from an address) before delays start" },
	{ "login.lockout", API_T_INT, 900, 1, 86400, false, NULL,
	  "the longest delay in seconds between a guessing address's attempts" },
	{ "login.admin_second_factor", API_T_INT, 0, 0, 1, false, NULL,
	  "1: admins log in with a second factor (TOTP); one without is sent to enrol first" },
	{ "agent.join_token_ttl", API_T_INT, 86400, 60, 30 * 86400, false, NULL,
	  "seconds a new agent join token stays valid" },
	{ "agent.offline_grace", API_T_INT, 180, 5, 86400, false, NULL,
	  "seconds without a handshake or packet from an agent before agent.offline is announced" },
	{ "certificate.expiring_before", API_T_STR, 0, 1, 100, false, api_check_expiring_before,
	  "how long before expiry certificate.expiring is announced, once per threshold (default 30d,7d,1d)" },
	/* What an enrolling agent is told (api_agent_join.c). The hub's
	 * WireGuard device records its public key when it starts. */
	{ "wireguard.public_key", API_T_STR, 0, 44, 44, false, api_check_wg_key,
	  "the hub's WireGuard public key, given to joining agents" },
	{ "wireguard.endpoint", API_T_STR, 0, 3, 300, false, api_check_text,
	  "HOST:PORT agents dial for WireGuard (a name is re-resolved by agents)" },
	{ "tunnel.ipv4_prefix", API_T_STR, 0, 9, 18, false, api_check_tunnel_prefix,
	  "IPv4 tunnel network (default 100.96.0.0/16; the hub takes .1)" },
	{ "tunnel.ipv6_prefix", API_T_STR, 0, 4, 43, false, api_check_tunnel_prefix,
	  "IPv6 tunnel network, a ULA /64 or shorter (default fd7a:7073:7465::/64)" },
	/* Webhook delivery (src/events, docs/webhooks.md). */
	{ "webhooks.retry_schedule", API_T_STR, 0, 1, 500, false, api_check_schedule,
	  "delays before each attempt, e.g. " EVENTS_SCHEDULE_DEFAULT " (the default)" },
	{ "webhooks.retry_horizon", API_T_INT, EVENTS_HORIZON_DEFAULT_S, 1, 30 * 86400,
	  false, NULL, "seconds after an event when its delivery is given up" },
	{ "webhooks.attempt_retention", API_T_INT, EVENTS_RETENTION_DEFAULT_S, 60,
	  365 * 86400, false, NULL, "seconds finished deliveries and attempts are kept" },
	{ "webhooks.timeout", API_T_INT, EVENTS_TIMEOUT_DEFAULT_S, 1, 120, false, NULL,
	  "seconds one delivery attempt may take" },
	{ "webhooks.allow_loopback", API_T_INT, 0, 0, 1, false, NULL,
	  "1 lets webhooks target loopback addresses (a local relay; tests)" },
	/* Secrets the certificate and auth features will read; stored
	 * sealed, shown only as set or not. */
	{ "acme.dns_api_token", API_T_STR, 0, 1, 4096, true, api_check_text,
	  "DNS provider API token for DNS-01 challenges" },
	{ "oidc.client_secret", API_T_STR, 0, 1, 4096, true, api_check_text,
	  "OpenID Connect client secret" },
};

static const struct api_setting_def *api_setting_def(const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(api_settings); i++)
		if (!strcmp(api_settings[i].key, key))
			return &api_settings[i];
	return NULL;
}

/* The stored (JSON) value and rev of a key; NULL value when unset. */
static json_t *api_setting_stored(struct api *api, const char *key, int64_t *rev)
{
	sqlite3_stmt *st = api_row(api, "SELECT value, rev FROM settings WHERE key = ?",
				   STORE_T(key));
	json_t *v;

	*rev = 0;
	if (!st)
		return NULL;
	v = json_loads((const char *)sqlite3_column_text(st, 0), JSON_DECODE_ANY, NULL);
	*rev = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	return v;
}

int64_t api_setting_int(struct api *api, const char *key)
{
	const struct api_setting_def *d = api_setting_def(key);
	int64_t rev, v;
	json_t *j;

	if (!d)
		return 0;
	j = api_setting_stored(api, key, &rev);
	v = json_is_integer(j) ? json_integer_value(j) : d->dflt;
	json_decref(j);
	return v;
}

int api_setting_str(struct api *api, const char *key, char *out, size_t len)
{
	int64_t rev;
	json_t *j = api_setting_def(key) ? api_setting_stored(api, key, &rev) : NULL;
	int rc = json_string_length(j) && json_string_length(j) < len ? 0 : -1;

	if (rc == 0)
		memcpy(out, json_string_value(j), json_string_length(j) + 1);
	json_decref(j);
	return rc;
}

bool api_setting_public_url(struct api *api, char *out, size_t len)
{
	int64_t rev;
	json_t *j = api_setting_stored(api, "hub.public_url", &rev);
	bool set = json_string_length(j) > 0;

	snprintf(out, len, "%s", set ? json_string_value(j) : "");
	json_decref(j);
	return set;
}

void api_public_url(struct api_ctx *c, char *out, size_t len)
{
	if (api_setting_public_url(c->api, out, len))
		return;
	if (c->api->public_url)
		snprintf(out, len, "%s", c->api->public_url);
	else if (c->req && c->req->host && c->req->transport == API_TRANSPORT_HTTPS)
		snprintf(out, len, "https://%s", c->req->host);
	else
		snprintf(out, len, "https://HUB");
}

void api_settings_apply(struct api *api)
{
	api->audit.every_entries = (uint64_t)api_setting_int(api, "audit.checkpoint_entries");
	api->audit.every_ms = (uint64_t)api_setting_int(api, "audit.checkpoint_interval") * 1000;
}

/* One setting as shown. */
static json_t *api_setting_show(struct api *api, const struct api_setting_def *d)
{
	int64_t rev;
	json_t *v = api_setting_stored(api, d->key, &rev);
	json_t *o = json_pack("{s:s,s:b,s:s,s:I}", "key", d->key, "secret", d->secret,
			      "help", d->help, "rev", (json_int_t)rev);

	if (d->secret) {
		json_object_set_new(o, "set", json_boolean(rev != 0));
		json_object_set_new(o, "value", json_null());
		json_decref(v);
	} else {
		json_object_set_new(o, "default", d->type == API_T_INT ?
				    json_integer(d->dflt) : json_string(""));
		json_object_set_new(o, "value", v ? v : (d->type == API_T_INT ?
				    json_integer(d->dflt) : json_string("")));
	}
	return o;
}

void api_setting_list(struct api_ctx *c)
{
	json_t *items = json_array();

	for (size_t i = 0; i < ARRAY_SIZE(api_settings); i++)
		json_array_append_new(items, api_setting_show(c->api, &api_settings[i]));
	api_reply_json(c, 200, json_pack("{s:o,s:n}", "items", items, "next"));
}

static const struct api_setting_def *api_setting_find(struct api_ctx *c)
{
	const struct api_setting_def *d = api_setting_def(c->param);

	if (!d)
		api_reply_error(c, 404, "not_found", NULL, "no setting '%s'", c->param);
	return d;
}

void api_setting_get(struct api_ctx *c)
{
	const struct api_setting_def *d = api_setting_find(c);
	json_t *o;

	if (!d)
		return;
	o = api_setting_show(c->api, d);
	api_reply_etag(c, json_integer_value(json_object_get(o, "rev")));
	api_reply_json(c, 200, o);
}

/* Checks {"value": ...} against the definition. Returns 0 or -1. */
static int api_setting_check(struct api_ctx *c, const struct api_setting_def *d,
			     json_t *v)
{
	static const char *const allowed[] = { "value", NULL };
	struct api_field f = { "value", d->type, API_F_NULL, d->min, d->max, d->check };
	struct api_resource r = { .fields = &f, .nfields = 1 };
	json_t *one;
	int rc;

	if (api_body_only(c, allowed) < 0)
		return -1;
	if (!v) {
		api_reply_error(c, 400, "invalid", "value", "value: is required "
				"(null resets the default)");
		return -1;
	}
	one = json_pack("{s:O}", "value", v);
	rc = api_res_validate(c, &r, one, true);
	json_decref(one);
	return rc;
}

/* Writes (or with a null value, removes) the row and the sealed value. */
static int api_setting_write(struct api_ctx *c, const struct api_setting_def *d,
			     json_t *v, int64_t seq)
{
	char *text = json_dumps(d->secret ? json_null() : v, JSON_ENCODE_ANY);
	sqlite3_stmt *st = store_prepare(&c->api->store, json_is_null(v)
		? "DELETE FROM settings WHERE key = ?1"
		: "INSERT OR REPLACE INTO settings(key, value, rev) VALUES (?1, ?2, ?3)");
	int rc = -1;

	if (st && text) {
		sqlite3_bind_text(st, 1, d->key, -1, SQLITE_STATIC);
		if (!json_is_null(v)) {
			sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, seq);
		}
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	}
	sqlite3_finalize(st);
	free(text);
	if (rc == 0 && d->secret)
		rc = json_is_null(v) ? secret_delete(&c->api->store, "setting", 0, d->key)
			: secret_put(&c->api->store, &c->api->keys, "setting", 0, d->key,
				     json_string_value(v), json_string_length(v));
	return rc;
}

/* "(secret)" for secret settings, else the value's JSON. */
static char *api_setting_summary(const struct api_setting_def *d, json_t *v)
{
	json_t *shown = d->secret && v && !json_is_null(v) ? json_string("(secret)")
			: json_incref(v ? v : json_null());
	json_t *o = json_pack("{s:o}", "value", shown);
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}

void api_setting_put(struct api_ctx *c)
{
	const struct api_setting_def *d = api_setting_find(c);
	json_t *v = json_object_get(c->body, "value"), *old = NULL;
	char obj[96], *before = NULL, *after = NULL;
	int64_t seq, rev;

	if (!d || api_if_match_required(c) < 0 || api_setting_check(c, d, v) < 0 ||
	    (seq = api_tx_begin(c)) < 0)
		return;
	old = api_setting_stored(c->api, d->key, &rev);
	if (api_if_match(c, rev, true) < 0) {
		api_tx_abort(c);
		json_decref(old);
		return;
	}
	if (api_setting_write(c, d, v, seq) < 0) {
		api_tx_abort(c);
		json_decref(old);
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return;
	}
	snprintf(obj, sizeof(obj), "setting:%s", d->key);
	before = api_setting_summary(d, rev ? (d->secret ? json_true() : old) : NULL);
	after = api_setting_summary(d, v);
	if (api_tx_commit(c, seq, "setting.update", obj, before, after) == 0) {
		api_settings_apply(c->api);
		/* The workers hold session.idle_timeout in the users table. */
		if (!strncmp(d->key, "session.", 8) && c->api->publish)
			c->api->publish(c->api->publish_ctx, c->api, API_CHANGED_USERS);
		api_reply_etag(c, json_is_null(v) ? 0 : seq);
		api_reply_json(c, 200, api_setting_show(c->api, d));
	}
	json_decref(old);
	free(before);
	free(after);
}
