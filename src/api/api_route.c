/* api_route.c - routes: host + path prefix -> target (through an agent). */
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include "access/policy.h"

#include "api/api_handlers.h"
#include "api/api_resource.h"

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
}

const struct api_resource api_route_res = {
	.name = "route",
	.table = "routes",
	.fields = api_route_fields,
	.nfields = ARRAY_SIZE(api_route_fields),
	.changes = API_CHANGED_ROUTES,
	.fk_field = "agent_id",
	.prepare = api_route_prepare,
	.show = api_route_show,
};
