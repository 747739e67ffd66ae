/* api_token.c - API tokens: shown once at creation, stored as SHA-256
 * (they are 256-bit random, so a fast hash is enough), read or write. */
#include <stdio.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_resource.h"

#define API_TOKEN_HINT 11	/* "pt_" and 8 characters */

static const struct api_field api_token_fields[] = {
	{ "name", API_T_STR, API_F_REQUIRED, 1, 64, api_check_text },
	{ "scope", API_T_STR, API_F_REQUIRED, 1, 8, api_check_scope },
	{ "user_id", API_T_INT, API_F_FIXED, 1, INT64_MAX, NULL },
	{ "expires_in", API_T_INT, API_F_INPUT, 60, 10 * 365 * 86400LL, NULL },
	{ "expires_at", API_T_INT, API_F_READONLY | API_F_NULL, 0, 0, NULL },
	{ "last_used_at", API_T_INT, API_F_READONLY | API_F_NULL, 0, 0, NULL },
	{ "hint", API_T_STR, API_F_READONLY, 0, 0, NULL },
	{ "hash", API_T_STR, API_F_READONLY | API_F_HIDDEN, 0, 0, NULL },
};

/* The owner: as given, else the caller, else (the control socket has no
 * user) the first enabled admin. */
static int64_t api_token_owner(struct api_ctx *c, const json_t *row)
{
	json_t *v = json_object_get(row, "user_id");

	if (json_is_integer(v))
		return json_integer_value(v);
	if (c->who.user_id)
		return c->who.user_id;
	return store_query_int(&c->api->store, "SELECT id FROM users WHERE role = "
			       "'admin' AND disabled = 0 ORDER BY id LIMIT 1", 0);
}

static int api_token_prepare(struct api_ctx *c, json_t *row, const json_t *old)
{
	json_t *ttl = json_object_get(row, "expires_in");
	int64_t owner = api_token_owner(c, row);
	(void)old;
	if (!owner) {
		api_reply_error(c, 400, "invalid", "user_id", "user_id: is required "
				"(there is no admin to own the token)");
		return -1;
	}
	if (api_reveal_token(c, "pt_", API_TOKEN_HINT, row) < 0)
		return -1;
	json_object_set_new(row, "user_id", json_integer(owner));
	if (ttl)
		json_object_set_new(row, "expires_at", json_integer(store_now_ms() +
				    json_integer_value(ttl) * 1000));
	return 0;
}

const struct api_resource api_token_res = {
	API_RES_TABLE("token", "api_tokens", api_token_fields),
	.fk_field = "user_id",
	.prepare = api_token_prepare,
};
