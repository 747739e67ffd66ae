/* acme_standalone.c - blocking one-connection-at-a-time responders. Only
 * a CA's validation requests come here, a handful per order. */
#define LOG_SUBSYS "acme"
#include "acme/acme_standalone.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "acme/acme_chall.h"
#include "acme/dns_query.h"
#include "core/accept.h"
#include "core/log.h"
#include "core/secure.h"
#include "tls/tls.h"

#define SA_REQ_MAX 4096
#define SA_IO_MS 5000

static int sa_wait(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };

	return poll(&p, 1, SA_IO_MS) == 1 ? 0 : -ETIMEDOUT;
}

/* Reads a request head; answers from the store; closes. */
static void sa_http(struct acme_chall *chall, int fd)
{
	char req[SA_REQ_MAX + 1], body[1024], resp[1300];
	size_t n = 0;
	long bl;
	char *sp1, *sp2;

	while (n < SA_REQ_MAX && !memmem(req, n, "\r\n\r\n", 4)) {
		if (sa_wait(fd, POLLIN))
			return;
		ssize_t r = recv(fd, req + n, SA_REQ_MAX - n, 0);
		if (r <= 0)
			return;
		n += (size_t)r;
	}
	req[n] = 0;
	sp1 = memchr(req, ' ', n);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - req)) : NULL;
	if (!sp1 || !sp2 || strncmp(req, "GET ", 4))
		bl = -ENOENT;
	else
		bl = acme_chall_http_lookup(chall, sp1 + 1, (size_t)(sp2 - sp1 - 1),
					    body, sizeof(body));
	if (bl > 0)
		n = (size_t)snprintf(resp, sizeof(resp),
				     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				     "Content-Length: %ld\r\nConnection: close\r\n\r\n%s",
				     bl, body);
	else
		n = (size_t)snprintf(resp, sizeof(resp),
				     "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
				     "Connection: close\r\n\r\n");
	log_debug("http-01 standalone: %.*s -> %s", sp2 && sp1 ? (int)(sp2 - sp1 - 1) : 0,
		  sp1 ? sp1 + 1 : "", bl > 0 ? "200" : "404");
	send(fd, resp, n, MSG_NOSIGNAL);
}

static int sa_alpn_select(SSL *ssl, const unsigned char **out,
			  unsigned char *outlen, const unsigned char *in,
			  unsigned inlen, void *arg)
{
	static const unsigned char proto[] = "\x0a" ACME_ALPN_PROTO;

	if (SSL_select_next_proto((unsigned char **)out, outlen, proto,
				  sizeof(proto) - 1, in, inlen) ==
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_OK;
	return SSL_TLSEXT_ERR_ALERT_FATAL;	/* RFC 8737 s3: acme-tls/1 only */
}

/* SNI: loads the validation certificate for the requested name (arg:
 * the challenge store). */
static int sa_sni(SSL *ssl, int *alert, void *arg)
{
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	char *cert = NULL, *key = NULL;
	int rc = SSL_TLSEXT_ERR_ALERT_FATAL;

	if (!name || acme_chall_alpn_get(arg, name, &cert, &key))
		return rc;
	BIO *cb = BIO_new_mem_buf(cert, -1), *kb = BIO_new_mem_buf(key, -1);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	if (x && k && SSL_use_certificate(ssl, x) == 1 &&
	    SSL_use_PrivateKey(ssl, k) == 1)
		rc = SSL_TLSEXT_ERR_OK;
	X509_free(x);
	EVP_PKEY_free(k);
	BIO_free(cb);
	BIO_free(kb);
	free(cert);
	secure_free(key, strlen(key));
	return rc;
}

static void sa_tls(struct acme_standalone *s, int fd)
{
	SSL *ssl = SSL_new(s->ssl_ctx);
	int want, rc;

	if (!ssl)
		return;
	SSL_set_fd(ssl, fd);
	SSL_set_accept_state(ssl);
	while ((rc = tls_conn_handshake(ssl, &want)) == -EAGAIN &&
	       sa_wait(fd, want == TLS_WANT_READ ? POLLIN : POLLOUT) == 0)
		;
	log_debug("tls-alpn-01 standalone: handshake %s", rc == 0 ? "done" : "failed");
	tls_conn_shutdown(ssl);
	tls_conn_free(ssl);
}

static void *sa_main(void *arg)
{
	struct acme_standalone *s = arg;
	struct pollfd p[2] = { { .fd = s->lfd, .events = POLLIN },
			       { .fd = s->stop_pipe[0], .events = POLLIN } };

	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			/* Out of descriptors the connection stays in the
			 * backlog and poll reports it again at once: wait a
			 * moment (for the stop pipe alone) instead of spinning. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				poll(&p[1], 1, (int)(ACCEPT_BACKOFF_MIN / NSEC_PER_MSEC));
			continue;
		}
		if (s->tls)
			sa_tls(s, fd);
		else
			sa_http(s->chall, fd);
		close(fd);
	}
	return NULL;
}

static int sa_tls_ctx(struct acme_standalone *s)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_alpn_select_cb(ctx, sa_alpn_select, NULL);
	SSL_CTX_set_tlsext_servername_callback(ctx, sa_sni);
	SSL_CTX_set_tlsext_servername_arg(ctx, s->chall);
	s->ssl_ctx = ctx;
	return 0;
}

int acme_standalone_start(struct acme_standalone *s, struct acme_chall *chall,
			  const char *addr, bool tls)
{
	struct sockaddr_storage sa;
	unsigned salen;
	int one = 1, rc;

	memset(s, 0, sizeof(*s));
	s->chall = chall;
	s->lfd = -1;
	s->tls = tls;
	if (dns_server_parse(addr, &sa, &salen))
		return -EINVAL;
	if (pipe2(s->stop_pipe, O_CLOEXEC))
		return -errno;
	s->lfd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 ||
	    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->lfd, (struct sockaddr *)&sa, salen) || listen(s->lfd, 16)) {
		rc = -errno;
		goto fail;
	}
	if (tls && (rc = sa_tls_ctx(s)))
		goto fail;
	if ((rc = -pthread_create(&s->thread, NULL, sa_main, s)))
		goto fail;
	s->running = true;
	log_info("standalone %s responder on %s", tls ? "tls-alpn-01" : "http-01", addr);
	return 0;
fail:
	acme_standalone_stop(s);
	return rc;
}

void acme_standalone_stop(struct acme_standalone *s)
{
	if (s->running) {
		if (write(s->stop_pipe[1], "x", 1) < 0)
			log_warn("standalone stop: %s", strerror(errno));
		pthread_join(s->thread, NULL);
		s->running = false;
	}
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->stop_pipe[0] > 0) {
		close(s->stop_pipe[0]);
		close(s->stop_pipe[1]);
	}
	SSL_CTX_free(s->ssl_ctx);
	memset(s, 0, sizeof(*s));
	s->lfd = -1;
}
