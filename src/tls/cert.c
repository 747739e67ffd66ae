/* cert.c - loading one certificate chain + key into its own SSL_CTX.
 *
 * One SSL_CTX per certificate, made once at load with the server's policy:
 * handshakes switch to it (SSL_set_SSL_CTX) rather than building anything
 * per connection. The struct tls_cert hangs off the context's ex_data and
 * is freed with it, so the context's reference count is the certificate's.
 */
#define LOG_SUBSYS "tls"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "core/str.h"
#include "tls/internal.h"

struct tls_cert *tls_cert_of_ctx(SSL_CTX *ctx)
{
	return SSL_CTX_get_ex_data(ctx, tls_exdata_cert());
}

/* Never prompt for a passphrase: an encrypted key is an error. */
static int cert_no_password(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* Reads the leaf and the rest of the chain. Returns 0 or -1 with err. */
static int cert_read_chain(const char *pem, size_t len, X509 **leaf,
			   STACK_OF(X509) **chain, char *err, size_t errlen)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x;
	unsigned long e;

	if (!b || len > INT32_MAX)
		return tls_err(err, errlen, "certificate: out of memory");
	*chain = sk_X509_new_null();
	*leaf = PEM_read_bio_X509(b, NULL, cert_no_password, NULL);
	if (!*leaf || !*chain) {
		BIO_free(b);
		return tls_err(err, errlen, "certificate: no PEM certificate");
	}
	while ((x = PEM_read_bio_X509(b, NULL, cert_no_password, NULL)))
		if (!sk_X509_push(*chain, x)) {
			X509_free(x);
			BIO_free(b);
			return tls_err(err, errlen, "out of memory");
		}
	BIO_free(b);
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();	/* the normal end of the chain */
		return 0;
	}
	return tls_err(err, errlen, "certificate chain: bad PEM certificate");
}

static EVP_PKEY *cert_read_key(const char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *key;

	if (!b || len > INT32_MAX)
		return NULL;
	key = PEM_read_bio_PrivateKey(b, NULL, cert_no_password, NULL);
	BIO_free(b);
	return key;
}

/* Accepts a SAN dNSName: a host name, or `*.` + a host name with at
 * least one dot (no partial-label wildcards). Writes it lower-cased. */
static int cert_name_copy(const uint8_t *p, size_t len, char *out,
			  size_t outlen)
{
	const uint8_t *host = p;
	size_t hlen = len, off = 0;
	int n;

	if (len > 2 && p[0] == '*' && p[1] == '.') {
		host = p + 2;
		hlen = len - 2;
		off = 2;
		if (!memchr(host, '.', hlen))
			return -1;
	}
	if (outlen < off + 1)
		return -1;
	n = tls_hello_host_copy(host, hlen, out + off, outlen - off);
	if (n < 0)
		return -1;
	if (off)
		memcpy(out, "*.", 2);
	return n + (int)off;
}

/* Collects the leaf's SAN dNSNames. Returns the count (0 = none) or -1. */
static int cert_names(struct tls_cert *c, X509 *leaf)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name,
					       NULL, NULL);
	int n = gens ? sk_GENERAL_NAME_num(gens) : 0;
	char buf[TLS_NAME_MAX + 3];

	c->names = calloc((size_t)n + 1, sizeof(*c->names));
	if (!c->names) {
		GENERAL_NAMES_free(gens);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_IA5STRING *s;
		int len;

		if (g->type != GEN_DNS)
			continue;
		s = g->d.dNSName;
		len = cert_name_copy(ASN1_STRING_get0_data(s),
				     (size_t)ASN1_STRING_length(s), buf,
				     sizeof(buf));
		if (len < 0) {
			log_warn("certificate: ignoring unusable DNS name");
			continue;
		}
		c->names[c->n_names] = strdup(buf);
		if (!c->names[c->n_names++]) {
			GENERAL_NAMES_free(gens);
			return -1;
		}
	}
	GENERAL_NAMES_free(gens);
	return (int)c->n_names;
}

/* The chain certificate that issued the leaf (for OCSP), up-ref'd. */
static X509 *cert_find_issuer(X509 *leaf, STACK_OF(X509) *chain)
{
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);

		if (X509_check_issued(x, leaf) == X509_V_OK) {
			X509_up_ref(x);
			return x;
		}
	}
	return NULL;
}

static char *cert_ocsp_url(X509 *leaf)
{
	STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(leaf);
	char *url = NULL;

	for (int i = 0; i < sk_OPENSSL_STRING_num(urls) && !url; i++) {
		const char *u = sk_OPENSSL_STRING_value(urls, i);

		if (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8))
			url = strdup(u);
	}
	X509_email_free(urls);
	return url;
}

