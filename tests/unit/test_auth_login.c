/* Route login's pure parts: the signed session cookie (mint, verify,
 * host binding, expiry, tampering), the Cookie field reader, the
 * snapshot's users table and groups, the urlencoded form reader and the
 * policy keys of the shared parser. */
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "access/policy.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/auth_cookie.h"
#include "auth/auth_totp.h"
#include "auth/auth_users.h"
#include "http/form.h"

static const uint8_t key[AUTH_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
/* One cookie cache for every check here, as a worker keeps one: the tests
 * below switch keys under it (a rotation) and replay tokens it holds. */
static struct auth_cookie_cache tmac;

static struct str S(const char *s)
{
	return str_cstr(s);
}

TEST(cookie_round_trip_and_binding)
{
	struct auth_claims c = { 42, 7, 2000000000, false, 1000, 9007199254740993 }, got;
	char tok[AUTH_TOKEN_MAX], bad[AUTH_TOKEN_MAX];
	uint8_t other[AUTH_KEY_LEN] = { 9 };
	int n = auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok);

	CHECK(n > 0 && (size_t)n == strlen(tok));
	CHECK_EQ_INT(auth_cookie_verify(&tmac, key, "app.test", S(tok), 1700000000, &got), 0);
	CHECK_EQ_INT(got.uid, 42);
	CHECK_EQ_INT(got.epoch, 7);
	CHECK_EQ_INT(got.exp, 2000000000);
	CHECK(got.sid == 9007199254740993);
	/* Another host, another key, past the expiry: nothing. */
	CHECK_EQ_INT(auth_cookie_verify(&tmac, key, "other.test", S(tok), 1700000000, &got), -1);
	CHECK_EQ_INT(auth_cookie_verify(&tmac, other, "app.test", S(tok), 1700000000, &got), -1);
	CHECK_EQ_INT(auth_cookie_verify(&tmac, key, "app.test", S(tok), 2000000000, &got), -1);
	/* Any changed byte fails: a claim, the MAC, a truncation. */
	for (int i = 0; i < n; i++) {
		memcpy(bad, tok, (size_t)n + 1);
		bad[i] = bad[i] == '1' ? '2' : '1';
		CHECK_EQ_INT(auth_cookie_verify(&tmac, key, "app.test", S(bad), 1700000000, &got), -1);
	}
	CHECK_EQ_INT(auth_cookie_verify(&tmac, key, "app.test", str_make(tok, (size_t)n - 1),
					1700000000, &got), -1);
	/* The same claims with another epoch is another token. */
	c.epoch = 8;
	CHECK(auth_cookie_mint(&tmac.mac, key, "app.test", &c, bad) > 0 && strcmp(bad, tok));
}

/* Whether some slot of cc holds exactly `tok`. */
static bool cached(const struct auth_cookie_cache *cc, const char *tok)
{
	for (size_t i = 0; i < AUTH_SEEN_SLOTS; i++)
		if (cc->seen[i].len == strlen(tok) && !memcmp(cc->seen[i].tok, tok, strlen(tok)))
			return true;
	return false;
}

/* The cache keeps only tokens that verified, gives them back with their
 * claims for their own host and key only, still expires them, and is
 * wiped whole. */
