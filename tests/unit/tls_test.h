/* tls_test.h - helpers for the TLS unit tests: certificates made on the
 * fly, and handshakes between a test client and the server over an
 * in-memory BIO pair (no sockets). */
#ifndef POSTERN_TESTS_TLS_TEST_H
#define POSTERN_TESTS_TLS_TEST_H

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/secure.h"
#include "tls/cert.h"
#include "tls/tls.h"

#define TT static __attribute__((unused))

/* A PEM certificate + key pair held by a test. */
struct tt_pem {
	char *crt, *key;
	size_t crt_len, key_len;
};

TT void tt_pem_free(struct tt_pem *p)
{
	free(p->crt);
	if (p->key)
		secure_free(p->key, p->key_len);
	memset(p, 0, sizeof(*p));
}

/* A self-signed certificate for one or two names (n1 may be NULL). */
TT struct tt_pem tt_selfsigned(const char *n0, const char *n1)
{
	const char *names[2] = { n0, n1 };
	struct tt_pem p = { 0 };
	char err[256];

	if (tls_selfsigned_make(names, n1 ? 2 : 1, 30, &p.crt, &p.crt_len,
				&p.key, &p.key_len, err, sizeof(err)) < 0) {
		printf("selfsigned: %s\n", err);
		abort();
	}
	return p;
}

TT struct tls_server *tt_server(const struct tls_opts *o)
{
	struct tls_opts def;
	char err[256];
	struct tls_server *srv;

	if (!o) {
		tls_opts_default(&def);
		o = &def;
	}
	srv = tls_server_new(o, err, sizeof(err));
	if (!srv) {
		printf("tls_server_new: %s\n", err);
		abort();
	}
	return srv;
}

/* Adds a PEM pair to a set, aborting on failure. Returns the cert. */
TT struct tls_cert *tt_add(struct tls_certset *set, const struct tt_pem *p)
{
	char err[256];

	if (tls_certset_add_pem(set, p->crt, p->crt_len, p->key, p->key_len,
				err, sizeof(err)) < 0) {
		printf("add_pem: %s\n", err);
		abort();
	}
	return tls_certset_at(set, tls_certset_count(set) - 1);
}

/* A client context for tests: versions [minv, maxv], optional ALPN
 * (wire format), TLS 1.2 cipher list override. Accepts any certificate
 * (the tests compare fingerprints). */
TT SSL_CTX *tt_client_ctx(int minv, int maxv, const char *alpn_wire,
			  size_t alpn_len, const char *ciphers)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, minv);
	SSL_CTX_set_max_proto_version(ctx, maxv);
	if (ciphers)
		SSL_CTX_set_cipher_list(ctx, ciphers);
	if (alpn_wire)
		SSL_CTX_set_alpn_protos(ctx, (const uint8_t *)alpn_wire,
					(unsigned)alpn_len);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
	return ctx;
}

/* A connected pair: client and server SSLs joined by a BIO pair. */
struct tt_conn {
	SSL *c, *s;
};

TT struct tt_conn tt_conn_new(struct tls_server *srv, SSL_CTX *cctx,
			      const char *sni, SSL_SESSION *sess)
{
	struct tt_conn t;
	BIO *cb, *sb;

	t.c = SSL_new(cctx);
	t.s = tls_server_conn_new(srv, -1);
	BIO_new_bio_pair(&cb, 0, &sb, 0);
	SSL_set_bio(t.c, cb, cb);
	SSL_set_bio(t.s, sb, sb);
	SSL_set_connect_state(t.c);
	if (sni)
		SSL_set_tlsext_host_name(t.c, sni);
	if (sess)
		SSL_set_session(t.c, sess);
	return t;
}

TT void tt_conn_free(struct tt_conn *t)
{
	/* A client session is resumable only after a clean close. */
	if (SSL_is_init_finished(t->c))
		SSL_shutdown(t->c);
	ERR_clear_error();
	SSL_free(t->c);
	tls_conn_free(t->s);
	t->c = t->s = NULL;
}

/* Runs both ends until both handshakes finish (1) or one fails (0). */
TT int tt_handshake(struct tt_conn *t)
{
	int cdone = 0, sdone = 0, want;

	for (int i = 0; i < 100 && !(cdone && sdone); i++) {
		if (!cdone) {
			int r = SSL_do_handshake(t->c);

			if (r == 1)
				cdone = 1;
			else if (SSL_get_error(t->c, r) != SSL_ERROR_WANT_READ)
				break;
		}
		if (!sdone) {
			int r = tls_conn_handshake(t->s, &want);

			if (r == 0)
				sdone = 1;
			else if (r != -EAGAIN)
				break;
		}
	}
	ERR_clear_error();
	return cdone && sdone;
}

