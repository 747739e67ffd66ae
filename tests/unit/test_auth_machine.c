/* test_auth_machine.c - machine credentials and bypass rules of login
 * routes: the Authorization reader (auth_basic.c), the snapshot's token
 * and share-link table (auth_creds.c), the bypass rules (access/bypass.c)
 * and the one prefix rule they share with route lookup. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "unit.h"

#include "access/policy.h"
#include "auth/auth_basic.h"
#include "auth/auth_creds.h"
#include "core/enc.h"
#include "http/target.h"

#define TOK "prt_0123456789abcdefghijABCDEFGHIJ-_xyzXYZ012"

static int tok_of(const char *v, char *buf, struct str *t)
{
	return auth_basic_token(str_cstr(v), buf, t);
}

/* "Basic base64(cred)" into hdr. */
static void basic(char *hdr, size_t len, const char *cred, size_t clen)
{
	char b64[B64_LEN(128)];

	enc_b64std_encode(b64, (const uint8_t *)cred, clen);
	snprintf(hdr, len, "Basic %s", b64);
}

TEST(bearer_and_basic_yield_our_token_only)
{
	char buf[AUTH_BASIC_MAX], hdr[256];
	struct str t;

	CHECK_EQ_INT(tok_of("Bearer " TOK, buf, &t), 1);
	CHECK(str_eq(t, STR_LIT(TOK)));
	CHECK_EQ_INT(tok_of("  bearer \t " TOK "  ", buf, &t), 1);
	CHECK(str_eq(t, STR_LIT(TOK)));
	/* Basic: the password is the token, any user name (even none). */
	basic(hdr, sizeof(hdr), "phone:" TOK, strlen("phone:" TOK));
	CHECK_EQ_INT(tok_of(hdr, buf, &t), 1);
	CHECK(str_eq(t, STR_LIT(TOK)));
	basic(hdr, sizeof(hdr), ":" TOK, strlen(":" TOK));
	CHECK_EQ_INT(tok_of(hdr, buf, &t), 1);
	CHECK(str_eq(t, STR_LIT(TOK)));
	/* Somebody else's credentials are none of ours. */
	CHECK_EQ_INT(tok_of("Bearer eyJhbGciOi.x.y", buf, &t), 0);
	basic(hdr, sizeof(hdr), "me:secret", 9);
	CHECK_EQ_INT(tok_of(hdr, buf, &t), 0);
	CHECK_EQ_INT(tok_of("Basic !!notbase64", buf, &t), 0);
	CHECK_EQ_INT(tok_of("Basic bm9jb2xvbg==", buf, &t), 0);	/* "nocolon" */
	CHECK_EQ_INT(tok_of("MediaBrowser Token=\"prt_x\"", buf, &t), 0);
	CHECK_EQ_INT(tok_of("Bearer", buf, &t), 0);
	CHECK_EQ_INT(tok_of("", buf, &t), 0);
	/* Ours but malformed: refused, not passed on. */
	CHECK_EQ_INT(tok_of("Bearer prt_a b", buf, &t), -1);
	CHECK_EQ_INT(tok_of("Bearer prt_a\"", buf, &t), -1);
	basic(hdr, sizeof(hdr), "u:prt_a\x01", 8);
	CHECK_EQ_INT(tok_of(hdr, buf, &t), -1);
	CHECK_EQ_INT((int)t.len, 0);
}

static void hash_hex(const char *tok, char out[65])
{
	uint8_t md[32];

	EVP_Digest(tok, strlen(tok), md, NULL, EVP_sha256(), NULL);
	enc_hex_encode(out, md, sizeof(md));
}

static int64_t seen_id, seen_used;
static void seen(void *arg, int64_t id, int64_t used)
{
	(*(int *)arg)++;
	seen_id = id;
	seen_used = used;
}

