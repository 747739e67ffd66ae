/* acme_cert.c - CSRs, certificate facts, ARI certID, TLS-ALPN-01 cert. */
#include "acme/acme_cert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "acme/acme_key.h"
#include "core/enc.h"
#include "core/secure.h"

static char *der_b64url(const uint8_t *der, size_t n)
{
	char *s = malloc(B64URL_LEN(n));

	if (s)
		enc_b64url_encode(s, der, n);
	return s;
}

static int csr_add_sans(X509_REQ *req, const char *const *names, size_t n)
{
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	X509_EXTENSION *ext = NULL;
	int rc = -EINVAL;

	if (!exts || !gens)
		goto out;
	for (size_t i = 0; i < n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		if (!g || !s || !ASN1_STRING_set(s, names[i], (int)strlen(names[i]))) {
			GENERAL_NAME_free(g);
			ASN1_IA5STRING_free(s);
			goto out;
		}
		GENERAL_NAME_set0_value(g, GEN_DNS, s);
		sk_GENERAL_NAME_push(gens, g);
	}
	ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
	if (ext && sk_X509_EXTENSION_push(exts, ext) &&
	    X509_REQ_add_extensions(req, exts))
		rc = 0;
out:
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

char *acme_csr_b64url(EVP_PKEY *key, const char *const *names, size_t n)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *nm = X509_NAME_new();
	uint8_t *der = NULL;
	char *out = NULL;
	int len;

	if (!req || !nm || n == 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) <= 64) {
			X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
						   (const uint8_t *)names[i],
						   -1, -1, 0);
			break;
		}
	if (!X509_REQ_set_version(req, 0) || !X509_REQ_set_subject_name(req, nm) ||
	    !X509_REQ_set_pubkey(req, key) || csr_add_sans(req, names, n) ||
	    !X509_REQ_sign(req, key, EVP_sha256()))
		goto out;
	len = i2d_X509_REQ(req, &der);
	if (len > 0)
		out = der_b64url(der, (size_t)len);
out:
	OPENSSL_free(der);
	X509_NAME_free(nm);
	X509_REQ_free(req);
	return out;
}

static X509 *cert_first(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

char *acme_cert_der_b64url(const char *pem)
{
	X509 *x = cert_first(pem);
	uint8_t *der = NULL;
	char *out = NULL;
	int len;

	if (!x)
		return NULL;
	len = i2d_X509(x, &der);
	if (len > 0)
		out = der_b64url(der, (size_t)len);
	OPENSSL_free(der);
	X509_free(x);
	return out;
}

static int64_t cert_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static void cert_names(X509 *x, struct acme_cert_info *ci)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_IA5STRING *s;

		if (g->type != GEN_DNS || ci->n_names >= ACME_CERT_MAX_NAMES)
			continue;
		s = g->d.dNSName;
		ci->names[ci->n_names] = strndup((const char *)ASN1_STRING_get0_data(s),
						 (size_t)ASN1_STRING_length(s));
		if (ci->names[ci->n_names])
			ci->n_names++;
	}
	GENERAL_NAMES_free(gens);
}

/* RFC 9773 s4.1: base64url(AKI keyIdentifier) "." base64url(serial DER
 * content octets). */
static char *cert_ari_id(X509 *x)
{
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	uint8_t ser[64];
	char *a = NULL, *s = NULL, *out = NULL;
	int n;

	if (!aki || !bn || BN_num_bytes(bn) > 62)
		goto out;
	n = BN_bn2bin(bn, ser + 1);
	ser[0] = 0;
	/* Keep a leading zero when the top bit is set (DER INTEGER). */
	a = der_b64url(ASN1_STRING_get0_data(aki), (size_t)ASN1_STRING_length(aki));
	s = (n > 0 && (ser[1] & 0x80)) ? der_b64url(ser, (size_t)n + 1)
				       : der_b64url(ser + 1, (size_t)n);
	if (a && s && asprintf(&out, "%s.%s", a, s) < 0)
		out = NULL;
out:
	BN_free(bn);
	free(a);
	free(s);
	return out;
}

