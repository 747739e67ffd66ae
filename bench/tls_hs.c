/* tls_hs.c - a TLS handshake load generator for bench/tls.sh.
 *
 *   tls_hs ADDR PORT SNI SECONDS CONCURRENCY full|resume 12|13
 *
 * Keeps CONCURRENCY connections in flight on one epoll loop; each one
 * connects, completes a handshake (offering a saved session in `resume`
 * mode), sends close_notify and closes. Prints one line:
 *   handshakes=N resumed=R errors=E seconds=S rate=N/S
 * The same client measures every server, so its own cost is a constant.
 * TLS 1.3 tickets are single-use in OpenSSL's client: each resumed
 * connection offers a fresh copy of the first ticket (decoded from DER),
 * as a client holding many tickets would. The certificate is not
 * verified (the servers are the test's own). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

struct slot {
	int fd;
	SSL *ssl;
};

static struct sockaddr_in addr;
static const char *sni;
static int resume, version;
static unsigned char *sess_der;
static int sess_len;
static long done, reused, errors;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int new_session_cb(SSL *ssl, SSL_SESSION *s)
{
	(void)ssl;
	if (!sess_der)
		sess_len = i2d_SSL_SESSION(s, &sess_der);
	return 0;
}

static SSL_CTX *client_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int v = version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;

	SSL_CTX_set_min_proto_version(ctx, v);
	SSL_CTX_set_max_proto_version(ctx, v);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set1_groups_list(ctx, "X25519:P-256");
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
				       SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	return ctx;
}

static void slot_close(struct slot *s, int ep)
{
	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
		close(s->fd);
		s->fd = -1;
	}
}

static int slot_open(struct slot *s, SSL_CTX *ctx, int ep)
{
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.ptr = s };
	int one = 1;

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (s->fd < 0)
		return -1;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 &&
	    errno != EINPROGRESS)
		return -1;
	s->ssl = SSL_new(ctx);
	SSL_set_fd(s->ssl, s->fd);
	SSL_set_tlsext_host_name(s->ssl, sni);
	if (resume && sess_der) {
		const unsigned char *p = sess_der;
		SSL_SESSION *copy = d2i_SSL_SESSION(NULL, &p, sess_len);

		SSL_set_session(s->ssl, copy);
		SSL_SESSION_free(copy);
	}
	SSL_set_connect_state(s->ssl);
	return epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
}

/* Advances one connection. Returns 1 when it finished (or failed). */
static int slot_step(struct slot *s, int ep)
{
	int r = SSL_do_handshake(s->ssl);
	struct epoll_event ev = { .data.ptr = s };
	char buf[256];

	if (r == 1) {
		/* Until the first ticket is kept, read the post-handshake
		 * messages (TLS 1.3 sends tickets after the handshake). */
		if (resume && !sess_der) {
			int n = SSL_read(s->ssl, buf, sizeof(buf));

			if (n <= 0 && SSL_get_error(s->ssl, n) ==
			    SSL_ERROR_WANT_READ && !sess_der) {
				ev.events = EPOLLIN;
				epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
				return 0;
			}
		}
		done++;
		reused += SSL_session_reused(s->ssl);
		SSL_shutdown(s->ssl);
		return 1;
	}
	switch (SSL_get_error(s->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		ev.events = EPOLLIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		ev.events = EPOLLOUT;
		break;
	default:
		errors++;
		ERR_clear_error();
		return 1;
	}
	epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
	return 0;
}

int main(int argc, char **argv)
{
	double secs, start, end;
	int conc, ep;
	struct slot *slots;
	SSL_CTX *ctx;
	struct epoll_event evs[256];

	if (argc != 8) {
		fprintf(stderr, "usage: tls_hs ADDR PORT SNI SECONDS "
			"CONCURRENCY full|resume 12|13\n");
		return 2;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &addr.sin_addr);
	sni = argv[3];
	secs = atof(argv[4]);
	conc = atoi(argv[5]);
	resume = !strcmp(argv[6], "resume");
	version = atoi(argv[7]);
	ctx = client_ctx();
	ep = epoll_create1(0);
	slots = calloc((size_t)conc, sizeof(*slots));
	/* In resume mode, one connection first fetches the ticket. */
	for (int i = 0; i < (resume ? 1 : conc); i++)
		if (slot_open(&slots[i], ctx, ep) < 0)
			errors++;
	for (int i = resume ? 1 : conc; i < conc; i++)
		slots[i].fd = -1;
	start = now();
	end = start + secs;
	while (now() < end) {
		int n = epoll_wait(ep, evs, 256, 100);

		for (int i = 0; i < n; i++) {
			struct slot *s = evs[i].data.ptr;

			if (slot_step(s, ep)) {
				slot_close(s, ep);
				if (slot_open(s, ctx, ep) < 0)
					errors++;
			}
		}
		/* The ticket arrived: fill the other slots. */
		for (int i = 1; resume && sess_der && i < conc; i++)
			if (slots[i].fd < 0 && slot_open(&slots[i], ctx, ep) < 0)
				errors++;
	}
	secs = now() - start;
	printf("handshakes=%ld resumed=%ld errors=%ld seconds=%.2f rate=%.0f\n",
	       done, reused, errors, secs, (double)done / secs);
	return errors > done / 100 ? 1 : 0;
}
