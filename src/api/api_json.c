/* api_json.c - bounded decoding of request bodies and query strings. */
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "core/num.h"

int api_json_depth(const uint8_t *p, size_t len)
{
	int depth = 0, max = 0;
	bool in_str = false, esc = false;

	for (size_t i = 0; i < len; i++) {
		uint8_t ch = p[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > max)
				max = depth;
		} else if (ch == '}' || ch == ']') {
			if (--depth < 0)
				return -1;
		}
	}
	return depth == 0 ? max : -1;
}

json_t *api_json_parse(const uint8_t *body, size_t len, char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *v;
	int depth;

	if (len > API_JSON_MAX) {
		snprintf(why, whylen, "the body is larger than %u bytes", API_JSON_MAX);
		return NULL;
	}
	/* jansson recurses per level; bound the depth before it sees it. */
	depth = api_json_depth(body, len);
	if (depth > API_JSON_DEPTH) {
		snprintf(why, whylen, "the body nests deeper than %d levels",
			 API_JSON_DEPTH);
		return NULL;
	}
	v = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		snprintf(why, whylen, "invalid JSON at line %d column %d: %s",
			 jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		snprintf(why, whylen, "the body must be a JSON object");
		return NULL;
	}
	return v;
}

/* One "name=value" of the query; returns 0 or -1 after replying. */
static int api_query_param(struct api_ctx *c, const char *p, size_t n,
			   int64_t *limit, int64_t *after, unsigned *seen)
{
	const char *eq = memchr(p, '=', n);
	size_t klen = eq ? (size_t)(eq - p) : n;
	const char *v = eq ? eq + 1 : p + n;
	size_t vlen = (size_t)(p + n - v);
	uint64_t x;
	int which;

	if (klen == 5 && !memcmp(p, "limit", 5))
		which = 0;
	else if (klen == 5 && !memcmp(p, "after", 5))
		which = 1;
	else {
		api_reply_error(c, 400, "invalid", NULL, "unknown query parameter "
				"'%.*s' (limit and after are known)",
				(int)(klen > 32 ? 32 : klen), p);
		return -1;
	}
	if ((*seen & (1u << which)) || !eq ||
	    num_parse_u64(v, vlen, which ? 0 : 1, which ? INT64_MAX : API_PAGE_MAX, &x) < 0) {
		api_reply_error(c, 400, "invalid", which ? "after" : "limit",
				which ? "after: must be given once, as an id or "
					"sequence number from a previous page"
				      : "limit: must be given once, 1 to %d", API_PAGE_MAX);
		return -1;
	}
	*seen |= 1u << which;
	*(which ? after : limit) = (int64_t)x;
	return 0;
}

int api_query_page(struct api_ctx *c, int64_t *limit, int64_t *after)
{
	const char *q = c->req->query;
	unsigned seen = 0;

	*limit = API_PAGE_DEFAULT;
	*after = 0;
	while (q && *q) {
		size_t n = strcspn(q, "&");
		if (n && api_query_param(c, q, n, limit, after, &seen) < 0)
			return -1;
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

const char *api_body_str(struct api_ctx *c, const char *name)
{
	return json_string_value(json_object_get(c->body, name));
}

int api_body_only(struct api_ctx *c, const char *const *allowed)
{
	const char *key;
	json_t *v;

	json_object_foreach(c->body, key, v) {
		const char *const *a = allowed;
		while (*a && strcmp(*a, key))
			a++;
		if (!*a) {
			api_reply_error(c, 400, "invalid", key, "%s: unknown field", key);
			return -1;
		}
	}
	return 0;
}
