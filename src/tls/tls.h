/* tls.h - the hub's TLS server: policy, certificates, connections.
 *
 * One struct tls_server per hub, created at startup from struct tls_opts
 * and shared by every worker thread. It owns the TLS policy (TLS 1.2 and
 * 1.3 only, ECDHE+AEAD suites, X25519/P-256, server preference, no
 * renegotiation, no compression), the session ticket keys (rotated, in
 * memory only) and the live certificate set (struct tls_certset, see
 * tls/cert.h), which the control thread replaces atomically while traffic
 * flows.
 *
 * A worker accepts a socket and calls tls_server_conn_new() to get a
 * server-mode SSL bound to it; the first flight picks the certificate by
 * SNI (exact name, then a covering `*.` wildcard, then the set's default)
 * and the protocol by ALPN. The worker then drives the handshake and the
 * I/O with the non-blocking tls_conn_* wrappers below (or plain OpenSSL
 * calls, if it prefers; the wrappers only map OpenSSL's error states to
 * the project's return conventions).
 *
 * Thread rules: tls_server_new/free, tls_server_certset_install,
 * tls_server_tickets_rotate and the OCSP refresh (tls/ocsp.h) run on the
 * control thread; tls_server_conn_new and tls_conn_* run on any worker,
 * each SSL on one thread at a time. The server must outlive every SSL it
 * made. Nothing here logs key material. */
#ifndef POSTERN_TLS_TLS_H
#define POSTERN_TLS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

struct conf;
struct loop;
struct tls_certset;

#define TLS_ALPN_DEFAULT "h2,http/1.1"
#define TLS_TICKET_ROTATE_DEFAULT_NS (12ULL * 3600 * 1000000000ULL)
#define TLS_TICKET_LIFETIME_DEFAULT_NS (12ULL * 3600 * 1000000000ULL)
#define TLS_CONF_NAME_MAX 256

/* Settings of the server. tls_server_new() copies what it keeps; the
 * strings need only live for that call. */
struct tls_opts {
	/* ALPN protocols in server preference order, comma separated.
	 * NULL = TLS_ALPN_DEFAULT. `acme-tls/1` is never listed here: it is
	 * negotiated only through the challenge hook. */
	const char *alpn;
	bool tickets;			/* stateless session tickets (on) */
	uint64_t ticket_rotate_ns;	/* a new ticket key every ... (12 h) */
	uint64_t ticket_lifetime_ns;	/* a ticket resumes for ... (12 h);
					 * retired keys decrypt this long */
	bool ocsp_stapling;		/* staple when the cert names a responder */
	/* Advanced overrides; NULL keeps the policy. */
	const char *ciphers;		/* TLS 1.2 list (policy: ECDHE+AEAD) */
	const char *ciphersuites;	/* TLS 1.3 list (OpenSSL's defaults) */
	const char *groups;		/* "X25519:P-256" */
	/* File-based certificates (before the store exists):
	 * cert_dir holds NAME.crt (leaf first, then the chain) + NAME.key
	 * pairs; cert_default names the certificate (by one of its names)
	 * served to clients without SNI or with an unknown name (default:
	 * the first file in name order); selfsigned_name, when the directory
	 * has no certificate for it, gets a self-signed one generated and
	 * written to the directory (key mode 0600) so it survives restarts. */
	const char *cert_dir;
	const char *cert_default;
	const char *selfsigned_name;
};

/* Fills the defaults shown above. */
void tls_opts_default(struct tls_opts *o);

/* The [tls] section of a config file, with its own storage (so a config
 * struct embedding it may be copied freely). */
struct tls_conf {
	char alpn[256];
	char ciphers[1024];
	char ciphersuites[512];
	char groups[256];
	char cert_dir[512];
	char cert_default[TLS_CONF_NAME_MAX];
	char selfsigned_name[TLS_CONF_NAME_MAX];
	bool tickets, ocsp_stapling;
	uint64_t ticket_rotate_ns, ticket_lifetime_ns;
};

