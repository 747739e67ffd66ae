/* client.h - TLS client contexts for https upstreams.
 *
 * One struct tls_client per trust configuration (the system CA store, or
 * a CA file), created once and shared by every worker thread: the trust
 * store is parsed once, not per connection. Each upstream connection gets
 * its own SSL from tls_client_conn_new(), with SNI and, unless the route
 * opts out (self-signed upstreams), chain and host name verification.
 * Drive it with the tls_conn_* wrappers of tls/tls.h. */
#ifndef POSTERN_TLS_CLIENT_H
#define POSTERN_TLS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct tls_client;

/* Creates a client context trusting `ca_file` (PEM, one or more CAs), or
 * the system store when NULL. TLS 1.2 and 1.3, the same suites and groups
 * as the server, ALPN "http/1.1". Returns NULL with a message in err. */
struct tls_client *tls_client_new(const char *ca_file, char *err,
				  size_t errlen);
void tls_client_free(struct tls_client *c);

/* Returns a new client-mode SSL on `fd` (the caller's to close), or NULL.
 * `server_name` (a host name or an IP literal) is sent as SNI when it is a
 * name, and, when `verify` is true, is what the certificate must match;
 * the chain must lead to a trusted CA. `verify` false accepts any
 * certificate (self-signed upstreams; the route's explicit choice). */
SSL *tls_client_conn_new(struct tls_client *c, int fd,
			 const char *server_name, bool verify);

#endif
