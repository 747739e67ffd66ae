/* acme_standalone.h - tiny HTTP-01 (:80) and TLS-ALPN-01 (:443)
 * responders for `postern acme issue --standalone`, when no hub front is
 * running (like certbot's standalone mode). They answer only from the
 * challenge store (acme_chall.h); everything else gets a 404 or a closed
 * handshake. Each runs on its own thread until stopped. */
#ifndef POSTERN_ACME_ACME_STANDALONE_H
#define POSTERN_ACME_ACME_STANDALONE_H

#include <pthread.h>
#include <stdbool.h>

struct acme_chall;

struct acme_standalone {
	struct acme_chall *chall;	/* what it answers from (the caller's) */
	int lfd;
	int stop_pipe[2];
	bool tls;
	pthread_t thread;
	bool running;
	void *ssl_ctx;	/* SSL_CTX * for the ALPN responder */
};

/* Listens on `addr` ("ip:port" or "[ip6]:port") and starts serving
 * HTTP-01 (`tls` false) or TLS-ALPN-01 (`tls` true) from `chall`, which
 * must outlive acme_standalone_stop. Returns 0 or -errno. */
int acme_standalone_start(struct acme_standalone *s, struct acme_chall *chall,
			  const char *addr, bool tls);
void acme_standalone_stop(struct acme_standalone *s);

#endif
