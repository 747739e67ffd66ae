/* conn.c - non-blocking TLS I/O wrappers with the project's conventions.
 *
 * OpenSSL reports states through SSL_get_error() and a per-thread error
 * queue that must be empty before the next call; these wrappers map the
 * states to -EAGAIN (+ direction) / -EIO and leave the queue empty. */
#define LOG_SUBSYS "tls"

#include <errno.h>
#include <string.h>

#include <openssl/err.h>

#include "core/log.h"
#include "tls/internal.h"

/* Maps a failed call's state. Returns -EAGAIN (with *want) or `fail`. */
static int conn_error(SSL *ssl, int rc, int *want, int fail, const char *op)
{
	int e = SSL_get_error(ssl, rc);
	unsigned long code;

	switch (e) {
	case SSL_ERROR_WANT_READ:
		*want = TLS_WANT_READ;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want = TLS_WANT_WRITE;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		code = ERR_peek_last_error();
		if (code && log_threshold <= LOG_DEBUG) {
			char why[256];

			ERR_error_string_n(code, why, sizeof(why));
			log_debug("%s failed: %s", op, why);
		}
		ERR_clear_error();
		return fail;
	}
}

int tls_conn_handshake(SSL *ssl, int *want)
{
	struct tls_server *srv;
	int rc = SSL_do_handshake(ssl);

	*want = 0;
	srv = tls_server_of_ctx(SSL_get_SSL_CTX(ssl));
	if (rc == 1) {
		if (srv && SSL_is_server(ssl))
			atomic_fetch_add_explicit(SSL_session_reused(ssl) ?
						  &srv->st_resumed :
						  &srv->st_handshakes, 1,
						  memory_order_relaxed);
		return 0;
	}
	rc = conn_error(ssl, rc, want, -EPROTO, "handshake");
	if (rc == 0)
		rc = -EPROTO;	/* close_notify during the handshake */
	if (rc == -EPROTO && srv && SSL_is_server(ssl))
		atomic_fetch_add_explicit(&srv->st_failed, 1,
					  memory_order_relaxed);
	return rc;
}

ssize_t tls_conn_read(SSL *ssl, void *buf, size_t len, int *want)
{
	size_t n = 0;

	*want = 0;
	if (SSL_read_ex(ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	return conn_error(ssl, 0, want, -EIO, "read");
}

bool tls_conn_has_pending(const SSL *ssl)
{
	return SSL_has_pending(ssl) == 1;
}

ssize_t tls_conn_write(SSL *ssl, const void *buf, size_t len, int *want)
{
	size_t n = 0;
	int rc;

	*want = 0;
	if (SSL_write_ex(ssl, buf, len, &n) == 1)
		return (ssize_t)n;
	rc = conn_error(ssl, 0, want, -EIO, "write");
	return rc == 0 ? -EIO : rc;	/* closed: nothing more is written */
}

int tls_conn_shutdown(SSL *ssl)
{
	/* Only after a complete handshake: a close_notify in the middle of
	 * one would be an unexpected message. */
	if (SSL_is_init_finished(ssl) && SSL_shutdown(ssl) < 0)
		ERR_clear_error();
	return 0;
}

void tls_conn_free(SSL *ssl)
{
	SSL_free(ssl);
}

enum tls_alpn tls_conn_alpn(const SSL *ssl)
{
	const unsigned char *p = NULL;
	unsigned len = 0;

	SSL_get0_alpn_selected(ssl, &p, &len);
	if (!p || len == 0)
		return TLS_ALPN_NONE;
	if (len == 2 && !memcmp(p, "h2", 2))
		return TLS_ALPN_H2;
	if (len == 8 && !memcmp(p, "http/1.1", 8))
		return TLS_ALPN_HTTP1;
	if (len == 10 && !memcmp(p, "acme-tls/1", 10))
		return TLS_ALPN_ACME;
	return TLS_ALPN_OTHER;
}

const char *tls_conn_server_name(const SSL *ssl)
{
	return SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
}

bool tls_conn_resumed(const SSL *ssl)
{
	return SSL_session_reused(ssl) == 1;
}