/* Fills the certificate's facts from the leaf and chain. */
static int cert_describe(struct tls_cert *c, X509 *leaf, STACK_OF(X509) *chain,
			 char *err, size_t errlen)
{
	unsigned mdlen = 0;
	const ASN1_TIME *na = X509_get0_notAfter(leaf);
	struct tm tm;

	if (!X509_digest(leaf, EVP_sha256(), c->sha256, &mdlen) ||
	    mdlen != sizeof(c->sha256) || !ASN1_TIME_to_tm(na, &tm))
		return tls_err(err, errlen, "certificate: unreadable");
	c->not_after = timegm(&tm);
	if (X509_cmp_current_time(na) < 0) {
		snprintf(err, errlen, "certificate expired");
		return -1;
	}
	c->self_signed = X509_self_signed(leaf, 0) == 1;
	c->issuer = cert_find_issuer(leaf, chain);
	c->ocsp_url = cert_ocsp_url(leaf);
	if (cert_names(c, leaf) <= 0) {
		snprintf(err, errlen, "certificate has no usable DNS name "
			 "(subjectAltName dNSName)");
		return -1;
	}
	return 0;
}

/* Builds the context around a checked leaf + key + chain. */
static int cert_make_ctx(struct tls_server *srv, struct tls_cert *c,
			 X509 *leaf, EVP_PKEY *key, STACK_OF(X509) *chain,
			 char *err, size_t errlen)
{
	if (tls_server_ctx_policy(srv, c->ctx, err, errlen) < 0)
		return -1;
	if (SSL_CTX_use_cert_and_key(c->ctx, leaf, key, chain, 1) != 1)
		return tls_err(err, errlen, "certificate and key refused");
	/* Sessions resume only on the certificate that made them. */
	if (!SSL_CTX_set_session_id_context(c->ctx, c->sha256,
					    sizeof(c->sha256)))
		return tls_err(err, errlen, "session id context");
	if (srv->opts.ocsp_stapling && c->ocsp_url) {
		SSL_CTX_set_tlsext_status_cb(c->ctx, tls_ocsp_status_cb);
		SSL_CTX_set_tlsext_status_arg(c->ctx, c);
	}
	c->leaf = SSL_CTX_get0_certificate(c->ctx);
	return 0;
}

/* Allocates the certificate inside a new context that owns it. */
static struct tls_cert *cert_alloc(struct tls_server *srv)
{
	struct tls_cert *c = calloc(1, sizeof(*c));
	SSL_CTX *ctx = SSL_CTX_new_ex(NULL, NULL, TLS_server_method());

	if (!c || !ctx || !SSL_CTX_set_ex_data(ctx, tls_exdata_cert(), c)) {
		free(c);
		SSL_CTX_free(ctx);
		return NULL;
	}
	tls_staple_init(&c->staple);
	c->ctx = ctx;
	c->srv = srv;
	return c;
}

int tls_cert_load(struct tls_server *srv, const char *chain_pem,
		  size_t chain_len, const char *key_pem, size_t key_len,
		  struct tls_cert **out, char *err, size_t errlen)
{
	X509 *leaf = NULL;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *key = NULL;
	struct tls_cert *c = NULL;
	int ret = -1;

	if (cert_read_chain(chain_pem, chain_len, &leaf, &chain, err,
			    errlen) < 0)
		goto out;
	key = cert_read_key(key_pem, key_len);
	if (!key) {
		tls_err(err, errlen, "private key: not a readable PEM key");
		goto out;
	}
	if (X509_check_private_key(leaf, key) != 1) {
		tls_err(err, errlen, "private key does not match the "
			"certificate");
		goto out;
	}
	c = cert_alloc(srv);
	if (!c) {
		tls_err(err, errlen, "out of memory");
		goto out;
	}
	if (cert_describe(c, leaf, chain, err, errlen) < 0 ||
	    cert_make_ctx(srv, c, leaf, key, chain, err, errlen) < 0)
		goto out;
	*out = c;
	c = NULL;
	ret = 0;
out:
	if (c)
		SSL_CTX_free(c->ctx);	/* frees c */
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	return ret;
}

struct tls_cert *tls_cert_ref(struct tls_cert *cert)
{
	SSL_CTX_up_ref(cert->ctx);
	return cert;
}

void tls_cert_put(struct tls_cert *cert)
{
	if (cert)
		SSL_CTX_free(cert->ctx);
}

size_t tls_cert_name_count(const struct tls_cert *cert)
{
	return cert->n_names;
}

const char *tls_cert_name(const struct tls_cert *cert, size_t i)
{
	return i < cert->n_names ? cert->names[i] : NULL;
}

X509 *tls_cert_leaf(const struct tls_cert *cert)
{
	return cert->leaf;
}

const uint8_t *tls_cert_sha256(const struct tls_cert *cert)
{
	return cert->sha256;
}

time_t tls_cert_not_after(const struct tls_cert *cert)
{
	return cert->not_after;
}

bool tls_cert_self_signed(const struct tls_cert *cert)
{
	return cert->self_signed;
}

const char *tls_cert_ocsp_url(const struct tls_cert *cert)
{
	return cert->ocsp_url;
}