TEST(tokens_found_by_hash_and_uses_batched)
{
	struct auth_creds *t = auth_creds_new(), *t2 = auth_creds_new();
	struct auth_route_token *k;
	char h1[65], h2[65];
	int calls = 0;

	hash_hex(TOK, h1);
	hash_hex("prt_other", h2);
	CHECK_EQ_INT(auth_creds_add_token(t, 5, 40, h1), 0);
	CHECK_EQ_INT(auth_creds_add_token(t, 6, 41, h2), 0);
	CHECK_EQ_INT(auth_creds_add_token(t, 7, 41, "not hex"), -1);
	auth_creds_finish(t, NULL);
	k = auth_creds_token(t, STR_LIT(TOK));
	CHECK(k && k->id == 5 && k->route_id == 40);
	CHECK(auth_creds_token(t, STR_LIT(TOK "x")) == NULL);
	CHECK(auth_creds_token(NULL, STR_LIT(TOK)) == NULL);
	if (!k)
		return;
	/* Nothing used: nothing to write. A use is written once. */
	CHECK_EQ_INT((int)auth_creds_dirty(t, seen, &calls), 0);
	auth_creds_touch(k, 1000);
	auth_creds_touch(k, 1000);
	CHECK_EQ_INT((int)auth_creds_dirty(t, seen, &calls), 1);
	CHECK(seen_id == 5 && seen_used == 1000);
	CHECK_EQ_INT((int)auth_creds_dirty(t, seen, &calls), 0);
	/* The next table carries the clocks over: a use on the old one
	 * after its flush is written once, from the new one. */
	auth_creds_touch(k, 1001);
	CHECK_EQ_INT(auth_creds_add_token(t2, 5, 40, h1), 0);
	auth_creds_finish(t2, t);
	CHECK_EQ_INT((int)auth_creds_dirty(t2, seen, &calls), 1);
	CHECK(seen_used == 1001);
	CHECK_EQ_INT((int)auth_creds_dirty(t2, seen, &calls), 0);
	CHECK_EQ_INT(calls, 2);
	auth_creds_free(t);
	auth_creds_free(t2);
}

TEST(share_sessions_bound_to_route_nonce_and_expiry)
{
	static const uint8_t key[AUTH_KEY_LEN] = { 9 };
	static struct auth_cookie_cache tmac;
	struct auth_creds *t = auth_creds_new();
	struct auth_share s = { .id = 3, .route_id = 40, .nonce = 77, .expires = 5000 };
	struct auth_claims c = { AUTH_SHARE_UID_BASE + 3, 77, 4000, false, 1000, 0 };
	char tok[AUTH_TOKEN_MAX];

	CHECK_EQ_INT(auth_creds_add_share(t, &s), 0);
	s.id = 2;
	CHECK_EQ_INT(auth_creds_add_share(t, &s), -1);	/* ids in order */
	CHECK(auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok) > 0);
	CHECK(auth_creds_share_ok(t, &tmac, key, "app.test", str_cstr(tok), 100, 40));
	CHECK(!auth_creds_share_ok(t, &tmac, key, "app.test", str_cstr(tok), 100, 41));
	CHECK(!auth_creds_share_ok(t, &tmac, key, "other.test", str_cstr(tok), 100, 40));
	CHECK(!auth_creds_share_ok(t, &tmac, key, "app.test", str_cstr(tok), 4001, 40));
	/* Another nonce (a reused row id) or a user's id is no share. */
	c.epoch = 78;
	CHECK(auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok) > 0);
	CHECK(!auth_creds_share_ok(t, &tmac, key, "app.test", str_cstr(tok), 100, 40));
	c = (struct auth_claims){ 3, 77, 4000, false, 1000, 1 };
	CHECK(auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok) > 0);
	CHECK(!auth_creds_share_ok(t, &tmac, key, "app.test", str_cstr(tok), 100, 40));
	auth_creds_free(t);
	auth_cookie_cache_clear(&tmac);
}

