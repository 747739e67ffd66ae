/* api_call.h - calling api_handle() with synthetic requests in tests. */
#ifndef POSTERN_TESTS_API_CALL_H
#define POSTERN_TESTS_API_CALL_H

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"

/* A request; unset members take defaults: the control socket as root. */
struct rq {
	const char *method, *path, *query, *body;
	const char *auth, *cookie, *origin, *if_match, *csrf, *ctype, *host;
	int via;		/* 0: the control socket, or VIA_* */
	uid_t uid;
	gid_t gid;
	pid_t pid;		/* the peer's pid (default 1) */
	const char *ip;
};

#define VIA_HTTPS 1
#define VIA_TUNNEL 2

/* The last response. */
struct rs {
	int status;
	json_t *json;		/* parsed body, or NULL */
	char headers[4096];
	char body[65536];
};

static struct rs rs_last;

/* If set, told about every call() and its status once rs_last holds the
 * response (tests that track which endpoints they exercised). */
static void (*call_observe)(const struct rq *r, int status);

/* Returns the value of header `name` in the last response, or NULL. */
static inline const char *rs_header(const char *name)
{
	static char val[1024];
	char *p = rs_last.headers;
	size_t n = strlen(name);

	while (p && *p) {
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			size_t len = strcspn(p + n + 2, "\r");
			snprintf(val, sizeof(val), "%.*s", (int)len, p + n + 2);
			return val;
		}
		p = strstr(p, "\r\n");
		p = p ? p + 2 : NULL;
	}
	return NULL;
}

/* The error code / field of the last response ("" when absent). */
static inline const char *rs_code(void)
{
	const char *s = json_string_value(json_object_get(
		json_object_get(rs_last.json, "error"), "code"));
	return s ? s : "";
}

static inline const char *rs_field(void)
{
	const char *s = json_string_value(json_object_get(
		json_object_get(rs_last.json, "error"), "field"));
	return s ? s : "";
}

static inline const char *rs_body_message(void)
{
	const char *s = json_string_value(json_object_get(
		json_object_get(rs_last.json, "error"), "message"));
	return s ? s : "";
}

static inline json_t *rs_get(const char *name)
{
	return json_object_get(rs_last.json, name);
}

static inline int64_t rs_int(const char *name)
{
	return json_integer_value(rs_get(name));
}

static inline const char *rs_str(const char *name)
{
	const char *s = json_string_value(rs_get(name));
	return s ? s : "";
}

/* Runs one request through api_handle; returns the status. */
static inline int call(struct api *api, struct rq r)
{
	struct api_req q = {
		.method = r.method ? r.method : "GET",
		.path = r.path,
		.query = r.query,
		.host = r.host ? r.host : "hub.test",
		.authorization = r.auth,
		.cookie = r.cookie,
		.origin = r.origin,
		.if_match = r.if_match,
		.content_type = r.ctype ? r.ctype : (r.body ? "application/json" : NULL),
		.csrf_token = r.csrf,
		.body = (const uint8_t *)r.body,
		.body_len = r.body ? strlen(r.body) : 0,
		.client_ip = r.ip ? r.ip : (r.via ? "192.0.2.10" : ""),
		.transport = r.via == VIA_HTTPS ? API_TRANSPORT_HTTPS :
			     r.via == VIA_TUNNEL ? API_TRANSPORT_TUNNEL : API_TRANSPORT_UNIX,
		.peer_uid = r.uid,
		.peer_gid = r.gid,
		.peer_pid = r.pid ? r.pid : 1,
	};
	struct api_resp resp;
	size_t n;

	api_resp_init(&resp);
	api_handle(api, &q, &resp);
	json_decref(rs_last.json);
	rs_last.status = resp.status;
	n = resp.headers.len < sizeof(rs_last.headers) - 1 ? resp.headers.len
							   : sizeof(rs_last.headers) - 1;
	if (n)
		memcpy(rs_last.headers, buf_head(&resp.headers), n);
	rs_last.headers[n] = 0;
	n = resp.body.len < sizeof(rs_last.body) - 1 ? resp.body.len
						     : sizeof(rs_last.body) - 1;
	if (n)
		memcpy(rs_last.body, buf_head(&resp.body), n);
	rs_last.body[n] = 0;
	rs_last.json = n ? json_loads(rs_last.body, 0, NULL) : NULL;
	api_resp_free(&resp);
	if (call_observe)
		call_observe(&r, rs_last.status);
	return rs_last.status;
}

#endif