TEST(cookie_cache_holds_only_verified_tokens)
{
	static struct auth_cookie_cache cc;
	struct auth_claims c = { 5, 1, 1800000000, true, 1000, 1 }, got;
	uint8_t other[AUTH_KEY_LEN] = { 7 };
	char tok[AUTH_TOKEN_MAX], forged[AUTH_TOKEN_MAX];
	int n = auth_cookie_mint(NULL, key, "app.test", &c, tok);

	memcpy(forged, tok, (size_t)n + 1);
	forged[n - 10] = forged[n - 10] == 'A' ? 'B' : 'A';
	CHECK_EQ_INT(auth_cookie_verify(&cc, key, "app.test", S(forged), 1700000000, &got), -1);
	CHECK(!cached(&cc, forged));
	CHECK_EQ_INT(auth_cookie_verify(&cc, key, "app.test", S(tok), 1700000000, &got), 0);
	CHECK(cached(&cc, tok));
	memset(&got, 0, sizeof(got));
	CHECK_EQ_INT(auth_cookie_verify(&cc, key, "app.test", S(tok), 1700000000, &got), 0);
	CHECK(got.uid == 5 && got.epoch == 1 && got.exp == 1800000000 && got.passkey &&
	      got.seen == 1000);
	CHECK_EQ_INT(auth_cookie_verify(&cc, key, "app.test", S(forged), 1700000000, &got), -1);
	CHECK_EQ_INT(auth_cookie_verify(&cc, key, "b.test", S(tok), 1700000000, &got), -1);
	CHECK_EQ_INT(auth_cookie_verify(&cc, key, "app.test", S(tok), 1800000000, &got), -1);
	/* Another key (a rotation) empties it. */
	CHECK_EQ_INT(auth_cookie_verify(&cc, other, "app.test", S(tok), 1700000000, &got), -1);
	CHECK(!cached(&cc, tok));
	CHECK_EQ_INT(auth_cookie_verify(&cc, key, "app.test", S(tok), 1700000000, &got), 0);
	auth_cookie_cache_clear(&cc);
	CHECK(!cached(&cc, tok) && cc.mac.ctx == NULL);
}

TEST(cookie_syntax_is_strict)
{
	struct auth_claims got;
	static const char *const junk[] = {
		"", "1", "1....", "2.1.1.1." "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1.-1.1.1." "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1.0.1.1." "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1.1.1.1." "AAAA", "1.1.4294967296.1." "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1. 1.1.1." "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		/* the session id: past 63 bits, negative, missing */
		"1.1.1.1.1.9223372036854775808." "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1.1.1.1.1.-1." "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1.1.1.1.1.." "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		CHECK_EQ_INT(auth_cookie_verify(&tmac, key, "a", S(junk[i]), 0, &got), -1);
}

TEST(host_norm)
{
	char h[AUTH_HOST_MAX + 1];

	CHECK_EQ_INT(auth_host_norm(S("App.Test:8443"), h), 8);
	CHECK_EQ_STR(h, "app.test");
	CHECK_EQ_INT(auth_host_norm(S("app.test."), h), 8);
	CHECK_EQ_INT(auth_host_norm(S("[::1]:443"), h), 5);
	CHECK_EQ_INT(auth_host_norm(S("a b"), h), -1);
	CHECK_EQ_INT(auth_host_norm(S(""), h), -1);
}

TEST(cookie_field_reader)
{
	struct str v;

	CHECK(auth_cookie_find(S("a=1; __Host-postern_auth=tok ;b=2"),
			       S(AUTH_COOKIE_ROUTE), &v));
	CHECK(str_eq(v, S("tok")));
	CHECK(!auth_cookie_find(S("x__Host-postern_auth=1; __host-postern_auth=2"),
				S(AUTH_COOKIE_ROUTE), &v));
	CHECK(!auth_cookie_find(S(";;;=;"), S(AUTH_COOKIE_ROUTE), &v));
}

/* A state cookie's value: the states in order, anything else skipped
 * (a short piece, a long one, a character outside base64url, empty). */
TEST(state_list_reader)
{
	static const char a[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	static const char b[] = "b-b_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	char buf[256];
	struct str v, tok;

	CHECK_EQ_INT(strlen(a), AUTH_STATE_LEN);
	CHECK_EQ_INT(strlen(b), AUTH_STATE_LEN);
	snprintf(buf, sizeof(buf), "%s.short..%sX.%.42s+.%s.", a, a, b, b);
	v = S(buf);
	CHECK(auth_state_next(&v, &tok) && str_eq(tok, S(a)));
	CHECK(auth_state_next(&v, &tok) && str_eq(tok, S(b)));
	CHECK(!auth_state_next(&v, &tok));
	v = S("");
	CHECK(!auth_state_next(&v, &tok));
}

/* The "seen" field: under the MAC, an idle session refused, an active
 * one refreshed at most once per idle/AUTH_REFRESH_DIV with its expiry
 * kept. */
TEST(cookie_idle_and_refresh)
{
	struct auth_users *t = auth_users_new(key);
	struct auth_user a = { .id = 3, .epoch = 5, .name = "alice" };
	struct auth_claims c = { 3, 5, 2000000000, false, 1000, 1 }, got;
	char tok[AUTH_TOKEN_MAX], fresh[AUTH_TOKEN_MAX];

	CHECK_EQ_INT(auth_users_add(t, &a), 0);
	CHECK(auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok) > 0);
	CHECK_EQ_INT(auth_cookie_verify(&tmac, key, "app.test", S(tok), 1500, &got), 0);
	CHECK_EQ_INT(got.seen, 1000);
	t->idle = 400;
	CHECK(auth_users_session_claims(t, &tmac, "app.test", S(tok), 1400, false, &got) == &t->u[0]);
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1401, false) == NULL);	/* idle */
	t->idle = 0;
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1401, false) == &t->u[0]);
	t->idle = 400;
	/* Not due before idle/4 has passed since "seen"; due after. */
	CHECK_EQ_INT(auth_users_refresh(t, &tmac, "app.test", &got, 1099, fresh), 0);
	CHECK(auth_users_refresh(t, &tmac, "app.test", &got, 1100, fresh) > 0);
	CHECK(auth_users_session_claims(t, &tmac, "app.test", S(fresh), 1500, false, &got) == &t->u[0]);
	CHECK_EQ_INT(got.seen, 1100);
	CHECK_EQ_INT(got.exp, 2000000000);
	CHECK_EQ_INT(auth_users_refresh(t, &tmac, "app.test", &got, 1100, tok), 0);
	/* A moved "seen" without the key fails the MAC. */
	memcpy(tok, fresh, sizeof(tok));
	tok[strlen("1.3.5.2000000000.110")] = '9';
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1100, false) == NULL);
	CHECK(auth_idle_ok(0, 0, 1 << 30) && auth_idle_ok(10, 5, 15) && !auth_idle_ok(10, 5, 16));
	auth_users_free(t);
}

