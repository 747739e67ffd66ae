/* cert_facts.c - a certificate's names, issuer, serial, fingerprint and
 * validity for the store's rows (cert_facts.h). */
#include "tls/cert_facts.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <time.h>

#include "core/enc.h"

static int64_t cert_facts_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm) * 1000;
}

/* The DNS names of the certificate (SANs, else the CN) as a JSON array. */
static char *cert_facts_names(X509 *x)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	json_t *names = json_array();
	char cn[256], *out;

	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type == GEN_DNS)
			json_array_append_new(names, json_stringn(
				(const char *)ASN1_STRING_get0_data(g->d.dNSName),
				(size_t)ASN1_STRING_length(g->d.dNSName)));
	}
	GENERAL_NAMES_free(sans);
	if (!json_array_size(names) &&
	    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
				      cn, sizeof(cn)) > 0)
		json_array_append_new(names, json_string(cn));
	out = json_dumps(names, JSON_COMPACT);
	json_decref(names);
	return out;
}

void tls_cert_describe(X509 *x, json_t *row)
{
	char issuer[512], fp[HEX_LEN(32)], *names = cert_facts_names(x), *serial;
	uint8_t md[32];
	unsigned mdlen = sizeof(md);
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);

	X509_NAME_oneline(X509_get_issuer_name(x), issuer, sizeof(issuer));
	X509_digest(x, EVP_sha256(), md, &mdlen);
	enc_hex_encode(fp, md, sizeof(md));
	serial = bn ? BN_bn2hex(bn) : NULL;
	json_object_set_new(row, "names", json_string(names ? names : "[]"));
	json_object_set_new(row, "issuer", json_string(issuer));
	json_object_set_new(row, "serial", json_string(serial ? serial : ""));
	json_object_set_new(row, "fingerprint", json_string(fp));
	json_object_set_new(row, "not_before", json_integer(cert_facts_time(X509_get0_notBefore(x))));
	json_object_set_new(row, "not_after", json_integer(cert_facts_time(X509_get0_notAfter(x))));
	OPENSSL_free(serial);
	BN_free(bn);
	free(names);
}

int tls_cert_facts(const char *pem, json_t *row)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	if (!x)
		return -1;
	tls_cert_describe(x, row);
	X509_free(x);
	return 0;
}
