/* api_reply.c - JSON responses, errors, ETag and If-Match. */
#define LOG_SUBSYS "api"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "core/log.h"
#include "core/num.h"

void api_reply_header(struct api_ctx *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Header values come from our own code, never raw client input;
	 * refuse anything that could split the header anyway. */
	if (n < 0 || (size_t)n >= sizeof(line) - 2 || strpbrk(line, "\r\n"))
		return;
	buf_printf(&c->resp->headers, "%s\r\n", line);
}

void api_reply_json(struct api_ctx *c, int status, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	json_decref(obj);
	buf_reset(&c->resp->body);
	if (!text || buf_printf(&c->resp->body, "%s\n", text) < 0) {
		buf_reset(&c->resp->body);
		buf_printf(&c->resp->body, "{\"error\":{\"code\":\"internal\","
			   "\"message\":\"response too large\",\"field\":null}}\n");
		status = 500;
	}
	free(text);
	c->resp->status = status;
}

void api_reply_empty(struct api_ctx *c, int status)
{
	buf_reset(&c->resp->body);
	c->resp->status = status;
}

void api_reply_error(struct api_ctx *c, int status, const char *code,
		     const char *field, const char *fmt, ...)
{
	char msg[512], f[65];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A field name may come from the client: keep it short. */
	if (field)
		snprintf(f, sizeof(f), "%s", field);
	api_reply_json(c, status, json_pack("{s:{s:s,s:s,s:s?}}", "error",
					    "code", code, "message", msg,
					    "field", field ? f : NULL));
}

sqlite3_stmt *api_prepare(struct api_ctx *c, const char *sql)
{
	sqlite3_stmt *st = store_prepare(&c->api->store, sql);

	if (!st)
		api_reply_error(c, 500, "internal", NULL, "internal error");
	return st;
}

void api_reply_etag(struct api_ctx *c, int64_t rev)
{
	api_reply_header(c, "ETag: \"%lld\"", (long long)rev);
}

/* Whether one entity tag of an If-Match list is "REV" (strong). */
static bool api_etag_is(const char *p, size_t n, int64_t rev)
{
	uint64_t v;

	if (n == 1 && p[0] == '*')
		return true;
	if (n < 3 || p[0] != '"' || p[n - 1] != '"')
		return false;	/* weak (W/"..") or malformed: no match */
	return num_parse_u64(p + 1, n - 2, 0, INT64_MAX, &v) == 0 &&
	       (int64_t)v == rev;
}

int api_if_match_required(struct api_ctx *c)
{
	if (c->req->if_match)
		return 0;
	api_reply_error(c, 428, "precondition_required", NULL,
			"If-Match is required: send the ETag you read");
	return -1;
}

int api_if_match(struct api_ctx *c, int64_t rev, bool required)
{
	const char *h = c->req->if_match, *p;

	if (!h)
		return required ? api_if_match_required(c) : 0;
	for (p = h; *p;) {
		size_t n;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, ",");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n && api_etag_is(p, n, rev))
			return 0;
		p += strcspn(p, ",");
	}
	api_reply_error(c, 412, "precondition_failed", NULL,
			"the object changed since you read it (it is now \"%lld\")",
			(long long)rev);
	return -1;
}

/* "UNIQUE constraint failed: routes.host, routes.path_prefix" -> "host". */
static void api_constraint_field(const char *msg, char *out, size_t len)
{
	const char *p = strchr(msg ? msg : "", ':');
	const char *dot = p ? strchr(p, '.') : NULL;
	size_t n = dot ? strcspn(dot + 1, ", ") : 0;

	snprintf(out, len, "%.*s", (int)n, dot ? dot + 1 : "");
}

void api_reply_store_error(struct api_ctx *c, const char *fk_field)
{
	struct store *s = &c->api->store;
	char field[64];

	if (store_constraint_is(s, SQLITE_CONSTRAINT_UNIQUE) ||
	    store_constraint_is(s, SQLITE_CONSTRAINT_PRIMARYKEY)) {
		api_constraint_field(sqlite3_errmsg(s->db), field, sizeof(field));
		api_reply_error(c, 409, "conflict", field[0] ? field : NULL,
				"%s: already in use", field[0] ? field : "value");
	} else if (store_constraint_is(s, SQLITE_CONSTRAINT_FOREIGNKEY) && fk_field) {
		api_reply_error(c, 400, "invalid", fk_field, "%s: no such object",
				fk_field);
	} else if (store_constraint_is(s, SQLITE_CONSTRAINT_FOREIGNKEY) ||
		   store_constraint_is(s, SQLITE_CONSTRAINT_TRIGGER)) {
		api_reply_error(c, 409, "conflict", NULL,
				"other objects still refer to this one");
	} else {
		log_err("store: %s", sqlite3_errmsg(s->db));
		api_reply_error(c, 500, "internal", NULL, "internal error");
	}
}
