/* api_route.c - routes: host + path prefix -> target (through an agent). */
#include <ctype.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "access/policy.h"

#include "api/api_handlers.h"
#include "api/api_resource.h"
#include "core/num.h"

static const struct api_field api_route_fields[] = {
	/* Required for http(s) routes; a tcp:// route has no host (below). */
	{ "host", API_T_STR, 0, 1, 253, api_check_host },
	{ "path_prefix", API_T_STR, 0, 1, 1024, api_check_path },
	{ "agent_id", API_T_INT, API_F_NULL, 1, INT64_MAX, NULL },
	{ "target", API_T_STR, API_F_REQUIRED, 1, 2048, api_check_target },
	{ "strip_prefix", API_T_BOOL, 0, 0, 0, NULL },
	{ "redirect_https", API_T_BOOL, 0, 0, 0, NULL },
	{ "hsts_max_age", API_T_INT, 0, 0, 63072000, NULL },
	{ "tls_verify", API_T_BOOL, 0, 0, 0, NULL },
	{ "tls_server_name", API_T_STR, API_F_NULL, 1, 253, api_check_dns_name },
	{ "tcp_listen_port", API_T_INT, API_F_NULL, 1, 65535, NULL },
	/* Access rules (access/policy.h); the login policy, GeoIP,
	 * CrowdSec and rate limits add keys there. */
	{ "policy", API_T_STR, API_F_NULL, 0, 65536, NULL },
};

static bool api_route_is(const json_t *row, const char *name)
{
	return json_is_true(json_object_get(row, name));
}

static const char *api_route_str(const json_t *row, const char *name)
{
	return json_string_value(json_object_get(row, name));
}

/* True when host is the hub's own name: the hub.public_url setting's or
 * the configured hostname's (never the request's Host). */
static bool api_route_hub_host(struct api_ctx *c, const char *host)
{
	char set[300];
	const char *u = api_setting_public_url(c->api, set, sizeof(set)) ? set
			: c->api->public_url;
	const char *h;
	size_t n;

	if (!u || !host || strncmp(u, "https://", 8))
		return false;
	h = u + 8;
	n = strcspn(h, ":/");
	return n && strlen(host) == n && !strncasecmp(host, h, n);
}

/* The policy JSON, checked by the parser the route table uses. */
static int api_route_policy(struct api_ctx *c, const char *json)
{
	struct access_policy p;
	char err[160];

	if (!json || access_policy_parse(json, &p, err, sizeof(err)) == 0)
		return 0;
	api_reply_error(c, 400, "invalid", "policy", "%s", err);
	return -1;
}

/* A tcp:// route's port must be one the hub can listen on: not one of its
 * own listeners, not taken by another process. Checked when the port is
 * new to the route (a route keeping its port is already listening). */
static int api_route_port_free(struct api_ctx *c, const json_t *row, const json_t *old)
{
	json_int_t port = json_integer_value(json_object_get(row, "tcp_listen_port"));
	const json_t *was = old ? json_object_get(old, "tcp_listen_port") : NULL;
	char why[256];

	if (!c->api->port_check || (json_is_integer(was) && json_integer_value(was) == port))
		return 0;
	if (c->api->port_check(c->api->port_check_ctx, (unsigned)port, why, sizeof(why)) == 0)
		return 0;
	api_reply_error(c, 409, "conflict", "tcp_listen_port", "tcp_listen_port: %s", why);
	return -1;
}

/* An http(s) route needs a host. A raw TCP route is reached by its port
 * alone: without a host it gets "tcp:PORT", which no request's Host can
 * be (the column is unique with the path, so each needs its own value),
 * and that follows the port when the port changes. Returns 0 or -1
 * after replying. */
static int api_route_host(struct api_ctx *c, json_t *row, bool tcp, bool has_port)
{
	const char *host = api_route_str(row, "host");
	char name[16];

	if (!tcp && !host) {
		api_reply_error(c, 400, "invalid", "host", "host: is required");
		return -1;
	}
	if (!tcp || !has_port || (host && strncmp(host, "tcp:", 4)))
		return 0;
	snprintf(name, sizeof(name), "tcp:%lld",
		 (long long)json_integer_value(json_object_get(row, "tcp_listen_port")));
	json_object_set_new(row, "host", json_string(name));
	return 0;
}

/* A tcp:// target is a raw TCP route on a public port of the hub: it has
 * a listen port and no path; an http(s) route has no listen port. */
static int api_route_prepare(struct api_ctx *c, json_t *row, const json_t *old)
{
	const char *target = api_route_str(row, "target");
	const char *prefix = api_route_str(row, "path_prefix");
	bool tcp = target && !strncmp(target, "tcp://", 6);
	bool has_port = json_is_integer(json_object_get(row, "tcp_listen_port"));

	if (api_route_host(c, row, tcp, has_port) < 0)
		return -1;
	if (api_route_hub_host(c, api_route_str(row, "host"))) {
		api_reply_error(c, 400, "invalid", "host", "host: is the hub's own name; "
				"its admin API and login pages cannot be routed");
		return -1;
	}
	if (api_route_policy(c, api_route_str(row, "policy")) < 0)
		return -1;
	if (tcp && !has_port) {
		api_reply_error(c, 400, "invalid", "tcp_listen_port", "tcp_listen_port: "
				"is required for a tcp:// target");
		return -1;
	}
	if (!tcp && has_port) {
		api_reply_error(c, 400, "invalid", "tcp_listen_port", "tcp_listen_port: "
				"is only for tcp:// targets");
		return -1;
	}
	if (tcp && ((prefix && strcmp(prefix, "/")) || api_route_is(row, "strip_prefix"))) {
		api_reply_error(c, 400, "invalid", "path_prefix", "path_prefix: "
				"tcp:// routes have no path");
		return -1;
	}
	if (tcp && api_route_port_free(c, row, old) < 0)
		return -1;
	if (json_is_string(json_object_get(row, "tls_server_name")) &&
	    strncmp(target, "https://", 8)) {
		api_reply_error(c, 400, "invalid", "tls_server_name", "tls_server_name: "
				"is only for https:// targets");
		return -1;
	}
	return 0;
}

