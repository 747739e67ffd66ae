/* target_tls.h - TLS from the agent to an https target.
 *
 * Verification is on unless the route opted out (AGENT_F_TLS_NO_VERIFY):
 * the chain must lead to a CA in the system store (or SSL_CERT_FILE /
 * SSL_CERT_DIR), and the certificate must name the stream's TLS name, the
 * target host name, or (for an address target without a TLS name) the
 * address. TLS 1.2 minimum. */
#ifndef POSTERN_AGENT_TARGET_TLS_H
#define POSTERN_AGENT_TARGET_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/socket.h>

/* Returns a client context, or NULL (error logged). */
SSL_CTX *target_tls_ctx_new(void);
/* An SSL for a connected fd. `name` (SNI and verified name) may be NULL
 * for an address target, then `addr` is verified. Returns NULL on error. */
SSL *target_tls_new(SSL_CTX *ctx, int fd, const char *name,
		    const struct sockaddr *addr, bool verify);

#endif
