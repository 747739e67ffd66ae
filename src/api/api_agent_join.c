/* api_agent_join.c - the hub's half of agent enrollment and heartbeats
 * (the wire formats are src/proto/agent_proto.h, parts 2 and 3).
 *
 * Join: an anonymous POST authenticated by a one-time join token (stored
 * hashed; looked up by hash). Unknown, used and expired tokens are refused
 * with distinct codes and audited; attempts are throttled per address
 * like logins. On success, in one transaction with its audit entry: the
 * token is used, the agent gets the public key it sent and its tunnel
 * addresses (allocated from tunnel.ipv4_prefix / tunnel.ipv6_prefix
 * unless an admin set them), and becomes 'enrolled'.
 * Heartbeat: only through the tunnel; the WireGuard peer key names the
 * agent; it records the version and the time last seen. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/agent_proto.h"
#include "api/api_handlers.h"
#include "api/api_resource.h"
#include "api/api_tunnel.h"
#include "core/enc.h"
#include "core/num.h"

#define JOIN_DEFAULT_V4 "100.96.0.0/16"
#define JOIN_DEFAULT_V6 "fd7a:7073:7465::/64"
#define JOIN_HOSTS_MAX 65536	/* host numbers scanned for a free one */

struct join_token {
	int64_t id, agent_id, expires_at;
	bool used;
	char status[16], name[64], ipv4[48], ipv6[48];
};

struct join_net {
	int family;
	uint8_t base[16];
	unsigned prefix;
};

static int join_parse_net(const char *s, struct join_net *n)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : 0;
	uint64_t p;

	if (!slash || hl >= sizeof(ip))
		return -1;
	memcpy(ip, s, hl);
	ip[hl] = '\0';
	n->family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	memset(n->base, 0, sizeof(n->base));
	if (inet_pton(n->family, ip, n->base) != 1)
		return -1;
	if (n->family == AF_INET ? num_parse_cstr(slash + 1, 8, 30, &p) < 0
				 : num_parse_cstr(slash + 1, 48, 120, &p) < 0)
		return -1;
	n->prefix = (unsigned)p;
	return 0;
}

const char *api_check_tunnel_prefix(const char *s)
{
	struct join_net n;

	return join_parse_net(s, &n) == 0 ? NULL :
	       "must be an IPv4 network /8../30 or an IPv6 network /48../120";
}

/* The address with host number `host` in net (host < 2^(bits-prefix)). */
static void join_host(const struct join_net *n, uint32_t host, char *out, size_t len)
{
	uint8_t a[16];
	unsigned bytes = n->family == AF_INET ? 4 : 16;

	memcpy(a, n->base, bytes);
	for (unsigned i = 0; i < 4; i++)
		a[bytes - 1 - i] |= (uint8_t)(host >> (8 * i));
	inet_ntop(n->family, a, out, (socklen_t)len);
}

static bool join_addr_taken(struct api *api, const char *col, const char *addr)
{
	char sql[96];
	sqlite3_stmt *st;
	bool taken;

	snprintf(sql, sizeof(sql), "SELECT 1 FROM agents WHERE %s = ?", col);
	st = store_prepare(&api->store, sql);
	if (!st)
		return true;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	taken = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return taken;
}

/* A free address in the setting's network (host numbers from 2; 1 is the
 * hub). Returns 0 or -1. */
static int join_alloc(struct api *api, const char *key, const char *dflt,
		      const char *col, char *out, size_t len)
{
	char setting[64];
	struct join_net n;
	unsigned bits;

	if (api_setting_str(api, key, setting, sizeof(setting)) < 0)
		snprintf(setting, sizeof(setting), "%s", dflt);
	if (join_parse_net(setting, &n) < 0)
		return -1;
	bits = (n.family == AF_INET ? 32 : 128) - n.prefix;
	uint32_t last = bits >= 16 ? JOIN_HOSTS_MAX - 1 : (1u << bits) - 2;
	for (uint32_t h = 2; h <= last; h++) {
		join_host(&n, h, out, len);
		if (!join_addr_taken(api, col, out))
			return 0;
	}
	return -1;
}

