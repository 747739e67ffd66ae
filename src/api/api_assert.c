/* api_assert.c - the identity assertion's signing keys on the control
 * thread: made once (audited) and sealed in the store's secrets table
 * ("login", 0, "assert_key": the current Ed25519 seed; "assert_prev": the
 * previous public key, still published), rotated on request, handed to
 * the workers in the snapshot, and published as a JWKS at
 * https://HUB/.well-known/jwks.json (docs/auth.md). */
#define LOG_SUBSYS "login"
#include <string.h>

#include "api/api_handlers.h"
#include "auth/auth_assert.h"
#include "core/log.h"
#include "core/secure.h"

/* Reads (login, 0, name) when it holds exactly `len` bytes. Returns 0,
 * or -1 (absent, or not openable). */
static int api_assert_read(struct api *api, const char *name, uint8_t *out, size_t len)
{
	uint8_t *val = NULL;
	size_t n = 0;
	int rc = -1;

	if (secret_get(&api->store, &api->keys, "login", 0, name, &val, &n) == 0) {
		if (n == len) {
			memcpy(out, val, len);
			rc = 0;
		}
		secure_free(val, n + 1);
	}
	return rc;
}

/* A new seed sealed as the current key; with `c` (an admin's rotation),
 * the current key's public half becomes the previous one and the admin
 * is the audit entry's actor; without, the system makes the first key.
 * Returns 0 or -1 (after replying, with `c`). */
static int api_assert_make(struct api *api, struct api_ctx *c,
			   uint8_t seed[AUTH_ASSERT_SEED_LEN])
{
	uint8_t old[AUTH_ASSERT_SEED_LEN], pub[AUTH_ASSERT_PUB_LEN];
	bool had = c && api_assert_read(api, "assert_key", old, sizeof(old)) == 0 &&
		   auth_assert_pub_of(old, pub) == 0;
	int64_t seq;

	secure_wipe(old, sizeof(old));
	if (secure_random(seed, AUTH_ASSERT_SEED_LEN) < 0)
		return -1;
	seq = c ? api_tx_begin(c) : api_sys_tx_begin(api);
	if (seq < 0)
		return -1;
	if (secret_put(&api->store, &api->keys, "login", 0, "assert_key", seed,
		       AUTH_ASSERT_SEED_LEN) < 0 ||
	    (had && secret_put(&api->store, &api->keys, "login", 0, "assert_prev", pub,
			       sizeof(pub)) < 0)) {
		if (c) {
			api_tx_abort(c);
			api_reply_error(c, 500, "internal", NULL, "cannot store the key");
		} else {
			store_rollback(&api->store);
		}
		return -1;
	}
	if (c) {
		c->changed |= API_CHANGED_USERS;
		return api_tx_commit(c, seq, "login.assert_key_rotated", "login:assert_key",
				     "", "");
	}
	return api_sys_tx_commit(api, seq, "login.assert_key", "login:assert_key", NULL,
				 "{\"origin\":\"generated\"}");
}

/* The issuer: the hub's public URL (setting, then config). */
static bool api_assert_iss(struct api *api, char *out, size_t len)
{
	if (api_setting_public_url(api, out, len))
		return true;
	snprintf(out, len, "%s", api->public_url ? api->public_url : "");
	return out[0] != 0;
}

struct auth_assert *api_assert_build(struct api *api, bool create)
{
	uint8_t seed[AUTH_ASSERT_SEED_LEN], prev[AUTH_ASSERT_PUB_LEN];
	char iss[AUTH_ASSERT_ISS_MAX + 1];
	struct auth_assert *a = NULL;
	bool have = api_assert_read(api, "assert_key", seed, sizeof(seed)) == 0;

	if (!have && create)
		have = api_assert_make(api, NULL, seed) == 0;
	if (have && api_assert_iss(api, iss, sizeof(iss))) {
		bool hp = api_assert_read(api, "assert_prev", prev, sizeof(prev)) == 0;
		a = auth_assert_new(seed, hp ? prev : NULL, iss);
		if (!a)
			log_err("the identity assertion key cannot be used");
	}
	secure_wipe(seed, sizeof(seed));
	return a;
}

void api_assert_jwks_reply(struct api_ctx *c)
{
	struct auth_assert *a = api_assert_build(c->api, false);

	buf_reset(&c->resp->body);
	api_reply_header(c, "Content-Type: application/jwk-set+json");
	api_reply_header(c, "Cache-Control: public, max-age=300");
	api_reply_header(c, "Access-Control-Allow-Origin: *");
	if (auth_assert_jwks(a, &c->resp->body) < 0) {
		buf_reset(&c->resp->body);
		api_reply_error(c, 500, "internal", NULL, "cannot list the keys");
	} else {
		c->resp->status = 200;
	}
	auth_assert_free(a);
}

/* POST /api/v1/login/assertion-key: a new signing key; the old one stays
 * in the JWKS (as the previous key) until the next rotation. */
void api_assert_rotate(struct api_ctx *c)
{
	uint8_t seed[AUTH_ASSERT_SEED_LEN], pub[AUTH_ASSERT_PUB_LEN];
	char kid[AUTH_ASSERT_KID_LEN + 1];
	int rc = api_assert_make(c->api, c, seed);

	if (rc == 0)
		rc = auth_assert_pub_of(seed, pub);
	secure_wipe(seed, sizeof(seed));
	if (rc < 0)
		return;		/* replied */
	auth_assert_kid(pub, kid);
	api_reply_json(c, 201, json_pack("{s:s}", "kid", kid));
}