/* The serial number in upper-case hex (OPENSSL_free it), or NULL. */
static char *cert_serial_hex(X509 *x)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	BN_free(bn);
	return hex;
}

int acme_cert_info_get(const char *pem, struct acme_cert_info *ci)
{
	X509 *x = cert_first(pem);

	memset(ci, 0, sizeof(*ci));
	if (!x)
		return -EINVAL;
	cert_names(x, ci);
	ci->issuer = X509_NAME_oneline(X509_get_issuer_name(x), NULL, 0);
	ci->serial_hex = cert_serial_hex(x);
	ci->not_before = cert_time(X509_get0_notBefore(x));
	ci->not_after = cert_time(X509_get0_notAfter(x));
	ci->ari_id = cert_ari_id(x);
	ci->self_signed = (X509_get_extension_flags(x) & EXFLAG_SS) != 0;
	X509_free(x);
	return ci->issuer && ci->serial_hex && ci->not_after ? 0 : -EINVAL;
}

void acme_cert_info_free(struct acme_cert_info *ci)
{
	for (size_t i = 0; i < ci->n_names; i++)
		free(ci->names[i]);
	OPENSSL_free(ci->issuer);
	OPENSSL_free(ci->serial_hex);
	free(ci->ari_id);
	memset(ci, 0, sizeof(*ci));
}

static char *pem_of_cert(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out = NULL;
	long n;

	if (b && PEM_write_bio_X509(b, x) && (n = BIO_get_mem_data(b, &p)) > 0 &&
	    (out = malloc((size_t)n + 1))) {
		memcpy(out, p, (size_t)n);
		out[n] = 0;
	}
	BIO_free(b);
	return out;
}

/* The critical id-pe-acmeIdentifier extension: OCTET STRING (SHA-256). */
static int alpn_add_ident(X509 *x, const char *key_authz)
{
	uint8_t der[2 + 32];
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	X509_EXTENSION *ext = NULL;
	int rc = -EINVAL;

	der[0] = 0x04;
	der[1] = 32;
	SHA256((const uint8_t *)key_authz, strlen(key_authz), der + 2);
	if (v && oid && ASN1_OCTET_STRING_set(v, der, sizeof(der)))
		ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, v);
	if (ext && X509_add_ext(x, ext, -1))
		rc = 0;
	X509_EXTENSION_free(ext);
	ASN1_OBJECT_free(oid);
	ASN1_OCTET_STRING_free(v);
	return rc;
}

static int alpn_add_san(X509 *x, const char *domain)
{
	char san[300];
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	if (strlen(domain) > 253)
		return -EINVAL;
	snprintf(san, sizeof(san), "DNS:%s", domain);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
	if (!ext)
		return -EINVAL;
	int ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -EINVAL;
}

int acme_alpn_cert_make(const char *domain, const char *key_authz,
			char **cert_pem, char **key_pem)
{
	EVP_PKEY *k = acme_pkey_generate(ACME_KEY_EC256);
	X509 *x = X509_new();
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	int rc = -EINVAL;

	*cert_pem = *key_pem = NULL;
	if (!k || !x || RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 7 * 86400) ||
	    !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
					MBSTRING_ASC, (const uint8_t *)"acme",
					-1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
	    !X509_set_pubkey(x, k) || alpn_add_san(x, domain) ||
	    alpn_add_ident(x, key_authz) || !X509_sign(x, k, EVP_sha256()))
		goto out;
	*cert_pem = pem_of_cert(x);
	*key_pem = acme_pkey_to_pem(k);
	rc = *cert_pem && *key_pem ? 0 : -EINVAL;
	if (rc) {
		free(*cert_pem);
		if (*key_pem)
			secure_free(*key_pem, strlen(*key_pem));
		*cert_pem = *key_pem = NULL;
	}
out:
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

int acme_cert_key_match(const char *cert_pem, const char *key_pem)
{
	X509 *x = cert_first(cert_pem);
	BIO *b = BIO_new_mem_buf(key_pem, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	int rc = x && k && X509_check_private_key(x, k) == 1 ? 0 : -EINVAL;

	EVP_PKEY_free(k);
	BIO_free(b);
	X509_free(x);
	return rc;
}
