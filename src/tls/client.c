/* client.c - TLS client contexts for https upstreams. */
#define LOG_SUBSYS "tls"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls/client.h"
#include "tls/internal.h"

struct tls_client {
	SSL_CTX *ctx;
};

static int client_policy(SSL_CTX *ctx, const char *ca_file, char *err,
			 size_t errlen)
{
	static const uint8_t alpn[] = "\x08http/1.1";

	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, TLS_POLICY_CIPHERS) ||
	    !SSL_CTX_set1_groups_list(ctx, TLS_POLICY_GROUPS) ||
	    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0)
		return tls_err(err, errlen, "client policy");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
			 SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* The store is parsed here, once, not per connection. */
	if (ca_file ? !SSL_CTX_load_verify_file(ctx, ca_file) :
		      !SSL_CTX_set_default_verify_paths(ctx))
		return tls_err(err, errlen, "CA certificates %s",
			       ca_file ? ca_file : "(system store)");
	return 0;
}

struct tls_client *tls_client_new(const char *ca_file, char *err,
				  size_t errlen)
{
	struct tls_client *c = calloc(1, sizeof(*c));

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->ctx = SSL_CTX_new_ex(NULL, NULL, TLS_client_method());
	if (!c->ctx) {
		tls_err(err, errlen, "SSL_CTX_new");
		free(c);
		return NULL;
	}
	if (client_policy(c->ctx, ca_file, err, errlen) < 0) {
		tls_client_free(c);
		return NULL;
	}
	return c;
}

void tls_client_free(struct tls_client *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

static bool client_is_ip(const char *s)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, s, addr) == 1 ||
	       inet_pton(AF_INET6, s, addr) == 1;
}

/* Sets SNI and what the certificate must match. Returns 1 or 0. */
static int client_name(SSL *ssl, const char *name, bool verify)
{
	bool ip = client_is_ip(name);

	if (!ip && !SSL_set_tlsext_host_name(ssl, name))
		return 0;
	if (!verify) {
		SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
		return 1;
	}
	if (ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return SSL_set1_host(ssl, name);
}

SSL *tls_client_conn_new(struct tls_client *c, int fd, const char *server_name,
			 bool verify)
{
	SSL *ssl = SSL_new(c->ctx);

	if (!ssl || (fd >= 0 && !SSL_set_fd(ssl, fd)) ||
	    !server_name || !client_name(ssl, server_name, verify)) {
		ERR_clear_error();
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	return ssl;
}