/* The defaults (empty strings = the policy's values). */
void tls_conf_default(struct tls_conf *tc);

/* Reads the [`section`] keys (docs/configuration.md, "TLS"): alpn,
 * tickets, ticket_rotate, ticket_lifetime, ocsp_stapling, ciphers,
 * ciphersuites, groups, cert_dir, cert_default, selfsigned_name.
 * Absent keys keep their value. Returns 0, or -1 with "FILE:LINE: ..."
 * (or "[section] key: ...") in err. */
int tls_conf_read(struct tls_conf *tc, struct conf *c, const char *section,
		  char *err, size_t errlen);

/* Fills `o` from `tc`; strings point into `tc`. */
void tls_conf_opts(const struct tls_conf *tc, struct tls_opts *o);

struct tls_server;

/* Creates the server: validates the options, fetches the algorithms it
 * needs once, creates the first ticket key. No certificate yet: install a
 * set (or call tls_server_certs_reload) before accepting. Returns NULL
 * with a message in err. */
struct tls_server *tls_server_new(const struct tls_opts *o, char *err,
				  size_t errlen);
/* Frees the server, its live set and its ticket keys (wiped). Every SSL
 * made by it must have been freed. NULL is fine. */
void tls_server_free(struct tls_server *srv);

/* Makes `set` the live certificate set; ownership of `set` passes to the
 * server in every case. Handshakes that start afterwards use it; those
 * already past their ClientHello keep the certificate they got, and
 * established connections are untouched. The previous set is released
 * (freed once no handshake still reads it). Thread-safe. Returns 0, or
 * -EINVAL if the set was built for another server or is empty. */
int tls_server_certset_install(struct tls_server *srv,
			       struct tls_certset *set);

/* Returns a new reference to the live set (NULL when none yet); release
 * it with tls_certset_put(). Thread-safe. */
struct tls_certset *tls_server_certset_get(struct tls_server *srv);

/* Builds a set from the options' cert_dir (and self-signed fallback) and
 * installs it: the hub's reload path (SIGHUP). On any error the live set
 * stays as it was. Returns 0, or -1 with a message in err. */
int tls_server_certs_reload(struct tls_server *srv, char *err, size_t errlen);

/* Adds one certificate (PEM chain, leaf first, + PEM private key) to a
 * copy of the live set and installs the copy: certificates all of whose
 * names the new one carries are dropped (a renewal replaces its
 * predecessor). For the ACME client and the API's import. Concurrent
 * callers are serialized. The caller wipes key_pem. Returns 0, or -1 with
 * a message in err (the live set is unchanged). */
int tls_server_cert_upsert(struct tls_server *srv, const char *chain_pem,
			   size_t chain_len, const char *key_pem,
			   size_t key_len, char *err, size_t errlen);

/* ---- TLS-ALPN-01 (RFC 8737) hook ----
 * When a client offers ALPN `acme-tls/1` with an SNI name, the server
 * calls the hook (on the worker thread, during the ClientHello; it must
 * be quick, non-blocking and thread-safe). If it returns 1 with `*cert`
 * and `*key` set (new references, which the server takes over), that
 * self-signed challenge certificate is served and `acme-tls/1` is
 * negotiated; the worker sees TLS_ALPN_ACME and closes after the
 * handshake. If it returns 0 (no pending challenge for the name), the
 * handshake is refused with a no_application_protocol alert. */
typedef int tls_alpn_challenge_fn(void *arg, const char *name, X509 **cert,
				  EVP_PKEY **key);
/* Sets (or clears, with fn NULL) the hook. Call before workers accept. */
void tls_server_set_alpn_challenge(struct tls_server *srv,
				   tls_alpn_challenge_fn *fn, void *arg);

/* ---- session tickets ----
 * Tickets are encrypted with the newest key (AES-256-CBC + HMAC-SHA256,
 * the RFC 5077 layout OpenSSL uses); keys retired by rotation still
 * decrypt (and trigger a fresh ticket) while a ticket made with them may
 * live, then are wiped. Resets nothing else. Thread-safe; returns 0 or
 * -EIO (no randomness: the old keys stay). */
