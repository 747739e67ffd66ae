/* api_agent.c - agents and their one-time join tokens. Enrollment itself
 * (consuming a token) belongs to the agent's join flow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_resource.h"
#include "api/api_tunnel.h"
#include "core/enc.h"

static const struct api_field api_agent_fields[] = {
	{ "name", API_T_STR, API_F_REQUIRED, 1, 63, api_check_name },
	{ "public_key", API_T_STR, API_F_NULL, 44, 44, api_check_wg_key },
	{ "tunnel_ipv4", API_T_STR, API_F_NULL, 7, 15, api_check_ipv4 },
	{ "tunnel_ipv6", API_T_STR, API_F_NULL, 2, 39, api_check_ipv6 },
	{ "status", API_T_STR, 0, 1, 16, api_check_agent_status },
	/* "agent": a Postern agent (streams with a header); "wireguard": a
	 * standard WireGuard peer the hub routes to directly. */
	{ "kind", API_T_STR, API_F_FIXED, 1, 16, api_check_agent_kind },
	{ "version", API_T_STR, API_F_READONLY, 0, 0, NULL },
	{ "last_seen_at", API_T_INT, API_F_READONLY, 0, 0, NULL },
	{ "heartbeat", API_T_STR, API_F_READONLY | API_F_HIDDEN, 0, 0, NULL },
	{ "last_endpoint", API_T_STR, API_F_READONLY | API_F_HIDDEN, 0, 0, NULL },
};

/* The data plane's view (online, handshake, endpoint, bytes) and the last
 * heartbeat's report, added to every agent shown. */
static void api_agent_show(struct api_ctx *c, json_t *obj)
{
	const char *key = json_string_value(json_object_get(obj, "public_key"));
	const char *hb = json_string_value(json_object_get(obj, "heartbeat"));
	struct api_agent_live live;
	uint8_t k[32];
	bool known = false;

	if (c->summary)	/* live state is not part of the agent's record */
		return;
	memset(&live, 0, sizeof(live));
	if (key && c->api->live && enc_b64std_decode(k, sizeof(k), key, strlen(key)) == 32)
		known = c->api->live(c->api->live_ctx, k, &live);
	json_object_set_new(obj, "online", json_boolean(known && live.online));
	json_object_set_new(obj, "last_handshake_at", live.last_handshake_ms ?
			    json_integer(live.last_handshake_ms) : json_null());
	json_object_set_new(obj, "endpoint", live.endpoint[0] ?
			    json_string(live.endpoint) : json_null());
	json_object_set_new(obj, "rx_bytes", json_integer((json_int_t)live.rx_bytes));
	json_object_set_new(obj, "tx_bytes", json_integer((json_int_t)live.tx_bytes));
	json_object_set_new(obj, "health", hb ? json_loads(hb, 0, NULL) : json_null());
	if (!json_object_get(obj, "health"))
		json_object_set_new(obj, "health", json_null());
}

/* An agent that routes still use is not deleted (what a Tailscale or
 * Pangolin user expects to be told rather than have happen): a 409 that
 * names those routes, so that they can be moved or deleted first. */
static int api_agent_deleting(struct api_ctx *c, const json_t *old)
{
	sqlite3_stmt *st = api_prepare(c, "SELECT id, host, path_prefix"
				       " FROM routes WHERE agent_id = ? ORDER BY id");
	char list[512] = "";
	size_t n = 0, used = 0;

	(void)old;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, c->id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n++ < 8 && used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used,
				"%sroute %lld (%s%s)", used ? ", " : "",
				(long long)sqlite3_column_int64(st, 0),
				(const char *)sqlite3_column_text(st, 1),
				(const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	if (!n)
		return 0;
	api_reply_error(c, 409, "in_use", NULL, "the agent is used by %zu route%s: %s%s;"
			" delete them or move them to another agent first", n,
			n == 1 ? "" : "s", list, n > 8 ? ", ..." : "");
	return -1;
}

const struct api_resource api_agent_res = {
	API_RES_TABLE("agent", "agents", api_agent_fields),
	/* Routes carry their agent's tunnel address. */
	.changes = API_CHANGED_AGENTS | API_CHANGED_ROUTES,
	.deleting = api_agent_deleting,
	.show = api_agent_show,
};

static bool api_agent_exists(struct api_ctx *c)
{
	sqlite3_stmt *st = store_prepare(&c->api->store,
					 "SELECT 1 FROM agents WHERE id = ?");
	bool found;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, c->id);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!found)
		api_reply_error(c, 404, "not_found", NULL, "no agent %lld", (long long)c->id);
	return found;
}