TEST(prefix_rule_is_the_route_rule)
{
	/* m: the rule; d: as a backend that decodes %2F and %5C reads it. */
	static const struct { const char *path; bool m, d; } cases[] = {
		{ "/health", true, true }, { "/HEALTH", true, true },
		{ "/health/x", true, true }, { "/health;v=1", true, true },
		{ "/health?x", true, true }, { "/healthz", false, false },
		{ "/healt", false, false }, { "/admin", false, false },
		{ "/health%2Fx", false, true }, { "/health%5C", false, true },
		{ "/health%2E", false, false }, { "/health%2", false, false },
		{ "/x?/health%2F", false, false }, { "/he%2Falth", false, false },
		{ "/%2Fhealth", false, true }, { "/%5C/%2Fhealth%2F%2F", false, true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct str p = str_cstr(cases[i].path);

		CHECK(http_path_prefix_match(p, "/health", 7) == cases[i].m);
		CHECK(http_path_prefix_match_decoded(p, "/health", 7) == cases[i].d);
		/* The two differ only where the path has an escape to decode. */
		if (cases[i].m != cases[i].d)
			CHECK(http_path_has_encoded_slash(p));
	}
	CHECK(http_path_prefix_match(STR_LIT("/anything"), "/", 1));
	CHECK(http_path_prefix_match_decoded(STR_LIT("/%2Fx"), "/", 1));
	/* Every '/' of a longer prefix may be encoded. */
	CHECK(http_path_prefix_match_decoded(STR_LIT("/a%2Fb%5Cc/d"), "/a/b/c", 6));
	CHECK(!http_path_prefix_match(STR_LIT("/a%2Fb%5Cc/d"), "/a/b/c", 6));
	CHECK(!http_path_has_encoded_slash(STR_LIT("/a?b=%2F")));
}

static int parse(const char *json, struct access_policy *p, char *err)
{
	return access_policy_parse(json, p, err, 256);
}

TEST(bypass_rules_parse_and_match)
{
	static struct access_policy p;
	struct addr lan, wan;
	char err[256];

	CHECK_EQ_INT(parse("{\"auth\":\"login\",\"bypass\":{\"paths\":[\"/health/\","
			   "\"/.well-known\"],\"methods\":[\"OPTIONS\"],\"cidrs\":"
			   "[\"192.168.1.0/24\"]}}", &p, err), 0);
	CHECK_EQ_INT((int)p.bypass.npaths, 2);
	CHECK_EQ_INT(addr_parse("192.168.1.9:1", &lan), 0);
	CHECK_EQ_INT(addr_parse("203.0.113.9:1", &wan), 0);
	CHECK(access_bypass_match(&p.bypass, STR_LIT("GET"), STR_LIT("/health"), &wan));
	CHECK(access_bypass_match(&p.bypass, STR_LIT("GET"), STR_LIT("/Health;x"), &wan));
	CHECK(access_bypass_match(&p.bypass, STR_LIT("GET"), STR_LIT("/.well-known/x"), &wan));
	CHECK(!access_bypass_match(&p.bypass, STR_LIT("GET"), STR_LIT("/healthz"), &wan));
	CHECK(access_bypass_match(&p.bypass, STR_LIT("OPTIONS"), STR_LIT("/api"), &wan));
	CHECK(!access_bypass_match(&p.bypass, STR_LIT("options"), STR_LIT("/api"), &wan));
	CHECK(access_bypass_match(&p.bypass, STR_LIT("POST"), STR_LIT("/api"), &lan));
	CHECK(!access_bypass_match(&p.bypass, STR_LIT("POST"), STR_LIT("/api"), &wan));
	CHECK(!access_bypass_match(&p.bypass, STR_LIT("POST"), STR_LIT("/api"), NULL));
	/* Refused: without login, not normal form, bad method, unknown key. */
	CHECK_EQ_INT(parse("{\"bypass\":{\"paths\":[\"/x\"]}}", &p, err), -EINVAL);
	CHECK_EQ_INT(parse("{\"auth\":\"login\",\"bypass\":{\"paths\":[\"/a//b\"]}}", &p, err),
		     -EINVAL);
	CHECK(strstr(err, "normal form") != NULL);
	CHECK_EQ_INT(parse("{\"auth\":\"login\",\"bypass\":{\"paths\":[\"/%41\"]}}", &p, err),
		     -EINVAL);
	CHECK_EQ_INT(parse("{\"auth\":\"login\",\"bypass\":{\"paths\":[\"/a/..\"]}}", &p, err),
		     -EINVAL);
	CHECK_EQ_INT(parse("{\"auth\":\"login\",\"bypass\":{\"methods\":[\"G ET\"]}}", &p, err),
		     -EINVAL);
	CHECK_EQ_INT(parse("{\"auth\":\"login\",\"bypass\":{\"ips\":[]}}", &p, err), -EINVAL);
	CHECK(strstr(err, "unknown key") != NULL);
	CHECK_EQ_INT(parse("{\"auth\":\"login\",\"bypass\":[]}", &p, err), -EINVAL);
}

int main(void)
{
	RUN(bearer_and_basic_yield_our_token_only);
	RUN(tokens_found_by_hash_and_uses_batched);
	RUN(share_sessions_bound_to_route_nonce_and_expiry);
	RUN(prefix_rule_is_the_route_rule);
	RUN(bypass_rules_parse_and_match);
	return unit_done();
}