int tls_server_tickets_rotate(struct tls_server *srv);

/* Arms, on the control thread's loop, the ticket rotation timer and (when
 * stapling is on) the OCSP refresh timer (tls/ocsp.h). The OCSP refresh
 * blocks on the network for a few seconds at most: never arm these on a
 * worker loop. Returns 0 or -errno. */
int tls_server_timers_start(struct tls_server *srv, struct loop *loop);
/* Disarms both; safe if never started. Call before tls_server_free. */
void tls_server_timers_stop(struct tls_server *srv);

/* Counters since start (relaxed atomics; for metrics). */
struct tls_server_stats {
	uint64_t handshakes;		/* completed, full */
	uint64_t resumed;		/* completed, resumed from a ticket */
	uint64_t failed;		/* refused or broken handshakes */
	uint64_t sni_default;		/* served the default certificate */
	uint64_t acme_challenges;	/* served a TLS-ALPN-01 certificate */
};
void tls_server_stats_get(struct tls_server *srv, struct tls_server_stats *st);

/* ---- connections ---- */

/* Returns a new server-mode SSL reading and writing `fd` (which stays the
 * caller's to close after tls_conn_free), or NULL when out of memory.
 * With fd < 0 no BIO is attached (the caller sets one: tests, fuzzers).
 * The caller may use SSL_set_app_data (ex_data index 0) freely. */
SSL *tls_server_conn_new(struct tls_server *srv, int fd);

/* What a tls_conn_* call that returned -EAGAIN is waiting for. */
#define TLS_WANT_READ 1
#define TLS_WANT_WRITE 2

/* Drives the handshake. Returns 0 when it is complete, -EAGAIN when it
 * must wait for `*want`, -EPROTO when it failed (close the connection; a
 * debug log line says why and the alert, if any, has been queued). */
int tls_conn_handshake(SSL *ssl, int *want);

/* Reads decrypted bytes. Returns >0 bytes, 0 at the peer's end of stream
 * (close_notify, or a TCP close between records), -EAGAIN when it must
 * wait for `*want` (a read may need to write), or -EIO on failure.
 * Bytes OpenSSL holds (decrypted, or read ahead from the socket on a
 * server connection) do not wake epoll: keep reading until -EAGAIN (or
 * check tls_conn_has_pending) before waiting again. */
ssize_t tls_conn_read(SSL *ssl, void *buf, size_t len, int *want);

/* True when OpenSSL holds bytes of this connection that epoll will not
 * announce: decrypted data or undecrypted records read ahead. */
bool tls_conn_has_pending(const SSL *ssl);

/* Writes. Returns >0 bytes taken (all of them, or a part with partial
 * writes), -EAGAIN when it must wait for `*want`, or -EIO. After -EAGAIN
 * retry with the same bytes (the buffer may move; it may not shrink). */
ssize_t tls_conn_write(SSL *ssl, const void *buf, size_t len, int *want);

/* Queues our close_notify and tries once to send it; never waits.
 * Returns 0 (sent or not; the connection may be closed now) */
int tls_conn_shutdown(SSL *ssl);

/* Frees the SSL (not the fd). NULL is fine. */
void tls_conn_free(SSL *ssl);

enum tls_alpn {
	TLS_ALPN_NONE = 0,	/* no ALPN: HTTP/1.1 */
	TLS_ALPN_HTTP1,		/* "http/1.1" */
	TLS_ALPN_H2,		/* "h2" */
	TLS_ALPN_ACME,		/* "acme-tls/1": a validation; close after */
	TLS_ALPN_OTHER,		/* another protocol from opts.alpn */
	TLS_ALPN_MAX
};

/* The negotiated protocol (valid once the handshake is complete). */
enum tls_alpn tls_conn_alpn(const SSL *ssl);
/* The SNI host name the client sent (as sent), or NULL. */
const char *tls_conn_server_name(const SSL *ssl);
/* True when the handshake resumed a session. */
bool tls_conn_resumed(const SSL *ssl);

#endif