void api_join_token_list(struct api_ctx *c)
{
	sqlite3_stmt *st;
	json_t *items;

	if (!api_agent_exists(c))
		return;
	st = api_prepare(c, "SELECT id, created_at, expires_at, used_at"
			 " FROM agent_join_tokens WHERE agent_id = ? ORDER BY id");
	if (!st)
		return;
	items = json_array();
	sqlite3_bind_int64(st, 1, c->id);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(items, json_pack("{s:I,s:I,s:I,s:o}",
			"id", (json_int_t)sqlite3_column_int64(st, 0),
			"created_at", (json_int_t)sqlite3_column_int64(st, 1),
			"expires_at", (json_int_t)sqlite3_column_int64(st, 2),
			"used_at", sqlite3_column_type(st, 3) == SQLITE_NULL ? json_null()
				: json_integer(sqlite3_column_int64(st, 3))));
	sqlite3_finalize(st);
	api_reply_json(c, 200, json_pack("{s:o,s:n}", "items", items, "next"));
}

/* The join token's lifetime from the body, or the setting. */
static int api_join_ttl(struct api_ctx *c, int64_t *ttl)
{
	static const char *const allowed[] = { "ttl", NULL };
	json_t *v = json_object_get(c->body, "ttl");

	if (api_body_only(c, allowed) < 0)
		return -1;
	*ttl = api_setting_int(c->api, "agent.join_token_ttl");
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < API_JOIN_TTL_MIN ||
	    json_integer_value(v) > API_JOIN_TTL_MAX) {
		api_reply_error(c, 400, "invalid", "ttl", "ttl: must be an integer "
				"from %d to %d (seconds)", API_JOIN_TTL_MIN, API_JOIN_TTL_MAX);
		return -1;
	}
	*ttl = json_integer_value(v);
	return 0;
}

static int64_t api_join_insert(struct api_ctx *c, const char *hash, int64_t expires)
{
	sqlite3_stmt *st = store_prepare(&c->api->store, "INSERT INTO agent_join_tokens"
		"(agent_id, hash, created_at, expires_at) VALUES (?, ?, ?, ?)");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, c->id);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, store_now_ms());
	sqlite3_bind_int64(st, 4, expires);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? sqlite3_last_insert_rowid(c->api->store.db) : -1;
}

void api_join_token_create(struct api_ctx *c)
{
	char hash[65], obj[48], after[128], cmd[600], url[320], pin[65];
	int64_t ttl, seq, id, expires;

	if (api_join_ttl(c, &ttl) < 0 || (seq = api_tx_begin(c)) < 0)
		return;
	if (!api_agent_exists(c)) {
		api_tx_abort(c);
		return;
	}
	c->reveal = api_new_token("pj_");
	expires = store_now_ms() + ttl * 1000;
	if (!c->reveal) {
		api_tx_abort(c);
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return;
	}
	api_hash_token(c->reveal, hash);
	if ((id = api_join_insert(c, hash, expires)) < 0) {
		api_tx_abort(c);
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return;
	}
	snprintf(obj, sizeof(obj), "agent:%lld", (long long)c->id);
	snprintf(after, sizeof(after), "{\"expires_at\":%lld,\"join_token\":%lld}",
		 (long long)expires, (long long)id);
	if (api_tx_commit(c, seq, "agent.join_token_create", obj, "", after) < 0)
		return;
	api_public_url(c, url, sizeof(url));
	if (c->api->join_pin && c->api->join_pin(c->api->join_pin_ctx, pin))
		snprintf(cmd, sizeof(cmd), "postern agent join %s %s --fingerprint %s",
			 url, c->reveal, pin);
	else
		snprintf(cmd, sizeof(cmd), "postern agent join %s %s", url, c->reveal);
	api_reply_json(c, 201, json_pack("{s:I,s:I,s:s,s:I,s:s}", "id", (json_int_t)id,
		"agent_id", (json_int_t)c->id, "token", c->reveal,
		"expires_at", (json_int_t)expires, "command", cmd));
}
