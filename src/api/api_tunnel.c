/* api_tunnel.c - the control plane's side of the hub's WireGuard device:
 * the peers it should have, the facts it records (its key, its
 * endpoint), its audit events, and the address -> agent mapping used to
 * authenticate heartbeats. */
#define LOG_SUBSYS "api"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/api_tunnel.h"
#include "core/array.h"
#include "core/enc.h"
#include "core/log.h"
#include "core/num.h"
#include "core/secure.h"

/* One row into p; false when its key does not decode. */
static bool api_tunnel_row(sqlite3_stmt *st, struct api_peer *p)
{
	const char *key = (const char *)sqlite3_column_text(st, 2);

	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(st, 0);
	store_column_copy(st, 1, p->name, sizeof(p->name));
	if (!key || enc_b64std_decode(p->key, sizeof(p->key), key, strlen(key)) != 32)
		return false;
	p->node = !strcmp((const char *)sqlite3_column_text(st, 3), "wireguard");
	store_column_copy(st, 4, p->ipv4, sizeof(p->ipv4));
	store_column_copy(st, 5, p->ipv6, sizeof(p->ipv6));
	store_column_copy(st, 6, p->endpoint, sizeof(p->endpoint));
	return true;
}

int api_tunnel_peers(struct api *api, struct api_peer **out, size_t *n)
{
	sqlite3_stmt *st = store_prepare(&api->store, "SELECT id, name, public_key,"
		" kind, tunnel_ipv4, tunnel_ipv6, last_endpoint FROM agents WHERE status = 'enrolled'"
		" AND public_key IS NOT NULL ORDER BY id");
	struct api_peer *v = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (array_grow((void **)&v, *n, &cap, sizeof(*v)) < 0)
			break;
		if (api_tunnel_row(st, &v[*n]))
			(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		*n = 0;
		return -1;
	}
	*out = v;
	return 0;
}

void api_tunnel_endpoint(struct api *api, int64_t id, const char *endpoint)
{
	sqlite3_stmt *st = store_prepare(&api->store,
		"UPDATE agents SET last_endpoint = ? WHERE id = ?");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

void api_tunnel_audit(struct api *api, const char *action, const char *object,
		      const char *after)
{
	struct audit_event ev = { "system", "tunnel", action, object, "", after };

	if (audit_record(&api->audit, &ev) < 0)
		log_err("cannot record %s in the audit log", action);
	audit_checkpoint(&api->audit, false);
}

int api_tunnel_presence(struct api *api, api_presence_fn *fn, void *ctx)
{
	/* The newest announcement per agent (SQLite's bare-column rule: with
	 * max(), `action` comes from the row holding the maximum seq). */
	sqlite3_stmt *st = store_prepare(&api->store, "SELECT object, action, max(seq)"
		" FROM audit_log WHERE action IN ('agent.online', 'agent.offline')"
		" AND object LIKE 'agent:%' GROUP BY object");
	uint64_t id;
	int rc;

	if (!st)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *obj = (const char *)sqlite3_column_text(st, 0);
		const char *act = (const char *)sqlite3_column_text(st, 1);
		if (obj && act && num_parse_cstr(obj + 6, 1, INT64_MAX, &id) == 0)
			fn(ctx, (int64_t)id, !strcmp(act, "agent.online"));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int64_t api_tunnel_offline_grace(struct api *api)
{
	return api_setting_int(api, "agent.offline_grace");
}

int api_tunnel_record(struct api *api, const char *key, const char *value)
{
	char cur[320], obj[80], after[400];
	json_t *j;
	char *text;
	int64_t seq;
	sqlite3_stmt *st;
	int rc = -1;

	if (api_setting_str(api, key, cur, sizeof(cur)) == 0 && !strcmp(cur, value))
		return 0;
	j = json_string(value);
	text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	if (!text || store_begin(&api->store) < 0) {
		free(text);
		return -1;
	}
	seq = audit_next_seq(&api->audit);
	st = seq < 0 ? NULL : store_prepare(&api->store,
		"INSERT OR REPLACE INTO settings(key, value, rev) VALUES (?, ?, ?)");
	if (st) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, seq);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
		sqlite3_finalize(st);
	}
	snprintf(obj, sizeof(obj), "setting:%s", key);
	snprintf(after, sizeof(after), "{\"value\":%s}", text);
	struct audit_event ev = { "system", "hub", "setting.update", obj, "", after };
	if (rc == 0 && (audit_append(&api->audit, (uint64_t)seq, &ev) < 0 ||
			store_commit(&api->store) < 0))
		rc = -1;
	if (rc < 0)
		store_rollback(&api->store);
	free(text);
	return rc;
}

void api_set_agent_live(struct api *api, api_agent_live_fn *fn, void *ctx)
{
	api->live = fn;
	api->live_ctx = ctx;
}

int api_tunnel_key_by_addr(struct api *api, const char *ip, uint8_t key[32])
{
	sqlite3_stmt *st = store_prepare(&api->store, "SELECT public_key FROM agents"
		" WHERE (tunnel_ipv4 = ?1 OR tunnel_ipv6 = ?1) AND status = 'enrolled'"
		" AND public_key IS NOT NULL");
	const char *k;
	int rc = -1;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, ip, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && (k = (const char *)sqlite3_column_text(st, 0)) &&
	    enc_b64std_decode(key, 32, k, strlen(k)) == 32)
		rc = 0;
	sqlite3_finalize(st);
	return rc;
}

/* The hub's WireGuard private key is a secret like the others: sealed in
 * `secrets` as ("hub", 0, "wireguard_private_key"). */
#define API_WG_OWNER "hub"
#define API_WG_NAME "wireguard_private_key"

int api_tunnel_private_key(struct api *api, uint8_t key[32],
			   int (*generate)(uint8_t key[32]))
{
	uint8_t *val = NULL;
	size_t len = 0;
	int r = secret_get(&api->store, &api->keys, API_WG_OWNER, 0, API_WG_NAME, &val, &len);

	if (r == 0) {
		r = len == 32 ? 0 : -1;
		if (r == 0)
			memcpy(key, val, 32);
		secure_free(val, len + 1);
		return r;
	}
	if (r != -ENOENT || generate(key) < 0)
		return -1;
	if (store_begin(&api->store) < 0)
		return -1;
	if (secret_put(&api->store, &api->keys, API_WG_OWNER, 0, API_WG_NAME, key, 32) < 0 ||
	    store_commit(&api->store) < 0) {
		store_rollback(&api->store);
		secure_wipe(key, 32);
		return -1;
	}
	log_info("generated the hub's WireGuard key");
	return 0;
}

void api_set_join_pin(struct api *api, api_join_pin_fn *fn, void *ctx)
{
	api->join_pin = fn;
	api->join_pin_ctx = ctx;
}