/* Sends `msg` server -> client and back; the client's read also takes in
 * TLS 1.3 session tickets. Returns 1 when both arrived intact. */
TT int tt_echo(struct tt_conn *t, const char *msg)
{
	char buf[256];
	size_t n = strlen(msg), got = 0;
	int want;
	ssize_t r;

	if (tls_conn_write(t->s, msg, n, &want) != (ssize_t)n ||
	    SSL_read_ex(t->c, buf, sizeof(buf), &got) != 1 || got != n ||
	    memcmp(buf, msg, n) != 0)
		return 0;
	if (SSL_write_ex(t->c, msg, n, &got) != 1)
		return 0;
	r = tls_conn_read(t->s, buf, sizeof(buf), &want);
	return r == (ssize_t)n && memcmp(buf, msg, n) == 0;
}

/* True when the certificate the client got is `cert`. */
TT int tt_served(struct tt_conn *t, const struct tls_cert *cert)
{
	X509 *x = SSL_get0_peer_certificate(t->c);
	uint8_t md[32];
	unsigned n = 0;

	if (!x || !X509_digest(x, EVP_sha256(), md, &n) || n != 32)
		return 0;
	return memcmp(md, tls_cert_sha256(cert), 32) == 0;
}

/* Handshake with SNI `sni` on a fresh connection; returns the cert served
 * matches `cert`. */
TT int tt_sni_gets(struct tls_server *srv, SSL_CTX *cctx, const char *sni,
		   const struct tls_cert *cert)
{
	struct tt_conn t = tt_conn_new(srv, cctx, sni, NULL);
	int ok = tt_handshake(&t) && tt_served(&t, cert);

	tt_conn_free(&t);
	return ok;
}

/* ---- a small CA for chains and OCSP ---- */

struct tt_ca {
	X509 *cert;
	EVP_PKEY *key;
};

TT void tt_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!e || !X509_add_ext(x, e, -1))
		abort();
	X509_EXTENSION_free(e);
}

/* Issues a certificate for `cn` signed by `ca` (self-signed when NULL).
 * `san` is an X509v3 config value ("DNS:a,DNS:b") or NULL; `ocsp` an AIA
 * OCSP URL or NULL; `days_from`/`days_to` the validity around now. */
TT struct tt_ca tt_issue(const struct tt_ca *ca, const char *cn,
			 const char *san, const char *ocsp, int is_ca,
			 long serial, int days_from, int days_to)
{
	struct tt_ca out;
	X509_NAME *name;
	char aia[512];

	out.key = EVP_EC_gen("P-256");
	out.cert = X509_new();
	X509_set_version(out.cert, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(out.cert), serial);
	X509_gmtime_adj(X509_getm_notBefore(out.cert), (long)days_from * 86400);
	X509_gmtime_adj(X509_getm_notAfter(out.cert), (long)days_to * 86400);
	name = X509_get_subject_name(out.cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(out.cert, ca ? X509_get_subject_name(ca->cert)
					  : name);
	X509_set_pubkey(out.cert, out.key);
	tt_ext(out.cert, ca ? ca->cert : NULL, NID_basic_constraints,
	       is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	tt_ext(out.cert, ca ? ca->cert : NULL, NID_subject_key_identifier,
	       "hash");
	if (ca)
		tt_ext(out.cert, ca->cert, NID_authority_key_identifier,
		       "keyid");
	if (san)
		tt_ext(out.cert, NULL, NID_subject_alt_name, san);
	if (ocsp) {
		snprintf(aia, sizeof(aia), "OCSP;URI:%s", ocsp);
		tt_ext(out.cert, NULL, NID_info_access, aia);
	}
	if (!X509_sign(out.cert, ca ? ca->key : out.key, EVP_sha256()))
		abort();
	return out;
}

TT void tt_ca_free(struct tt_ca *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	ca->cert = NULL;
	ca->key = NULL;
}

TT char *tt_bio_str(BIO *b, size_t *len)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *out = malloc((size_t)n + 1);

	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	return out;
}

/* PEM of `leaf` followed by up to two chain certificates, and its key. */
TT struct tt_pem tt_pem_of(const struct tt_ca *leaf, X509 *chain1,
			   X509 *chain2)
{
	struct tt_pem p;
	BIO *c = BIO_new(BIO_s_mem()), *k = BIO_new(BIO_s_mem());

	PEM_write_bio_X509(c, leaf->cert);
	if (chain1)
		PEM_write_bio_X509(c, chain1);
	if (chain2)
		PEM_write_bio_X509(c, chain2);
	PEM_write_bio_PrivateKey(k, leaf->key, NULL, NULL, 0, NULL, NULL);
	p.crt = tt_bio_str(c, &p.crt_len);
	p.key = tt_bio_str(k, &p.key_len);
	BIO_free(c);
	BIO_free(k);
	return p;
}

#endif