TEST(users_table_and_sessions)
{
	struct auth_users *t = auth_users_new(key);
	struct auth_user a = { .id = 3, .epoch = 5, .name = "alice", .groups = "family,media" };
	struct auth_user b = { .id = 9, .epoch = 1, .disabled = true, .name = "bob" };
	struct auth_claims c = { 3, 5, 2000000000, false, 1000, 1 };
	char tok[AUTH_TOKEN_MAX];

	CHECK_EQ_INT(auth_users_add(t, &a), 0);
	CHECK_EQ_INT(auth_users_add(t, &b), 0);
	CHECK_EQ_INT(auth_users_add(t, &a), -1);	/* out of order */
	CHECK(auth_users_find(t, 9) && !auth_users_find(t, 4));
	CHECK(auth_user_in_group(&a, "media") && !auth_user_in_group(&a, "fam"));
	auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok);
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1, false) == &t->u[0]);
	t->u[0].epoch = 6;	/* logged out */
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1, false) == NULL);
	c = (struct auth_claims){ 9, 1, 2000000000, false, 1000, 1 };
	auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok);
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1, false) == NULL);	/* disabled */
	c.uid = 10;
	auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok);
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1, false) == NULL);	/* deleted */
	/* A table without a key yet verifies nothing. */
	c = (struct auth_claims){ 3, 6, 2000000000, false, 1000, 1 };
	auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok);
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1, false) == &t->u[0]);
	/* A route or a user that requires a passkey takes only a passkey's
	 * session (token version 2, under the MAC). */
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1, true) == NULL);
	c.passkey = true;
	CHECK(auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok) > 0 && tok[0] == '2');
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1, true) == &t->u[0]);
	c.passkey = false;
	auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok);
	t->u[0].require_passkey = true;
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1, false) == NULL);
	tok[0] = '2';		/* a password token relabelled: the MAC says no */
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1, false) == NULL);
	t->u[0].require_passkey = false;
	/* One login session logged out (user, session id): its cookies die,
	 * the same user's other sessions live, even one with the same expiry
	 * (two logins in one second). */
	c = (struct auth_claims){ 3, 6, 2000000000, false, 1000, .sid = INT64_MAX };
	auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok);
	CHECK_EQ_INT(auth_users_revoke(t, 3, 77), 0);
	CHECK_EQ_INT(auth_users_revoke(t, 3, INT64_MAX), 0);
	CHECK_EQ_INT(auth_users_revoke(t, 3, INT64_MAX), -1);	/* out of order */
	CHECK_EQ_INT(auth_users_revoke(t, 9, 5), 0);
	CHECK(auth_users_revoked(t, 3, INT64_MAX) && auth_users_revoked(t, 3, 77) &&
	      !auth_users_revoked(t, 3, 78) && !auth_users_revoked(t, 3, 5));
	CHECK(!auth_users_revoked(t, 9, 77));
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1, false) == NULL);
	c.sid = 78;
	auth_cookie_mint(&tmac.mac, key, "app.test", &c, tok);
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1, false) == &t->u[0]);
	t->keyed = false;
	CHECK(auth_users_session(t, &tmac, "app.test", S(tok), 1, false) == NULL);
	auth_users_free(t);
}