/* The hub's own tunnel address in a network setting (host number 1). */
static void join_hub_addr(struct api *api, const char *key, const char *dflt,
			  char *out, size_t len)
{
	char setting[64];
	struct join_net n;

	if (api_setting_str(api, key, setting, sizeof(setting)) < 0 ||
	    join_parse_net(setting, &n) < 0)
		join_parse_net(dflt, &n);
	join_host(&n, 1, out, len);
}

static int join_find_token(struct api_ctx *c, const char *token, struct join_token *t)
{
	char hash[65];
	sqlite3_stmt *st;

	api_hash_token(token, hash);
	st = api_row(c->api, "SELECT t.id, t.agent_id, t.expires_at, t.used_at IS NOT NULL,"
		     " a.status, a.name, a.tunnel_ipv4, a.tunnel_ipv6 FROM agent_join_tokens t"
		     " JOIN agents a ON a.id = t.agent_id WHERE t.hash = ?", STORE_T(hash));
	if (!st)
		return -1;
	t->id = sqlite3_column_int64(st, 0);
	t->agent_id = sqlite3_column_int64(st, 1);
	t->expires_at = sqlite3_column_int64(st, 2);
	t->used = sqlite3_column_int(st, 3);
	store_column_copy(st, 4, t->status, sizeof(t->status));
	store_column_copy(st, 5, t->name, sizeof(t->name));
	store_column_copy(st, 6, t->ipv4, sizeof(t->ipv4));
	store_column_copy(st, 7, t->ipv6, sizeof(t->ipv6));
	sqlite3_finalize(st);
	return 0;
}

/* Refuses the join: audit (outside the aborted transaction), throttle. */
static void join_refuse(struct api_ctx *c, int status, const char *code,
			const char *object, const char *msg)
{
	char key[AUTH_THROTTLE_KEY];

	api_audit_event(c, "agent.join_failed", object, code);
	api_addr_key(c, "join:", key);
	api_reply_retry_after(c, api_login_failed(c, key));
	api_reply_error(c, status, code, NULL, "%s", msg);
}

static int join_body_check(struct api_ctx *c, const char **token, const char **pub,
			   const char **version)
{
	static const char *const allowed[] = { "version", "token", "public_key",
					       "agent_version", NULL };
	json_t *v = json_object_get(c->body, "version");

	if (api_body_only(c, allowed) < 0)
		return -1;
	if (!json_is_integer(v) || json_integer_value(v) != AGENT_PROTO_VERSION) {
		api_reply_error(c, 400, "unsupported_version", "version",
				"this hub speaks agent protocol version %d", AGENT_PROTO_VERSION);
		return -1;
	}
	*token = json_string_value(json_object_get(c->body, "token"));
	*pub = json_string_value(json_object_get(c->body, "public_key"));
	*version = json_string_value(json_object_get(c->body, "agent_version"));
	if (!*token || !**token || strlen(*token) > 200) {
		api_reply_error(c, 400, "invalid", "token", "token: required");
		return -1;
	}
	if (!*pub || api_check_wg_key(*pub)) {
		api_reply_error(c, 400, "invalid", "public_key",
				"public_key: must be a WireGuard public key (base64 of 32 bytes)");
		return -1;
	}
	if (*version && (strlen(*version) > 64 || api_check_text(*version))) {
		api_reply_error(c, 400, "invalid", "agent_version", "agent_version: too long");
		return -1;
	}
	return 0;
}

/* Why a token cannot be used, or NULL. */
static const char *join_token_problem(const struct join_token *t, const char **msg)
{
	if (t->used) {
		*msg = "this join token was used already; create a new one";
		return "token_used";
	}
	if (t->expires_at <= store_now_ms()) {
		*msg = "this join token has expired; create a new one";
		return "token_expired";
	}
	if (!strcmp(t->status, "disabled")) {
		*msg = "this agent is disabled";
		return "agent_disabled";
	}
	return NULL;
}

