/* test_auth_assert.c - the identity assertion's encoder (auth_assert.c):
 * the RFC 7638 thumbprint against RFC 8037's vector, a token taken apart
 * and its signature checked with OpenSSL directly, the JWKS, and the
 * worker cache's reuse rules. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "unit.h"

#include "auth/auth_assert.c"

/* RFC 8037 appendix A.1 (the private key) and A.3 (its thumbprint). */
static const char rfc_d[] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
static const char rfc_x[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
static const char rfc_kid[] = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

static void rfc_seed(uint8_t seed[32])
{
	CHECK_EQ_INT((int)enc_b64url_decode(seed, 32, rfc_d, strlen(rfc_d)), 32);
}

static struct auth_user alice(void)
{
	struct auth_user u = { .id = 7, .epoch = 3 };

	strcpy(u.name, "alice");
	strcpy(u.email, "a\"l\\ice@example.org");
	strcpy(u.groups, "family,media");
	return u;
}

static json_t *part(const char *tok, int i)
{
	uint8_t raw[4096];
	const char *p = tok, *e;
	long n;

	while (i-- > 0)
		p = strchr(p, '.') + 1;
	e = strchr(p, '.');
	n = enc_b64url_decode(raw, sizeof(raw), p, e ? (size_t)(e - p) : strlen(p));
	CHECK(n > 0);
	return json_loadb((const char *)raw, n > 0 ? (size_t)n : 0, JSON_REJECT_DUPLICATES, NULL);
}

TEST(thumbprint_matches_rfc8037)
{
	uint8_t seed[32], pub[32];
	char x[64], kid[AUTH_ASSERT_KID_LEN + 1];

	rfc_seed(seed);
	CHECK_EQ_INT(auth_assert_pub_of(seed, pub), 0);
	enc_b64url_encode(x, pub, 32);
	CHECK_EQ_STR(x, rfc_x);
	auth_assert_kid(pub, kid);
	CHECK_EQ_STR(kid, rfc_kid);
}

TEST(token_verifies_and_carries_the_claims)
{
	uint8_t seed[32], sig[64];
	char tok[AUTH_ASSERT_TOKEN_MAX];
	struct auth_user u = alice();
	struct auth_assert *a;
	json_t *h, *c;
	int n;

	rfc_seed(seed);
	a = auth_assert_new(seed, NULL, "https://hub.example:8443");
	CHECK(a != NULL);
	n = auth_assert_sign(a, &u, "app.example", 1700000000, tok);
	CHECK(n > 0 && (size_t)n == strlen(tok));
	h = part(tok, 0);
	c = part(tok, 1);
	CHECK_EQ_STR(json_string_value(json_object_get(h, "alg")), "EdDSA");
	CHECK_EQ_STR(json_string_value(json_object_get(h, "kid")), rfc_kid);
	CHECK_EQ_STR(json_string_value(json_object_get(c, "iss")), "https://hub.example:8443");
	CHECK_EQ_STR(json_string_value(json_object_get(c, "sub")), "alice");
	CHECK_EQ_STR(json_string_value(json_object_get(c, "aud")), "app.example");
	CHECK_EQ_STR(json_string_value(json_object_get(c, "email")), "a\"l\\ice@example.org");
	CHECK_EQ_INT((int)json_array_size(json_object_get(c, "groups")), 2);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(c, "groups"), 1)), "media");
	CHECK_EQ_U64((uint64_t)json_integer_value(json_object_get(c, "iat")), 1700000000);
	CHECK_EQ_U64((uint64_t)json_integer_value(json_object_get(c, "exp")), 1700000300);
	CHECK_EQ_INT((int)strlen(json_string_value(json_object_get(c, "jti"))), 22);
	json_decref(h);
	json_decref(c);

	/* The signature over "header.claims", checked by OpenSSL with the
	 * public key alone. */
	{
		const char *dot = strrchr(tok, '.');
		uint8_t pub[32];
		EVP_PKEY *pk;
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		CHECK_EQ_INT((int)enc_b64url_decode(sig, sizeof(sig), dot + 1, strlen(dot + 1)), 64);
		CHECK_EQ_INT(auth_assert_pub_of(seed, pub), 0);
		pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
		CHECK_EQ_INT(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk), 1);
		CHECK_EQ_INT(EVP_DigestVerify(ctx, sig, 64, (const uint8_t *)tok,
					      (size_t)(dot - tok)), 1);
		tok[1] ^= 1;	/* any change breaks it */
		CHECK_EQ_INT(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk), 1);
		CHECK(EVP_DigestVerify(ctx, sig, 64, (const uint8_t *)tok, (size_t)(dot - tok)) != 1);
		EVP_PKEY_free(pk);
		EVP_MD_CTX_free(ctx);
	}
	/* An issuer that would break the JSON is refused. */
	CHECK(auth_assert_new(seed, NULL, "https://a\"b") == NULL);
	auth_assert_free(a);
}

