/* selfsigned.c - ECDSA P-256 self-signed certificates (demos, fallback).
 *
 * Extensions are built as ASN.1 structures, not from a config string, so
 * a name can never inject extension syntax. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/secure.h"
#include "tls/internal.h"

/* SAN with each name as a dNSName. Returns 1 or 0. */
static int ss_add_san(X509 *x, const char *const *names, size_t n)
{
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	int ok = gens != NULL;

	for (size_t i = 0; ok && i < n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		ok = g && s && ASN1_STRING_set(s, names[i], -1);
		if (ok) {
			GENERAL_NAME_set0_value(g, GEN_DNS, s);
			s = NULL;
			ok = sk_GENERAL_NAME_push(gens, g) > 0;
			if (ok)
				g = NULL;
		}
		ASN1_IA5STRING_free(s);
		GENERAL_NAME_free(g);
	}
	ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
				     X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(gens);
	return ok;
}

/* basicConstraints CA:FALSE, keyUsage digitalSignature, EKU serverAuth. */
static int ss_add_usage(X509 *x)
{
	BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	int ok = bc && ku && eku &&
		 ASN1_BIT_STRING_set_bit(ku, 0, 1) &&
		 sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)) > 0;

	ok = ok &&
	     X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, 0) == 1 &&
	     X509_add1_ext_i2d(x, NID_key_usage, ku, 1, 0) == 1 &&
	     X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0, 0) == 1;
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(ku);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return ok;
}

/* Serial, validity, subject = issuer, key. Returns 1 or 0. */
static int ss_fill(X509 *x, EVP_PKEY *key, const char *cn, unsigned days)
{
	BIGNUM *bn = BN_new();
	ASN1_INTEGER *serial = NULL;
	X509_NAME *name = X509_get_subject_name(x);
	int ok;

	/* 127 random bits: positive, non-zero, unique enough. */
	ok = bn && BN_rand(bn, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
	     (serial = BN_to_ASN1_INTEGER(bn, NULL)) &&
	     X509_set_version(x, X509_VERSION_3) &&
	     X509_set_serialNumber(x, serial) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1,
					0) &&
	     X509_set_issuer_name(x, name) && X509_set_pubkey(x, key);
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	return ok;
}

/* Copies a memory BIO's bytes into a malloc'd NUL-terminated buffer. */
static char *ss_bio_take(BIO *b, size_t *len)
{
	char *data, *out;
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0 || !(out = malloc((size_t)n + 1)))
		return NULL;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	return out;
}

static int ss_pem(X509 *x, EVP_PKEY *key, char **cert_pem, size_t *cert_len,
		  char **key_pem, size_t *key_len)
{
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_secmem());
	int ok = cb && kb && PEM_write_bio_X509(cb, x) &&
		 PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL);

	if (ok) {
		*cert_pem = ss_bio_take(cb, cert_len);
		*key_pem = ss_bio_take(kb, key_len);
		ok = *cert_pem && *key_pem;
		if (!ok) {
			free(*cert_pem);
			if (*key_pem)
				secure_free(*key_pem, *key_len);
		}
	}
	BIO_free(cb);
	BIO_free(kb);	/* secure heap memory is cleared on free */
	return ok;
}

static int ss_check_names(const char *const *names, size_t n, char *err,
			  size_t errlen)
{
	char buf[TLS_NAME_MAX + 1];

	if (n == 0) {
		snprintf(err, errlen, "self-signed: no name");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *h = names[i];

		if (h[0] == '*' && h[1] == '.')
			h += 2;
		if (tls_hello_host_copy((const uint8_t *)h, strlen(h), buf,
					sizeof(buf)) < 0 ||
		    strcmp(buf, h) != 0) {
			snprintf(err, errlen, "self-signed: '%s' is not a "
				 "lower-case host name", names[i]);
			return -1;
		}
	}
	return 0;
}

int tls_selfsigned_make(const char *const *names, size_t n, unsigned days,
			char **cert_pem, size_t *cert_len, char **key_pem,
			size_t *key_len, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	const char *cn;
	int ret = -1;

	if (ss_check_names(names, n, err, errlen) < 0)
		return -1;
	/* The CN is at most 64 characters; the SAN carries the names. */
	cn = strlen(names[0]) <= 64 ? names[0] : "postern";
	if (days == 0 || days > 3650) {
		snprintf(err, errlen, "self-signed: validity 1-3650 days");
		return -1;
	}
	key = EVP_EC_gen("P-256");
	x = X509_new();
	if (!key || !x || !ss_fill(x, key, cn, days) ||
	    !ss_add_san(x, names, n) || !ss_add_usage(x) ||
	    !X509_sign(x, key, EVP_sha256()) ||
	    !ss_pem(x, key, cert_pem, cert_len, key_pem, key_len))
		tls_err(err, errlen, "self-signed certificate");
	else
		ret = 0;
	X509_free(x);
	EVP_PKEY_free(key);
	return ret;
}