int api_tunnel_enroll(struct api *api, int64_t id, const char *pub, const char *ipv4,
		      const char *ipv6, const char *version, int64_t seq)
{
	sqlite3_stmt *st = store_prepare(&api->store,
		"UPDATE agents SET public_key = ?, tunnel_ipv4 = ?, tunnel_ipv6 = ?,"
		" status = 'enrolled', version = ?, rev = ? WHERE id = ?");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, pub, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ipv4, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ipv6, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, version ? version : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, seq);
	sqlite3_bind_int64(st, 6, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_CONSTRAINT ? -2 : -1;
}

static int join_update(struct api_ctx *c, const struct join_token *t, int64_t seq,
		       const char *pub, const char *version)
{
	int rc = api_tunnel_enroll(c->api, t->agent_id, pub, t->ipv4, t->ipv6, version, seq);

	if (rc < 0)
		return rc;
	return store_exec_i64(&c->api->store,
			      "UPDATE agent_join_tokens SET used_at = ? WHERE id = ?",
			      (const int64_t[]){ store_now_ms(), t->id }, 2);
}

/* "ADDR/LEN" with the tunnel network's prefix length, so the agent's
 * interface routes the whole tunnel network (the hub's addresses
 * included) to WireGuard, as wg-quick's Address does. */
static void join_cidr(struct api *api, int family, const char *addr, char *out, size_t len)
{
	char net[64];
	struct join_net n;

	api_tunnel_prefix(api, family, net, sizeof(net));
	if (join_parse_net(net, &n) < 0)
		n.prefix = family == AF_INET ? 32 : 128;
	snprintf(out, len, "%s/%u", addr, n.prefix);
}

static void join_answer(struct api_ctx *c, const struct join_token *t,
			const char *hub_key, const char *endpoint)
{
	char h4[48], h6[48], a4[64], a6[64];

	join_hub_addr(c->api, "tunnel.ipv4_prefix", JOIN_DEFAULT_V4, h4, sizeof(h4));
	join_hub_addr(c->api, "tunnel.ipv6_prefix", JOIN_DEFAULT_V6, h6, sizeof(h6));
	join_cidr(c->api, AF_INET, t->ipv4, a4, sizeof(a4));
	join_cidr(c->api, AF_INET6, t->ipv6, a6, sizeof(a6));
	api_reply_json(c, 200, json_pack("{s:i, s:s, s:[s, s], s:s, s:s, s:[s, s], s:i}",
		"version", AGENT_PROTO_VERSION, "agent", t->name,
		"tunnel_addresses", a4, a6,
		"hub_public_key", hub_key, "hub_endpoint", endpoint,
		"hub_tunnel_addresses", h4, h6, "keepalive", 25));
}

int api_tunnel_hub_facts(struct api_ctx *c, char *key, size_t keylen, char *endpoint,
			 size_t eplen)
{
	if (api_setting_str(c->api, "wireguard.public_key", key, keylen) < 0 ||
	    api_setting_str(c->api, "wireguard.endpoint", endpoint, eplen) < 0) {
		api_reply_error(c, 503, "hub_not_ready", NULL,
				"the hub's WireGuard device is not configured yet");
		return -1;
	}
	return 0;
}

