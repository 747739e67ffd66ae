/* acme_key.c - account/certificate keys with OpenSSL, JWS with cjose. */
#define LOG_SUBSYS "acme"
#include "acme/acme_key.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "core/compiler.h"
#include "core/log.h"
#include "core/secure.h"

#define KEY_MAX_BYTES 512	/* RSA 4096 components fit */

static const char *const key_type_names[ACME_KEY_TYPE_MAX] = {
	[ACME_KEY_EC256] = "ec256",
	[ACME_KEY_RSA2048] = "rsa2048",
	[ACME_KEY_RSA3072] = "rsa3072",
};

int acme_key_type_parse(const char *s, enum acme_key_type *out)
{
	for (int i = 0; i < ACME_KEY_TYPE_MAX; i++)
		if (!strcmp(s, key_type_names[i])) {
			*out = (enum acme_key_type)i;
			return 0;
		}
	return -EINVAL;
}

const char *acme_key_type_name(enum acme_key_type t)
{
	return t < ACME_KEY_TYPE_MAX ? key_type_names[t] : "?";
}

EVP_PKEY *acme_pkey_generate(enum acme_key_type t)
{
	switch (t) {
	case ACME_KEY_EC256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case ACME_KEY_RSA2048:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	case ACME_KEY_RSA3072:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	default:
		return NULL;
	}
}

/* A key component as fixed-width big-endian bytes (0 = natural width). */
struct key_part {
	uint8_t b[KEY_MAX_BYTES];
	size_t n;
};

static int key_param(EVP_PKEY *pk, const char *name, size_t width,
		     struct key_part *out)
{
	BIGNUM *bn = NULL;
	int n;

	if (!EVP_PKEY_get_bn_param(pk, name, &bn))
		return -EINVAL;
	n = width ? (BN_num_bytes(bn) <= (int)width ? (int)width : -1)
		  : BN_num_bytes(bn);
	if (n < 0 || n > KEY_MAX_BYTES ||
	    BN_bn2binpad(bn, out->b, n) != n) {
		BN_clear_free(bn);
		return -EINVAL;
	}
	out->n = (size_t)n;
	BN_clear_free(bn);
	return 0;
}

/* Reads the `n` big-number parameters `names` of k->pkey, each `width`
 * bytes (0: its own length), into a new array in *out (the caller
 * secure_frees it: private key material). Returns 0, -ENOMEM, or -EINVAL
 * when a parameter is missing or too long (nothing to free then). */
static int key_parts(const struct acme_key *k, const char *const *names, size_t n,
		     size_t width, struct key_part **out)
{
	struct key_part *p = calloc(n, sizeof(*p));

	*out = NULL;
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (key_param(k->pkey, names[i], width, &p[i])) {
			secure_free(p, n * sizeof(*p));
			return -EINVAL;
		}
	*out = p;
	return 0;
}

static char *key_b64(const struct key_part *p)
{
	char *s = malloc(B64URL_LEN(p->n));

	if (s)
		enc_b64url_encode(s, p->b, p->n);
	return s;
}

/* Sets the public JWK text from `pub` (taken; NULL when a member was
 * missing) in RFC 7638 form: members sorted, no white space, so that its
 * SHA-256 is the thumbprint. With k->jwk set, sets k->alg = `alg`.
 * Returns 0 or -EINVAL. */
static int key_public_jwk(struct acme_key *k, const char *alg, json_t *pub)
{
	k->jwk_json = pub ? json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(pub);
	if (!k->jwk || !k->jwk_json)
		return -EINVAL;
	k->alg = alg;
	return 0;
}

/* EC P-256: the private scalar and the public point. */
static const char *const ec_params[] = {
	OSSL_PKEY_PARAM_PRIV_KEY, OSSL_PKEY_PARAM_EC_PUB_X, OSSL_PKEY_PARAM_EC_PUB_Y,
};

static cjose_jwk_t *key_ec_jwk(struct key_part *p, json_t **pub)
{
	cjose_jwk_ec_keyspec spec = {
		.crv = CJOSE_JWK_EC_P_256, .d = p[0].b, .dlen = p[0].n,
		.x = p[1].b, .xlen = p[1].n, .y = p[2].b, .ylen = p[2].n,
	};
	char *x = key_b64(&p[1]), *y = key_b64(&p[2]);
	cjose_err cerr;

	*pub = json_pack("{s:s, s:s, s:s, s:s}", "crv", "P-256", "kty", "EC", "x", x, "y", y);
	free(x);
	free(y);
	return cjose_jwk_create_EC_spec(&spec, &cerr);
}

