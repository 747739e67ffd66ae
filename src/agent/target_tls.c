/* target_tls.c - client TLS for https targets (see target_tls.h). */
#define LOG_SUBSYS "agent"
#include "agent/target_tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/log.h"

SSL_CTX *target_tls_ctx_new(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		log_err("TLS client context: out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Many services close without close_notify: that is an EOF, not an
	 * attack on a relayed byte stream whose framing is the app's. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_default_verify_paths(ctx) != 1)
		log_warn("TLS: no default CA store; verified https targets will fail");
	ERR_clear_error();
	return ctx;
}

/* Pins the expected peer: a DNS name, or the IP address. */
static int target_tls_expect(SSL *ssl, const char *name,
			     const struct sockaddr *addr)
{
	char ip[INET6_ADDRSTRLEN];
	const void *a = addr->sa_family == AF_INET ?
		(const void *)&((const struct sockaddr_in *)(const void *)addr)->sin_addr :
		(const void *)&((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr;

	if (name)
		return SSL_set1_host(ssl, name) == 1 ? 0 : -1;
	if (!inet_ntop(addr->sa_family, a, ip, sizeof(ip)))
		return -1;
	return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip) == 1 ? 0 : -1;
}

SSL *target_tls_new(SSL_CTX *ctx, int fd, const char *name,
		    const struct sockaddr *addr, bool verify)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl || SSL_set_fd(ssl, fd) != 1)
		goto fail;
	if (name && SSL_set_tlsext_host_name(ssl, name) != 1)
		goto fail;
	SSL_set_verify(ssl, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (verify && target_tls_expect(ssl, name, addr) < 0)
		goto fail;
	SSL_set_connect_state(ssl);
	return ssl;
fail:
	ERR_clear_error();
	SSL_free(ssl);
	return NULL;
}