void api_agent_join(struct api_ctx *c)
{
	const char *token, *pub, *version, *code, *msg = NULL;
	char hub_key[64], endpoint[320], key[AUTH_THROTTLE_KEY], obj[48], after[256];
	struct join_token t;
	int64_t seq;
	int rc;

	if (join_body_check(c, &token, &pub, &version) < 0)
		return;
	api_addr_key(c, "join:", key);
	if (api_login_throttled(c, key) < 0)
		return;
	if (api_tunnel_hub_facts(c, hub_key, sizeof(hub_key), endpoint, sizeof(endpoint)) < 0)
		return;
	if ((seq = api_tx_begin(c)) < 0)
		return;
	if (join_find_token(c, token, &t) < 0) {
		api_tx_abort(c);
		join_refuse(c, 403, "token_unknown", "agent:?", "unknown join token");
		return;
	}
	snprintf(obj, sizeof(obj), "agent:%lld", (long long)t.agent_id);
	if ((code = join_token_problem(&t, &msg)) != NULL) {
		api_tx_abort(c);
		join_refuse(c, 403, code, obj, msg);
		return;
	}
	if ((!t.ipv4[0] && join_alloc(c->api, "tunnel.ipv4_prefix", JOIN_DEFAULT_V4,
				      "tunnel_ipv4", t.ipv4, sizeof(t.ipv4)) < 0) ||
	    (!t.ipv6[0] && join_alloc(c->api, "tunnel.ipv6_prefix", JOIN_DEFAULT_V6,
				      "tunnel_ipv6", t.ipv6, sizeof(t.ipv6)) < 0)) {
		api_tx_abort(c);
		api_reply_error(c, 503, "no_address", NULL, "the tunnel network is full");
		return;
	}
	rc = join_update(c, &t, seq, pub, version);
	if (rc < 0) {
		api_tx_abort(c);
		if (rc == -2)
			api_reply_error(c, 409, "conflict", "public_key",
					"another agent has this public key");
		else
			api_reply_error(c, 500, "internal", NULL, "internal error");
		return;
	}
	snprintf(after, sizeof(after), "{\"public_key\":\"%s\",\"tunnel_ipv4\":\"%s\","
		 "\"tunnel_ipv6\":\"%s\"}", pub, t.ipv4, t.ipv6);
	c->changed |= API_CHANGED_AGENTS;
	if (api_tx_commit(c, seq, "agent.join", obj, "", after) < 0)
		return;
	join_answer(c, &t, hub_key, endpoint);
}

#define HB_ERRORS_KEPT 20
#define HB_STORED_MAX (32u << 10)

/* The agent's previous error lines (newest last), from the stored report. */
static json_t *hb_old_errors(struct api *api, const char *key)
{
	sqlite3_stmt *st = store_prepare(&api->store,
		"SELECT heartbeat FROM agents WHERE public_key = ?");
	json_t *old = NULL, *errs = NULL;

	if (!st)
		return json_array();
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		old = json_loads((const char *)sqlite3_column_text(st, 0), 0, NULL);
	sqlite3_finalize(st);
	errs = json_object_get(old, "errors");
	errs = json_is_array(errs) ? json_incref(errs) : json_array();
	json_decref(old);
	return errs;
}

/* The agent's reported allowlist, when it is what agent_proto.h says (at
 * most 64 strings of at most 300 printable ASCII bytes): a new reference, or
 * NULL. It only feeds warnings; the agent enforces its own list. */
static json_t *hb_allow(const json_t *v)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v) || json_array_size(v) > 64)
		return NULL;
	json_array_foreach(v, i, x) {
		const char *p = json_string_value(x);
		if (!p || !*p || json_string_length(x) > 300)
			return NULL;
		for (; *p; p++)		/* shown to admins: no control bytes */
			if (*p <= ' ' || *p > '~')
				return NULL;
	}
	return json_deep_copy(v);
}

/* What the hub keeps of a heartbeat: the report's known members, and the
 * last HB_ERRORS_KEPT error lines across heartbeats (an agent sends each
 * failure once). NULL when it would not fit. */
static char *hb_report(struct api_ctx *c, const char *key)
{
	static const char *const keep[] = { "agent_version", "uptime", "netstack",
					    "streams", "status", "targets", NULL };
	json_t *r = json_object(), *errs = hb_old_errors(c->api, key), *v;
	size_t i;
	char *text;

	for (i = 0; keep[i]; i++)
		if ((v = json_object_get(c->body, keep[i])))
			json_object_set(r, keep[i], v);
	if ((v = hb_allow(json_object_get(c->body, "allow"))))
		json_object_set_new(r, "allow", v);
	v = json_object_get(c->body, "errors");
	for (i = 0; json_is_array(v) && i < json_array_size(v); i++)
		if (json_is_string(json_array_get(v, i)))
			json_array_append(errs, json_array_get(v, i));
	while (json_array_size(errs) > HB_ERRORS_KEPT)
		json_array_remove(errs, 0);
	json_object_set_new(r, "errors", errs);
	json_object_set_new(r, "received_at", json_integer(store_now_ms()));
	text = json_dumps(r, JSON_COMPACT);
	if (text && strlen(text) > HB_STORED_MAX) {
		free(text);
		json_object_del(r, "targets");
		text = json_dumps(r, JSON_COMPACT);
	}
	json_decref(r);
	return text;
}

