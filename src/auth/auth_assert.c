/* auth_assert.c - Ed25519 JWT identity assertions and their JWKS (see
 * auth_assert.h). Signing runs on the workers, building on the control
 * thread. */
#include "auth/auth_assert.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "auth/auth_users.h"
#include "core/enc.h"
#include "core/secure.h"

#define AUTH_ASSERT_SIG_LEN 64
#define AUTH_ASSERT_CLAIMS_MAX 2200

struct auth_assert_slot {
	uint64_t serial;		/* 0: empty */
	int64_t uid;
	uint32_t epoch;
	int64_t iat;
	char aud[AUTH_HOST_MAX + 1];
	char tok[AUTH_ASSERT_TOKEN_MAX];
};

struct auth_assert_cache {
	struct auth_assert_slot slot[AUTH_ASSERT_CACHE_SLOTS];
};

void auth_assert_kid(const uint8_t pub[AUTH_ASSERT_PUB_LEN], char kid[AUTH_ASSERT_KID_LEN + 1])
{
	char x[B64URL_LEN(AUTH_ASSERT_PUB_LEN)], jwk[128];
	uint8_t h[32];
	int n;

	enc_b64url_encode(x, pub, AUTH_ASSERT_PUB_LEN);
	/* RFC 7638 s3.2: the required members only, sorted, no spaces. */
	n = snprintf(jwk, sizeof(jwk), "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
	EVP_Digest(jwk, (size_t)n, h, NULL, EVP_sha256(), NULL);
	enc_b64url_encode(kid, h, sizeof(h));
}

int auth_assert_pub_of(const uint8_t seed[AUTH_ASSERT_SEED_LEN], uint8_t pub[AUTH_ASSERT_PUB_LEN])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
						   AUTH_ASSERT_SEED_LEN);
	size_t len = AUTH_ASSERT_PUB_LEN;
	int rc = k && EVP_PKEY_get_raw_public_key(k, pub, &len) == 1 &&
		 len == AUTH_ASSERT_PUB_LEN ? 0 : -1;

	EVP_PKEY_free(k);
	return rc;
}

/* True when `s` may go into a JSON string unescaped (printable ASCII
 * without '"' and '\\'). */
static bool auth_assert_plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

struct auth_assert *auth_assert_new(const uint8_t seed[AUTH_ASSERT_SEED_LEN],
				    const uint8_t *prev_pub, const char *iss)
{
	static _Atomic uint64_t serial;
	struct auth_assert *a;

	if (strlen(iss) > AUTH_ASSERT_ISS_MAX || !auth_assert_plain(iss) ||
	    !(a = calloc(1, sizeof(*a))))
		return NULL;
	a->serial = atomic_fetch_add(&serial, 1) + 1;
	snprintf(a->iss, sizeof(a->iss), "%s", iss);
	a->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, AUTH_ASSERT_SEED_LEN);
	if (!a->pkey || auth_assert_pub_of(seed, a->cur.pub) < 0) {
		auth_assert_free(a);
		return NULL;
	}
	auth_assert_kid(a->cur.pub, a->cur.kid);
	if (prev_pub) {
		a->has_prev = true;
		memcpy(a->prev.pub, prev_pub, AUTH_ASSERT_PUB_LEN);
		auth_assert_kid(a->prev.pub, a->prev.kid);
	}
	return a;
}

void auth_assert_free(struct auth_assert *a)
{
	if (!a)
		return;
	EVP_PKEY_free(a->pkey);
	free(a);
}

static int auth_assert_jwk(struct buf *b, const struct auth_assert_pub *k)
{
	char x[B64URL_LEN(AUTH_ASSERT_PUB_LEN)];

	enc_b64url_encode(x, k->pub, AUTH_ASSERT_PUB_LEN);
	return buf_printf(b, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"kid\":\"%s\","
			  "\"use\":\"sig\",\"alg\":\"EdDSA\"}", x, k->kid) < 0 ? -1 : 0;
}

int auth_assert_jwks(const struct auth_assert *a, struct buf *b)
{
	int r = buf_printf(b, "{\"keys\":[") < 0 ? -1 : 0;

	if (r == 0 && a)
		r = auth_assert_jwk(b, &a->cur);
	if (r == 0 && a && a->has_prev)
		r = buf_append(b, ",", 1) < 0 ? -1 : auth_assert_jwk(b, &a->prev);
	return r == 0 && buf_printf(b, "]}") >= 0 ? 0 : -1;
}

/* Appends `s` as a JSON string body (escaped) at *n; false when it does
 * not fit in len. */
static bool auth_assert_jstr(char *out, size_t len, size_t *n, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int k = c < 0x20 ? snprintf(out + *n, len - *n, "\\u%04x", c)
			: c == '"' || c == '\\' ? snprintf(out + *n, len - *n, "\\%c", c)
			: snprintf(out + *n, len - *n, "%c", c);
		if (k < 0 || (size_t)k >= len - *n)
			return false;
		*n += (size_t)k;
	}
	return true;
}

/* Appends formatted text at *n; false when it does not fit. */
static bool auth_assert_put(char *out, size_t len, size_t *n, const char *lit)
{
	size_t l = strlen(lit);

	if (*n + l >= len)
		return false;
	memcpy(out + *n, lit, l + 1);
	*n += l;
	return true;
}

