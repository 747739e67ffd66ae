/* webauthn_cose.c - COSE public keys (RFC 9053) of passkeys into
 * OpenSSL keys, and the signature check (webauthn.h). */
#include "auth/webauthn.h"

#include <string.h>

#include <cbor.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#define COSE_KTY 1
#define COSE_ALG 3
#define COSE_KTY_OKP 1
#define COSE_KTY_EC2 2
#define COSE_KTY_RSA 3
#define COSE_CRV_P256 1
#define COSE_CRV_ED25519 6

/* The members of a COSE_Key the hub reads; labels -1..-3 mean crv, x, y
 * for EC2/OKP and n, e for RSA. */
struct cose_key {
	int64_t kty, alg, crv;
	cbor_item_t *m1, *m2, *m3;	/* labels -1, -2, -3 (borrowed) */
};

/* A CBOR integer into *v (both signs). Returns 0 or -1. */
static int cose_int(cbor_item_t *t, int64_t *v)
{
	uint64_t u;

	if (!cbor_is_int(t))
		return -1;
	u = cbor_get_int(t);
	if (u > INT32_MAX)
		return -1;
	*v = cbor_isa_uint(t) ? (int64_t)u : -1 - (int64_t)u;
	return 0;
}

/* The map's labels into *k (each once; other labels ignored, as COSE
 * says). Returns 0 or -1. */
static int cose_read(cbor_item_t *m, struct cose_key *k)
{
	struct cbor_pair *kv = cbor_map_handle(m);
	int64_t label, v;

	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < cbor_map_size(m); i++) {
		cbor_item_t **slot = NULL;
		if (cose_int(kv[i].key, &label) < 0)
			return -1;
		if (label == COSE_KTY || label == COSE_ALG) {
			if (cose_int(kv[i].value, &v) < 0 || v == 0 ||
			    (label == COSE_KTY ? k->kty : k->alg))
				return -1;
			*(label == COSE_KTY ? &k->kty : &k->alg) = v;
			continue;
		}
		slot = label == -1 ? &k->m1 : label == -2 ? &k->m2 : label == -3 ? &k->m3 : NULL;
		if (slot && *slot)
			return -1;
		if (slot)
			*slot = kv[i].value;
	}
	return 0;
}

/* A definite byte string of exactly `want` bytes (any length when 0, up
 * to 512). Returns its bytes or NULL. */
static const uint8_t *cose_bytes(cbor_item_t *t, size_t want, size_t *len)
{
	if (!t || !cbor_isa_bytestring(t) || !cbor_bytestring_is_definite(t))
		return NULL;
	*len = cbor_bytestring_length(t);
	if (want ? *len != want : (*len == 0 || *len > 512))
		return NULL;
	return cbor_bytestring_handle(t);
}

/* A key of `type` from the params `bld` holds (consumed). Checked with
 * OpenSSL's public-key check. NULL when it is not a usable key. */
static EVP_PKEY *cose_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
	EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
	EVP_PKEY_CTX *chk = NULL;
	EVP_PKEY *pk = NULL;

	if (ctx && (EVP_PKEY_fromdata_init(ctx) != 1 ||
		    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1))
		pk = NULL;
	if (pk && (!(chk = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) ||
		   EVP_PKEY_public_check(chk) != 1)) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pk;
}

static EVP_PKEY *cose_ec2(const struct cose_key *k)
{
	const uint8_t *x, *y;
	uint8_t pt[65];
	size_t xl, yl;
	int64_t crv;
	OSSL_PARAM_BLD *b;

	if (k->alg != WEBAUTHN_ES256 || !k->m1 || cose_int(k->m1, &crv) < 0 ||
	    crv != COSE_CRV_P256 || !(x = cose_bytes(k->m2, 32, &xl)) ||
	    !(y = cose_bytes(k->m3, 32, &yl)))
		return NULL;
	pt[0] = 4;	/* uncompressed */
	memcpy(pt + 1, x, 32);
	memcpy(pt + 33, y, 32);
	b = OSSL_PARAM_BLD_new();
	if (b && (!OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) ||
		  !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt)))) {
		OSSL_PARAM_BLD_free(b);
		return NULL;
	}
	return cose_fromdata("EC", b);
}