TEST(jwks_lists_current_then_previous)
{
	uint8_t seed[32], other[32] = { 1 }, prev[32];
	struct auth_assert *a;
	struct buf b;
	json_t *j, *k;

	rfc_seed(seed);
	CHECK_EQ_INT(auth_assert_pub_of(other, prev), 0);
	a = auth_assert_new(seed, prev, "https://hub");
	buf_init(&b, 1 << 16);
	CHECK_EQ_INT(auth_assert_jwks(a, &b), 0);
	j = json_loadb((const char *)buf_head(&b), b.len, 0, NULL);
	CHECK(j != NULL);
	k = json_object_get(j, "keys");
	CHECK_EQ_INT((int)json_array_size(k), 2);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(k, 0), "x")), rfc_x);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(k, 0), "kid")), rfc_kid);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(k, 1), "kid")), a->prev.kid);
	CHECK(json_object_get(json_array_get(k, 0), "d") == NULL);
	json_decref(j);
	/* No key: an empty set. */
	buf_reset(&b);
	CHECK_EQ_INT(auth_assert_jwks(NULL, &b), 0);
	CHECK_EQ_MEM(buf_head(&b), "{\"keys\":[]}", 11);
	buf_free(&b);
	auth_assert_free(a);
}

TEST(cache_reuses_within_its_window_only)
{
	uint8_t seed[32];
	struct auth_user u = alice();
	struct auth_assert *a, *a2;
	struct auth_assert_cache *c = auth_assert_cache_new();
	char first[AUTH_ASSERT_TOKEN_MAX];
	const char *t;

	rfc_seed(seed);
	a = auth_assert_new(seed, NULL, "https://hub");
	a2 = auth_assert_new(seed, NULL, "https://hub");
	t = auth_assert_get(c, a, &u, "app.example", 1000);
	CHECK(t != NULL);
	strcpy(first, t);
	CHECK_EQ_STR(auth_assert_get(c, a, &u, "app.example", 1000 + AUTH_ASSERT_REUSE - 1), first);
	/* Past the window, for another audience, epoch or key set: new. */
	CHECK(strcmp(auth_assert_get(c, a, &u, "app.example", 1000 + AUTH_ASSERT_REUSE), first));
	strcpy(first, auth_assert_get(c, a, &u, "app.example", 2000));
	CHECK(strcmp(auth_assert_get(c, a, &u, "other.example", 2000), first));
	strcpy(first, auth_assert_get(c, a, &u, "app.example", 2000));
	u.epoch++;
	CHECK(strcmp(auth_assert_get(c, a, &u, "app.example", 2000), first));
	strcpy(first, auth_assert_get(c, a, &u, "app.example", 2000));
	CHECK(strcmp(auth_assert_get(c, a2, &u, "app.example", 2000), first));
	/* A clock that went back does not reuse a token from the future. */
	strcpy(first, auth_assert_get(c, a, &u, "app.example", 3000));
	CHECK(strcmp(auth_assert_get(c, a, &u, "app.example", 2990), first));
	CHECK(auth_assert_get(c, NULL, &u, "app.example", 3000) == NULL);
	auth_assert_cache_free(c);
	auth_assert_free(a);
	auth_assert_free(a2);
}

int main(void)
{
	RUN(thumbprint_matches_rfc8037);
	RUN(token_verifies_and_carries_the_claims);
	RUN(jwks_lists_current_then_previous);
	RUN(cache_reuses_within_its_window_only);
	return unit_done();
}