/* RSA: public exponent and modulus first, then the private parts. */
static const char *const rsa_params[] = {
	OSSL_PKEY_PARAM_RSA_E,	      OSSL_PKEY_PARAM_RSA_N,
	OSSL_PKEY_PARAM_RSA_D,	      OSSL_PKEY_PARAM_RSA_FACTOR1,
	OSSL_PKEY_PARAM_RSA_FACTOR2,  OSSL_PKEY_PARAM_RSA_EXPONENT1,
	OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
};

static cjose_jwk_t *key_rsa_jwk(struct key_part *p, json_t **pub)
{
	cjose_jwk_rsa_keyspec spec = {
		.e = p[0].b, .elen = p[0].n, .n = p[1].b, .nlen = p[1].n,
		.d = p[2].b, .dlen = p[2].n, .p = p[3].b, .plen = p[3].n,
		.q = p[4].b, .qlen = p[4].n, .dp = p[5].b, .dplen = p[5].n,
		.dq = p[6].b, .dqlen = p[6].n, .qi = p[7].b, .qilen = p[7].n,
	};
	char *e = key_b64(&p[0]), *n = key_b64(&p[1]);
	cjose_err cerr;

	*pub = json_pack("{s:s, s:s, s:s}", "e", e, "kty", "RSA", "n", n);
	free(e);
	free(n);
	return cjose_jwk_create_RSA_spec(&spec, &cerr);
}

/* A key type: its JWS algorithm, the parameters read from the key (each
 * `width` bytes, 0: its own length), and what builds the cjose JWK and
 * the public JWK's members from them (*pub NULL when one is missing). */
struct key_kind {
	const char *alg;
	const char *const *params;
	size_t n_params, width;
	cjose_jwk_t *(*jwk)(struct key_part *p, json_t **pub);
};

static const struct key_kind key_kind_ec = {
	"ES256", ec_params, ARRAY_SIZE(ec_params), 32, key_ec_jwk,
};
static const struct key_kind key_kind_rsa = {
	"RS256", rsa_params, ARRAY_SIZE(rsa_params), 0, key_rsa_jwk,
};

/* Sets k->jwk and the RFC 7638 public JWK from k->pkey. Returns 0,
 * -ENOMEM or -EINVAL. */
static int key_jwk(struct acme_key *k, const struct key_kind *kind)
{
	struct key_part *p;
	json_t *pub = NULL;
	int rc = key_parts(k, kind->params, kind->n_params, kind->width, &p);

	if (rc)
		return rc;
	k->jwk = kind->jwk(p, &pub);
	secure_free(p, kind->n_params * sizeof(*p));
	return key_public_jwk(k, kind->alg, pub);
}

static bool key_supported(EVP_PKEY *pk)
{
	char grp[32];

	if (EVP_PKEY_is_a(pk, "RSA"))
		return EVP_PKEY_get_bits(pk) >= 2048 &&
		       EVP_PKEY_get_bits(pk) <= 4096;
	return EVP_PKEY_is_a(pk, "EC") &&
	       EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME,
					      grp, sizeof(grp), NULL) &&
	       !strcmp(grp, "prime256v1");
}

int acme_key_from_pkey(EVP_PKEY *pkey, struct acme_key *k)
{
	uint8_t h[32];
	int rc;

	memset(k, 0, sizeof(*k));
	if (!pkey || !key_supported(pkey))
		return -EINVAL;
	k->pkey = pkey;
	rc = key_jwk(k, EVP_PKEY_is_a(pkey, "RSA") ? &key_kind_rsa : &key_kind_ec);
	if (rc) {
		k->pkey = NULL;	/* the caller keeps it on failure */
		acme_key_free(k);
		return rc;
	}
	SHA256((const uint8_t *)k->jwk_json, strlen(k->jwk_json), h);
	enc_b64url_encode(k->thumb, h, sizeof(h));
	return 0;
}

int acme_key_generate(enum acme_key_type t, struct acme_key *k)
{
	EVP_PKEY *pk = acme_pkey_generate(t);
	int rc;

	if (!pk)
		return -EINVAL;
	rc = acme_key_from_pkey(pk, k);
	if (rc)
		EVP_PKEY_free(pk);
	return rc;
}