static EVP_PKEY *cose_okp(const struct cose_key *k)
{
	const uint8_t *x;
	size_t xl;
	int64_t crv;

	if (k->alg != WEBAUTHN_EDDSA || !k->m1 || cose_int(k->m1, &crv) < 0 ||
	    crv != COSE_CRV_ED25519 || !(x = cose_bytes(k->m2, 32, &xl)) || k->m3)
		return NULL;
	return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xl);
}

static EVP_PKEY *cose_rsa(const struct cose_key *k)
{
	const uint8_t *n, *e;
	size_t nl, el;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *b = NULL;
	EVP_PKEY *pk = NULL;

	if (k->alg != WEBAUTHN_RS256 || !(n = cose_bytes(k->m1, 0, &nl)) ||
	    !(e = cose_bytes(k->m2, 0, &el)) || el > 8 || nl < 256 || nl > 512)
		return NULL;
	bn = BN_bin2bn(n, (int)nl, NULL);
	be = BN_bin2bn(e, (int)el, NULL);
	b = bn && be ? OSSL_PARAM_BLD_new() : NULL;
	if (b && OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn) &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, be)) {
		pk = cose_fromdata("RSA", b);
		b = NULL;
	}
	if (pk && (EVP_PKEY_get_bits(pk) < 2048 || EVP_PKEY_get_bits(pk) > 4096)) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	OSSL_PARAM_BLD_free(b);
	BN_free(bn);
	BN_free(be);
	return pk;
}

/* The OpenSSL key of a COSE_Key that is exactly n bytes of CBOR, its
 * algorithm into *alg. NULL when not one the hub takes. */
static EVP_PKEY *cose_pkey(const uint8_t *p, size_t n, int *alg)
{
	struct cbor_load_result res;
	cbor_item_t *m;
	struct cose_key k;
	EVP_PKEY *pk = NULL;

	if (n == 0 || n > WEBAUTHN_COSE_MAX || webauthn_cbor_item_len(p, n) != n)
		return NULL;
	m = cbor_load(p, n, &res);
	if (m && res.error.code == CBOR_ERR_NONE && res.read == n && cbor_isa_map(m) &&
	    cbor_map_is_definite(m) && cose_read(m, &k) == 0) {
		if (k.kty == COSE_KTY_EC2)
			pk = cose_ec2(&k);
		else if (k.kty == COSE_KTY_OKP)
			pk = cose_okp(&k);
		else if (k.kty == COSE_KTY_RSA)
			pk = cose_rsa(&k);
		*alg = (int)k.alg;
	}
	if (m)
		cbor_decref(&m);
	return pk;
}

int webauthn_cose_check(const uint8_t *p, size_t n)
{
	int alg = 0;
	EVP_PKEY *pk = cose_pkey(p, n, &alg);

	EVP_PKEY_free(pk);
	return pk ? alg : 0;
}

int webauthn_cose_verify(const uint8_t *cose, size_t cose_len, const uint8_t *msg,
			 size_t mlen, const uint8_t *sig, size_t slen)
{
	int alg = 0, rc = -1;
	EVP_PKEY *pk = cose_pkey(cose, cose_len, &alg);
	EVP_MD_CTX *m = pk ? EVP_MD_CTX_new() : NULL;

	/* EdDSA hashes inside the signature scheme: no digest here. */
	if (m && slen && slen <= WEBAUTHN_SIG_MAX &&
	    EVP_DigestVerifyInit(m, NULL, alg == WEBAUTHN_EDDSA ? NULL : EVP_sha256(), NULL,
				 pk) == 1 &&
	    EVP_DigestVerify(m, sig, slen, msg, mlen) == 1)
		rc = 0;
	EVP_MD_CTX_free(m);
	EVP_PKEY_free(pk);
	return rc;
}