/* The claims of (a, u, aud, now) as JSON into out. Returns its length or -1. */
static int auth_assert_claims(const struct auth_assert *a, const struct auth_user *u,
			      const char *aud, int64_t now, char *out, size_t len)
{
	uint8_t rnd[16];
	char jti[B64URL_LEN(sizeof(rnd))], num[64];
	size_t n = 0;
	bool ok;

	if (secure_random(rnd, sizeof(rnd)) < 0)
		return -1;
	enc_b64url_encode(jti, rnd, sizeof(rnd));
	ok = auth_assert_put(out, len, &n, "{\"iss\":\"") && auth_assert_jstr(out, len, &n, a->iss) &&
	     auth_assert_put(out, len, &n, "\",\"sub\":\"") &&
	     auth_assert_jstr(out, len, &n, u->name) &&
	     auth_assert_put(out, len, &n, "\",\"aud\":\"") && auth_assert_jstr(out, len, &n, aud) &&
	     auth_assert_put(out, len, &n, "\"");
	if (ok && u->email[0])
		ok = auth_assert_put(out, len, &n, ",\"email\":\"") &&
		     auth_assert_jstr(out, len, &n, u->email) && auth_assert_put(out, len, &n, "\"");
	ok = ok && auth_assert_put(out, len, &n, ",\"groups\":[");
	for (const char *g = u->groups; ok && *g;) {
		size_t gl = strcspn(g, ",");
		char one[AUTH_GROUP_NAME_MAX + 1];
		snprintf(one, sizeof(one), "%.*s", (int)(gl < sizeof(one) ? gl : sizeof(one) - 1), g);
		ok = auth_assert_put(out, len, &n, g == u->groups ? "\"" : ",\"") &&
		     auth_assert_jstr(out, len, &n, one) && auth_assert_put(out, len, &n, "\"");
		g += gl + (g[gl] == ',');
	}
	snprintf(num, sizeof(num), "],\"iat\":%lld,\"exp\":%lld,\"jti\":\"", (long long)now,
		 (long long)(now + AUTH_ASSERT_LIFETIME));
	ok = ok && auth_assert_put(out, len, &n, num) && auth_assert_put(out, len, &n, jti) &&
	     auth_assert_put(out, len, &n, "\"}");
	return ok ? (int)n : -1;
}

int auth_assert_sign(const struct auth_assert *a, const struct auth_user *u, const char *aud,
		     int64_t now, char *out)
{
	char hdr[128], claims[AUTH_ASSERT_CLAIMS_MAX];
	uint8_t sig[AUTH_ASSERT_SIG_LEN];
	size_t siglen = sizeof(sig), n;
	EVP_MD_CTX *ctx;
	int hl, cl, rc = -1;

	if (!a || !a->pkey)
		return -1;
	hl = snprintf(hdr, sizeof(hdr), "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
		      a->cur.kid);
	cl = auth_assert_claims(a, u, aud, now, claims, sizeof(claims));
	if (cl < 0 || B64URL_LEN((size_t)hl) + B64URL_LEN((size_t)cl) +
	    B64URL_LEN(sizeof(sig)) > AUTH_ASSERT_TOKEN_MAX)
		return -1;
	enc_b64url_encode(out, (const uint8_t *)hdr, (size_t)hl);
	n = strlen(out);
	out[n++] = '.';
	enc_b64url_encode(out + n, (const uint8_t *)claims, (size_t)cl);
	n += strlen(out + n);
	ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, a->pkey) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, (const uint8_t *)out, n) == 1 &&
	    siglen == sizeof(sig)) {
		out[n++] = '.';
		enc_b64url_encode(out + n, sig, sizeof(sig));
		rc = (int)(n + strlen(out + n));
	}
	EVP_MD_CTX_free(ctx);
	return rc;
}

struct auth_assert_cache *auth_assert_cache_new(void)
{
	return calloc(1, sizeof(struct auth_assert_cache));
}

void auth_assert_cache_free(struct auth_assert_cache *c)
{
	free(c);
}

/* A slot for (uid, aud): FNV-1a over both, so one user on many routes
 * and many users on one route spread. */
static struct auth_assert_slot *auth_assert_slot(struct auth_assert_cache *c, int64_t uid,
						 const char *aud)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)uid;

	for (const char *p = aud; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return &c->slot[h % AUTH_ASSERT_CACHE_SLOTS];
}

const char *auth_assert_get(struct auth_assert_cache *c, const struct auth_assert *a,
			    const struct auth_user *u, const char *aud, int64_t now)
{
	struct auth_assert_slot *s;

	if (!a || !c)
		return NULL;
	s = auth_assert_slot(c, u->id, aud);
	if (s->serial == a->serial && s->uid == u->id && s->epoch == u->epoch &&
	    s->iat <= now && now - s->iat < AUTH_ASSERT_REUSE && !strcmp(s->aud, aud))
		return s->tok;
	s->serial = 0;
	if (strlen(aud) > AUTH_HOST_MAX || auth_assert_sign(a, u, aud, now, s->tok) < 0)
		return NULL;
	s->serial = a->serial;
	s->uid = u->id;
	s->epoch = u->epoch;
	s->iat = now;
	snprintf(s->aud, sizeof(s->aud), "%s", aud);
	return s->tok;
}