void api_agent_heartbeat(struct api_ctx *c)
{
	char key[B64_LEN(32)];
	const char *version;
	json_t *v = json_object_get(c->body, "version");
	sqlite3_stmt *st;
	char *report;
	int changed;

	if (!json_is_integer(v) || json_integer_value(v) != AGENT_PROTO_VERSION) {
		api_reply_error(c, 400, "unsupported_version", "version",
				"this hub speaks agent protocol version %d", AGENT_PROTO_VERSION);
		return;
	}
	version = json_string_value(json_object_get(c->body, "agent_version"));
	if (version && (strlen(version) > 64 || api_check_text(version)))
		version = NULL;
	enc_b64std_encode(key, c->req->tunnel_peer_key, 32);
	report = hb_report(c, key);
	st = store_prepare(&c->api->store, "UPDATE agents SET last_seen_at = ?,"
			   " version = coalesce(?, version), heartbeat = coalesce(?, heartbeat)"
			   " WHERE public_key = ? AND status = 'enrolled'");
	if (!st) {
		free(report);
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return;
	}
	sqlite3_bind_int64(st, 1, store_now_ms());
	if (version)
		sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	if (report)
		sqlite3_bind_text(st, 3, report, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, key, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
	free(report);
	changed = sqlite3_changes(c->api->store.db);
	if (!changed) {
		api_reply_error(c, 404, "not_found", NULL, "no enrolled agent has this key");
		return;
	}
	api_reply_json(c, 200, json_pack("{s:i, s:i}", "version", AGENT_PROTO_VERSION,
					 "interval", AGENT_HEARTBEAT_SECS));
}

void api_tunnel_prefix(struct api *api, int family, char *out, size_t len)
{
	const char *key = family == AF_INET ? "tunnel.ipv4_prefix" : "tunnel.ipv6_prefix";
	struct join_net n;

	if (api_setting_str(api, key, out, len) < 0 || join_parse_net(out, &n) < 0)
		snprintf(out, len, "%s", family == AF_INET ? JOIN_DEFAULT_V4 : JOIN_DEFAULT_V6);
}

int api_tunnel_hub_addr(const char *net, int family, void *addr, unsigned *prefix)
{
	struct join_net n;

	if (join_parse_net(net, &n) < 0 || n.family != family)
		return -1;
	n.base[(family == AF_INET ? 4 : 16) - 1] |= 1;
	memcpy(addr, n.base, family == AF_INET ? 4 : 16);
	*prefix = n.prefix;
	return 0;
}

int api_tunnel_alloc(struct api *api, int family, char *out, size_t len)
{
	return family == AF_INET
		? join_alloc(api, "tunnel.ipv4_prefix", JOIN_DEFAULT_V4, "tunnel_ipv4", out, len)
		: join_alloc(api, "tunnel.ipv6_prefix", JOIN_DEFAULT_V6, "tunnel_ipv6", out, len);
}

void api_tunnel_cidr(struct api *api, int family, const char *addr, char *out, size_t len)
{
	join_cidr(api, family, addr, out, len);
}

void api_tunnel_hub_addrs(struct api *api, char *v4, char *v6, size_t len)
{
	join_hub_addr(api, "tunnel.ipv4_prefix", JOIN_DEFAULT_V4, v4, len);
	join_hub_addr(api, "tunnel.ipv6_prefix", JOIN_DEFAULT_V6, v6, len);
}