int acme_key_from_pem(const char *pem, size_t len, struct acme_key *k)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pk = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	int rc;

	BIO_free(b);
	rc = acme_key_from_pkey(pk, k);
	if (rc)
		EVP_PKEY_free(pk);
	return rc;
}

void acme_key_free(struct acme_key *k)
{
	if (k->jwk)
		cjose_jwk_release(k->jwk);
	EVP_PKEY_free(k->pkey);
	free(k->jwk_json);
	memset(k, 0, sizeof(*k));
}

char *acme_pkey_to_pem(EVP_PKEY *pkey)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *out = NULL, *p;
	long n;

	if (!b || !PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL))
		goto out;
	n = BIO_get_mem_data(b, &p);
	out = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (out) {
		memcpy(out, p, (size_t)n);
		out[n] = 0;
	}
out:
	BIO_free(b);
	return out;
}

/* Turns compact "h.p.s" into {"protected":h,"payload":p,"signature":s}. */
static char *jws_flatten(const char *compact)
{
	const char *d1 = strchr(compact, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	char *out;

	if (!d2)
		return NULL;
	if (asprintf(&out,
		     "{\"protected\":\"%.*s\",\"payload\":\"%.*s\",\"signature\":\"%s\"}",
		     (int)(d1 - compact), compact, (int)(d2 - d1 - 1), d1 + 1,
		     d2 + 1) < 0)
		return NULL;
	return out;
}

/* Signs with a cjose key and a prepared header; flattened JSON or NULL. */
static char *jws_finish(cjose_jwk_t *jwk, cjose_header_t *hdr,
			const char *payload)
{
	cjose_err cerr;
	cjose_jws_t *jws;
	const char *compact = NULL;
	char *out = NULL;

	jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)payload,
			     strlen(payload), &cerr);
	if (!jws) {
		log_err("JWS signing failed: %s", cerr.message);
		return NULL;
	}
	if (cjose_jws_export(jws, &compact, &cerr))
		out = jws_flatten(compact);
	cjose_jws_release(jws);
	return out;
}

char *acme_jws_sign(const struct acme_key *k, const char *kid,
		    const char *nonce, const char *url, const char *payload)
{
	cjose_header_t *hdr = cjose_header_new(NULL);
	char *out = NULL;
	bool ok;

	if (!hdr)
		return NULL;
	ok = cjose_header_set(hdr, CJOSE_HDR_ALG, k->alg, NULL) &&
	     cjose_header_set(hdr, "url", url, NULL) &&
	     (!nonce || cjose_header_set(hdr, "nonce", nonce, NULL)) &&
	     (kid ? cjose_header_set(hdr, CJOSE_HDR_KID, kid, NULL)
		  : cjose_header_set_raw(hdr, "jwk", k->jwk_json, NULL));
	if (ok)
		out = jws_finish(k->jwk, hdr, payload);
	cjose_header_release(hdr);
	return out;
}

char *acme_jws_eab(const struct acme_key *k, const char *eab_kid,
		   const char *mac_b64url, const char *url)
{
	uint8_t mac[256];
	long n = enc_b64url_decode(mac, sizeof(mac), mac_b64url, strlen(mac_b64url));
	cjose_jwk_t *jwk;
	cjose_header_t *hdr;
	char *out = NULL;

	if (n <= 0)
		return NULL;
	jwk = cjose_jwk_create_oct_spec(mac, (size_t)n, NULL);
	secure_wipe(mac, sizeof(mac));
	hdr = cjose_header_new(NULL);
	if (jwk && hdr &&
	    cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_HS256, NULL) &&
	    cjose_header_set(hdr, CJOSE_HDR_KID, eab_kid, NULL) &&
	    cjose_header_set(hdr, "url", url, NULL))
		out = jws_finish(jwk, hdr, k->jwk_json);
	if (hdr)
		cjose_header_release(hdr);
	if (jwk)
		cjose_jwk_release(jwk);
	return out;
}

char *acme_key_authz(const struct acme_key *k, const char *token)
{
	char *s;

	if (asprintf(&s, "%s.%s", token, k->thumb) < 0)
		return NULL;
	return s;
}

void acme_dns01_value(const char *key_authz, char out[B64URL_LEN(32)])
{
	uint8_t h[32];

	SHA256((const uint8_t *)key_authz, strlen(key_authz), h);
	enc_b64url_encode(out, h, sizeof(h));
}
