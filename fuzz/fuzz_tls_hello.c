/* fuzz_tls_hello.c - the ClientHello side of the TLS server on any bytes.
 *
 * The input is fed as the client's first flight to a server-mode SSL of a
 * real struct tls_server (certificates for an exact name and a wildcard,
 * a default, and a TLS-ALPN-01 hook), so OpenSSL's record and handshake
 * parsing reach our callbacks: the SNI parser and certificate lookup, the
 * ALPN scan and selection, the challenge hook. The same bytes also go
 * straight to the SNI and ALPN parsers. Seeds (fuzz/corpus/fuzz_tls_hello)
 * are ClientHellos captured from OpenSSL clients. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "core/log.h"
#include "core/secure.h"
#include "tls/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tls_server *srv;

static void fuzz_add(struct tls_certset *set, const char *n0, const char *n1)
{
	const char *names[2] = { n0, n1 };
	char *crt, *key, err[256];
	size_t crt_len, key_len;

	if (tls_selfsigned_make(names, n1 ? 2 : 1, 30, &crt, &crt_len, &key,
				&key_len, err, sizeof(err)) < 0 ||
	    tls_certset_add_pem(set, crt, crt_len, key, key_len, err,
				sizeof(err)) < 0)
		abort();
	free(crt);
	secure_free(key, key_len);
}

/* Answers for one name only, with a certificate made once. */
static int fuzz_challenge(void *arg, const char *name, X509 **cert,
			  EVP_PKEY **key)
{
	struct tls_certset *set = arg;
	struct tls_cert *c = tls_certset_at(set, 0);

	if (strcmp(name, "acme.example.com") != 0)
		return 0;
	*cert = X509_dup(tls_cert_leaf(c));
	*key = EVP_PKEY_dup(SSL_CTX_get0_privatekey(c->ctx));
	return 1;
}

static void fuzz_init(void)
{
	struct tls_opts o;
	char err[256];
	struct tls_certset *set, *chal;

	log_set_level(LOG_ERR);
	tls_opts_default(&o);
	srv = tls_server_new(&o, err, sizeof(err));
	if (!srv)
		abort();
	set = tls_certset_new(srv);
	fuzz_add(set, "default.test", NULL);
	fuzz_add(set, "a.example.com", "b.example.com");
	fuzz_add(set, "*.example.com", NULL);
	if (tls_server_certset_install(srv, set) < 0)
		abort();
	chal = tls_certset_new(srv);	/* kept for the process's life */
	fuzz_add(chal, "acme.example.com", NULL);
	tls_server_set_alpn_challenge(srv, fuzz_challenge, chal);
}

static void fuzz_parsers(const uint8_t *data, size_t size)
{
	char name[TLS_NAME_MAX + 1];
	const uint8_t *out;
	uint8_t outlen, wire[TLS_ALPN_WIRE_MAX];
	size_t half = size / 2;

	tls_hello_parse_sni(data, size, name, sizeof(name));
	tls_hello_host_copy(data, size, name, sizeof(name));
	tls_hello_alpn_has(data, size, "h2", 2);
	tls_hello_alpn_pick(data, half, data + half, size - half, &out,
			    &outlen);
	tls_hello_alpn_pick(srv->alpn, srv->alpn_len, data, size, &out,
			    &outlen);
	if (size < 512) {
		char s[512];

		memcpy(s, data, size);
		s[size] = '\0';
		tls_hello_alpn_wire(s, wire, sizeof(wire));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SSL *ssl;
	BIO *in, *out;
	int want;

	if (!srv)
		fuzz_init();
	fuzz_parsers(data, size);
	ssl = tls_server_conn_new(srv, -1);
	in = BIO_new_mem_buf(data, (int)size);
	out = BIO_new(BIO_s_mem());
	if (!ssl || !in || !out)
		abort();
	BIO_set_mem_eof_return(in, -1);	/* end of input = would block */
	SSL_set_bio(ssl, in, out);
	tls_conn_handshake(ssl, &want);
	tls_conn_free(ssl);
	ERR_clear_error();
	return 0;
}