/* The host (lower case, no brackets) and port of a checked target
 * ("scheme://host[:port][/base]"). Returns 0, or -1 when it has none. */
static int api_route_hostport(const char *target, char *host, size_t hlen,
			      unsigned *port)
{
	const char *hp = strstr(target, "://"), *end, *colon;
	uint64_t p;
	size_t n;

	if (!hp)
		return -1;
	hp += 3;
	end = hp + strcspn(hp, "/");
	if (*hp == '[') {
		const char *rb = memchr(hp, ']', (size_t)(end - hp));
		if (!rb)
			return -1;
		colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
		n = (size_t)(rb - hp - 1);
		hp++;
	} else {
		colon = memchr(hp, ':', (size_t)(end - hp));
		n = (size_t)((colon ? colon : end) - hp);
	}
	if (!n || n >= hlen)
		return -1;
	for (size_t i = 0; i < n; i++)
		host[i] = (char)tolower((unsigned char)hp[i]);
	host[n] = 0;
	if (!colon)
		p = strncmp(target, "https://", 8) ? 80 : 443;
	else if (num_parse_u64(colon + 1, (size_t)(end - colon - 1), 1, 65535, &p) < 0)
		return -1;
	*port = (unsigned)p;
	return 0;
}

/* What the route's agent last said about its target: "target_status"
 * (the agent's outcome for it: ok, not_allowed, refused, ...; null when
 * it has not reported one) and "target_status_at"; and "warnings", e.g.
 * a target outside the allowlist the agent reported, which it will
 * refuse (a bare 502 otherwise). */
static void api_route_agent_view(struct api_ctx *c, json_t *obj)
{
	json_t *warnings = json_array(), *hb = NULL, *t, *allow;
	const char *target = api_route_str(obj, "target"), *name = NULL;
	json_t *aid = json_object_get(obj, "agent_id");
	json_int_t at = 0;
	sqlite3_stmt *st = NULL;
	char host[256] = "", label[300] = "";
	const char *status = NULL;
	unsigned port = 0;
	size_t i;

	if (json_is_integer(aid) && target && api_route_hostport(target, host, sizeof(host),
								  &port) == 0 &&
	    (st = store_prepare(&c->api->store, "SELECT name, heartbeat FROM agents"
				" WHERE id = ? AND kind = 'agent'"))) {
		sqlite3_bind_int64(st, 1, json_integer_value(aid));
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 1)) {
			name = (const char *)sqlite3_column_text(st, 0);
			hb = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
		}
	}
	if (hb)
		snprintf(label, sizeof(label), strchr(host, ':') ? "[%s]:%u" : "%s:%u",
			 host, port);
	json_array_foreach(json_object_get(hb, "targets"), i, t)
		if (!strcmp(json_string_value(json_object_get(t, "target")) ?: "", label)) {
			status = json_string_value(json_object_get(t, "status"));
			at = json_integer_value(json_object_get(hb, "received_at")) -
			     json_integer_value(json_object_get(t, "age")) * 1000;
		}
	allow = json_object_get(hb, "allow");
	if (json_is_array(allow) && c->api->allow_check &&
	    c->api->allow_check(allow, host, port) == 0)
		json_array_append_new(warnings, json_sprintf("target %s is outside the allowlist"
			" agent %s reported: the agent will refuse it (add it with --allow on the"
			" agent)", label, name ? name : "?"));
	if (status && strcmp(status, "ok"))
		json_array_append_new(warnings, json_sprintf("the last stream agent %s was asked"
			" to open to %s ended in %s", name ? name : "?", label, status));
	json_object_set_new(obj, "target_status", status ? json_string(status) : json_null());
	json_object_set_new(obj, "target_status_at", status ? json_integer(at) : json_null());
	json_object_set_new(obj, "warnings", warnings);
	json_decref(hb);
	sqlite3_finalize(st);
}

/* "listen_status": null for http routes and without a hub; for a tcp://
 * route whether the hub listens on its port, and if not why (a bind
 * failure would otherwise only be in the hub's log). */
static void api_route_show(struct api_ctx *c, json_t *obj)
{
	json_t *port = json_object_get(obj, "tcp_listen_port");
	json_t *st = json_null();
	char why[256] = "";
	int r;

	if (c->summary)	/* live state is not part of the route's record */
		return;
	if (json_is_integer(port) && c->api->port_status &&
	    (r = c->api->port_status(c->api->port_check_ctx,
				     (unsigned)json_integer_value(port), why, sizeof(why))) >= 0)
		st = json_pack("{s:b,s:s?}", "listening", r == 1, "error", r == 1 ? NULL : why);
	json_object_set_new(obj, "listen_status", st ? st : json_null());
	api_route_agent_view(c, obj);
}

const struct api_resource api_route_res = {
	API_RES_TABLE("route", "routes", api_route_fields),
	.changes = API_CHANGED_ROUTES,
	.fk_field = "agent_id",
	.prepare = api_route_prepare,
	.show = api_route_show,
};