TEST(group_lists)
{
	CHECK(auth_groups_check("") == NULL);
	CHECK(auth_groups_check("family,media-1,a_b") == NULL);
	CHECK(auth_groups_check("a,a") != NULL);
	CHECK(auth_groups_check("a,") != NULL);
	CHECK(auth_groups_check(",a") != NULL);
	CHECK(auth_groups_check("A") != NULL);
	CHECK(auth_groups_check("a b") != NULL);
	CHECK(auth_groups_check("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q") != NULL);
}

TEST(form_fields)
{
	char out[16];

	CHECK_EQ_INT(http_form_get(S("a=1&username=al%69ce+x&b"), "username", out, sizeof(out)), 7);
	CHECK_EQ_STR(out, "alice x");
	CHECK_EQ_INT(http_form_get(S("a=1"), "b", out, sizeof(out)), -1);
	CHECK_EQ_INT(http_form_get(S("b="), "b", out, sizeof(out)), 0);
	CHECK_EQ_INT(http_form_get(S("b=%4"), "b", out, sizeof(out)), -2);
	CHECK_EQ_INT(http_form_get(S("b=%zz"), "b", out, sizeof(out)), -2);
	CHECK_EQ_INT(http_form_get(S("b=%00"), "b", out, sizeof(out)), -2);
	CHECK_EQ_INT(http_form_get(S("b=%0a"), "b", out, sizeof(out)), -2);
	CHECK_EQ_INT(http_form_get(S("b=1&b=2"), "b", out, sizeof(out)), -2);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(http_form_get(S("b=0123456789abcdef"), "b", out, sizeof(out)), -2);
	CHECK_EQ_INT(http_form_get(S("%62=x"), "b", out, sizeof(out)), 1);
}

TEST(policy_login_keys)
{
	struct access_policy p;
	char err[256];
	struct auth_user u = { .id = 1, .name = "bob", .groups = "kids" };

	CHECK_EQ_INT(access_policy_parse("{\"auth\":\"login\",\"groups\":[\"family\"],"
					 "\"users\":[\"bob\"]}", &p, err, sizeof(err)), 0);
	CHECK(p.login && p.ngroups == 1 && p.nusers == 1);
	CHECK(access_policy_user_ok(&p, &u));
	snprintf(u.name, sizeof(u.name), "carol");
	CHECK(!access_policy_user_ok(&p, &u));
	snprintf(u.groups, sizeof(u.groups), "x,family");
	CHECK(access_policy_user_ok(&p, &u));
	CHECK_EQ_INT(access_policy_parse("{\"auth\":\"public\"}", &p, err, sizeof(err)), 0);
	CHECK(!p.login);
	CHECK_EQ_INT(access_policy_parse("{\"auth\":\"login\"}", &p, err, sizeof(err)), 0);
	CHECK(p.login && access_policy_user_ok(&p, &u));
	CHECK(access_policy_parse("{\"groups\":[\"a\"]}", &p, err, sizeof(err)) < 0);
	CHECK(access_policy_parse("{\"auth\":true}", &p, err, sizeof(err)) < 0);
	CHECK(access_policy_parse("{\"auth\":\"login\",\"users\":[\"-x\"]}", &p, err,
				  sizeof(err)) < 0);
	CHECK(strstr(err, "users[0]") != NULL);
	CHECK(access_policy_parse("{\"access\":{\"allow\":[\"300.1.1.1\"]}}", &p, err,
				  sizeof(err)) < 0);
	CHECK(strstr(err, "access.allow[0]") != NULL);
}

