/* fuzz_auth_cookie.c - what a client's Cookie field and Host reach in the
 * route login check: the Cookie reader, the host normaliser and the
 * session token verifier (auth_cookie.h), plus the login policy JSON
 * (access/policy.h). A token that verifies must name the claims it was
 * minted with, so a round trip is checked too. The login-state list
 * reader (auth_state_next) must return, in order, exactly the pieces of
 * the value between dots that are states. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "access/policy.h"
#include "auth/auth_cookie.h"
#include "core/enc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[AUTH_KEY_LEN] = { 7 };

/* The state list reader against a plain split at '.'. */
static void check_states(struct str v)
{
	struct str rest = v, tok;
	const char *p = v.p, *end = v.p + v.len;

	while (auth_state_next(&rest, &tok)) {
		bool state = tok.len == AUTH_STATE_LEN && enc_b64url_chars(tok.p, tok.len);
		const char *piece = p;

		/* The next piece of the model that is a state must be tok. */
		for (;;) {
			const char *dot = memchr(p, '.', (size_t)(end - p));
			size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);

			piece = p;
			p = dot ? dot + 1 : end;
			if (n == AUTH_STATE_LEN && enc_b64url_chars(piece, n))
				break;
			if (!dot)
				abort();	/* the reader found a state the model did not */
		}
		if (!state || tok.p != piece)
			abort();
	}
	/* Nothing after the last state the reader returned is a state. */
	while (p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);

		if (n == AUTH_STATE_LEN && enc_b64url_chars(p, n))
			abort();
		p = dot ? dot + 1 : end;
	}
}
/* One cache for the whole run, as a worker keeps one. */
static struct auth_cookie_cache cache;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct str in = str_make((const char *)data, size), tok;
	char host[AUTH_HOST_MAX + 1], again[AUTH_TOKEN_MAX], *json;
	struct auth_claims c;
	struct access_policy *p;

	auth_host_norm(in, host);
	check_states(in);
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
