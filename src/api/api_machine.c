/* api_machine.c - machine credentials of login routes: route tokens and
 * share links (docs/auth.md, "Machine credentials and share links").
 *
 * Both are shown once at creation (the token, the link) and stored as
 * their SHA-256; revoking deletes the row, and the workers' snapshot
 * drops it at once (API_CHANGED_USERS republishes). This file also
 * builds the snapshot's table (api_machine_creds), writes the workers'
 * batched last-use times (api_machine_flush) and opens share links on a
 * route host (api_share_open, control thread). */
#define LOG_SUBSYS "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "api/api_handlers.h"
#include "api/api_portal.h"
#include "api/api_resource.h"
#include "auth/auth_basic.h"
#include "auth/auth_creds.h"
#include "core/log.h"
#include "core/secure.h"
#include "http/form.h"

#define API_MACHINE_HINT 12	/* "prt_" or "psl_" and 8 characters */
#define API_SHARE_PREFIX "psl_"	/* a share link's key */
#define API_SHARE_MAX_TTL (90 * 86400LL)

static const struct api_field api_route_token_fields[] = {
	{ "name", API_T_STR, API_F_REQUIRED | API_F_FIXED, 1, 64, api_check_name },
	{ "route_id", API_T_INT, API_F_REQUIRED | API_F_FIXED, 1, INT64_MAX, NULL },
	{ "hint", API_T_STR, API_F_READONLY, 0, 0, NULL },
	{ "created_by", API_T_STR, API_F_READONLY, 0, 0, NULL },
	{ "last_used_at", API_T_INT, API_F_READONLY | API_F_NULL, 0, 0, NULL },
	{ "hash", API_T_STR, API_F_READONLY | API_F_HIDDEN, 0, 0, NULL },
};

static const struct api_field api_share_fields[] = {
	{ "name", API_T_STR, API_F_REQUIRED | API_F_FIXED, 1, 64, api_check_name },
	{ "route_id", API_T_INT, API_F_REQUIRED | API_F_FIXED, 1, INT64_MAX, NULL },
	{ "expires_in", API_T_INT, API_F_INPUT | API_F_REQUIRED, 60, API_SHARE_MAX_TTL, NULL },
	{ "max_uses", API_T_INT, API_F_FIXED | API_F_NULL, 1, 1000000, NULL },
	{ "expires_at", API_T_INT, API_F_READONLY, 0, 0, NULL },
	{ "uses", API_T_INT, API_F_READONLY, 0, 0, NULL },
	{ "hint", API_T_STR, API_F_READONLY, 0, 0, NULL },
	{ "created_by", API_T_STR, API_F_READONLY, 0, 0, NULL },
	{ "last_used_at", API_T_INT, API_F_READONLY | API_F_NULL, 0, 0, NULL },
	{ "hash", API_T_STR, API_F_READONLY | API_F_HIDDEN, 0, 0, NULL },
	{ "nonce", API_T_INT, API_F_READONLY | API_F_HIDDEN, 0, 0, NULL },
};

/* The route's host (not a wildcard: a link needs one name) into host.
 * Returns 0, or -1 after replying 400 naming route_id. */
static int api_machine_route_host(struct api_ctx *c, int64_t route_id, char *host, size_t len)
{
	sqlite3_stmt *st = store_prepare(&c->api->store, "SELECT host FROM routes WHERE id = ?");
	const char *h;
	int rc = -1;

	if (st) {
		sqlite3_bind_int64(st, 1, route_id);
		if (sqlite3_step(st) == SQLITE_ROW && (h = (const char *)sqlite3_column_text(st, 0)) &&
		    h[0] != '*' && strlen(h) < len) {
			snprintf(host, len, "%s", h);
			rc = 0;
		}
		sqlite3_finalize(st);
	}
	if (rc < 0)
		api_reply_error(c, 400, "invalid", "route_id", "route_id: no such route with"
				" a single host name");
	return rc;
}

/* A new secret in c->reveal, its hash, hint and creator in `row`.
 * Returns 0, or -1 after replying. */
static int api_machine_secret(struct api_ctx *c, json_t *row, const char *prefix)
{
	if (api_reveal_token(c, prefix, API_MACHINE_HINT, row) < 0)
		return -1;
	json_object_set_new(row, "created_by", json_string(c->who.actor));
	return 0;
}

static int api_route_token_prepare(struct api_ctx *c, json_t *row, const json_t *old)
{
	(void)old;
	return api_machine_secret(c, row, AUTH_ROUTE_TOKEN_PREFIX);
}

/* The link is https://HOST[:port]/.postern/share?k=TOKEN: the one-time
 * secret shown is the whole URL. */
static int api_share_prepare(struct api_ctx *c, json_t *row, const json_t *old)
{
	int64_t ttl = json_integer_value(json_object_get(row, "expires_in"));
	char host[256], ps[8];
	uint32_t nonce;
	char *url;
	size_t len;

	(void)old;
	if (api_machine_route_host(c, json_integer_value(json_object_get(row, "route_id")), host,
				   sizeof(host)) < 0 || api_machine_secret(c, row, API_SHARE_PREFIX) < 0)
		return -1;
	if (RAND_bytes((unsigned char *)&nonce, sizeof(nonce)) != 1) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return -1;
	}
	api_portal_port(c, ps);
	len = strlen(host) + strlen(ps) + strlen(c->reveal) + 40;
	url = malloc(len);
	if (!url) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return -1;
	}
	snprintf(url, len, "https://%s%s" AUTH_SHARE_PATH "?k=%s", host, ps, c->reveal);
	secure_free(c->reveal, strlen(c->reveal));
	c->reveal = url;
	c->reveal_as = "url";
	json_object_set_new(row, "nonce", json_integer(nonce & 0x7fffffff));
	json_object_set_new(row, "expires_at", json_integer(store_now_ms() + ttl * 1000));
	return 0;
}

const struct api_resource api_route_token_res = {
	API_RES_TABLE("route_token", "route_tokens", api_route_token_fields),
	.changes = API_CHANGED_USERS,
	.fk_field = "route_id",
	.prepare = api_route_token_prepare,
};

const struct api_resource api_share_res = {
	API_RES_TABLE("share_link", "share_links", api_share_fields),
	.changes = API_CHANGED_USERS,
	.fk_field = "route_id",
	.prepare = api_share_prepare,
};