/* RFC 6238 appendix B (SHA-1 key "12345678901234567890"), last 6 of the
 * 8 digits; replays and steps outside the window refused. */
TEST(totp_vectors_window_and_replay)
{
	static const uint8_t k[] = "12345678901234567890";
	char b32[AUTH_TOTP_B32];
	int64_t step = 0;

	CHECK_EQ_INT(auth_totp_hotp(k, 20, 59 / 30), 287082);
	CHECK_EQ_INT(auth_totp_hotp(k, 20, 1111111109 / 30), 81804);
	CHECK_EQ_INT(auth_totp_hotp(k, 20, 1234567890 / 30), 5924);
	CHECK_EQ_INT(auth_totp_hotp(k, 20, 2000000000 / 30), 279037);
	CHECK_EQ_INT(auth_totp_check(k, 20, "005924", 1234567890, 0, &step), 0);
	CHECK_EQ_INT(step, 1234567890 / 30);
	/* The same step again: refused (each step once). */
	CHECK_EQ_INT(auth_totp_check(k, 20, "005924", 1234567890, step, &step), -1);
	/* One step early or late is fine, two is not. */
	CHECK_EQ_INT(auth_totp_check(k, 20, "005924", 1234567890 + 30, 0, &step), 0);
	CHECK_EQ_INT(auth_totp_check(k, 20, "005924", 1234567890 - 30, 0, &step), 0);
	CHECK_EQ_INT(auth_totp_check(k, 20, "005924", 1234567890 + 60, 0, &step), -1);
	CHECK_EQ_INT(auth_totp_check(k, 20, "5924", 1234567890, 0, &step), -1);
	CHECK_EQ_INT(auth_totp_check(k, 20, "00592a", 1234567890, 0, &step), -1);
	CHECK_EQ_INT(auth_totp_check(k, 20, "0059245", 1234567890, 0, &step), -1);
	auth_totp_b32(b32, k);
	CHECK_EQ_STR(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

/* A kept context gives OpenSSL's one-shot HMAC-SHA256, under each key in
 * turn (the context is keyed anew when the key changes), and so does a
 * call without one. */
TEST(mac_context_matches_one_shot_hmac)
{
	static const uint8_t k2[AUTH_MAC_KEY_LEN] = { 9, 8, 7 };
	const uint8_t *keys[] = { key, k2, key, key, k2 };
	struct auth_mac m = AUTH_MAC_INIT;
	uint8_t got[32], want[32];
	unsigned wl = sizeof(want);
	char msg[64];

	for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int n = snprintf(msg, sizeof(msg), "message %u", i);
		HMAC(EVP_sha256(), keys[i], AUTH_MAC_KEY_LEN, (const uint8_t *)msg, (size_t)n,
		     want, &wl);
		CHECK_EQ_INT(auth_mac_sha256(&m, keys[i], msg, (size_t)n, got), 0);
		CHECK(memcmp(got, want, sizeof(got)) == 0);
		CHECK_EQ_INT(auth_mac_sha256(NULL, keys[i], msg, (size_t)n, got), 0);
		CHECK(memcmp(got, want, sizeof(got)) == 0);
	}
	auth_mac_clear(&m);
	CHECK(m.ctx == NULL);
	for (size_t i = 0; i < sizeof(m.key); i++)
		CHECK(m.key[i] == 0);
}

int main(void)
{
	RUN(mac_context_matches_one_shot_hmac);
	RUN(totp_vectors_window_and_replay);
	RUN(cookie_round_trip_and_binding);
	RUN(cookie_cache_holds_only_verified_tokens);
	RUN(cookie_syntax_is_strict);
	RUN(host_norm);
	RUN(cookie_field_reader);
	RUN(state_list_reader);
	RUN(cookie_idle_and_refresh);
	RUN(users_table_and_sessions);
	RUN(group_lists);
	RUN(form_fields);
	RUN(policy_login_keys);
	auth_cookie_cache_clear(&tmac);
	return unit_done();
}
