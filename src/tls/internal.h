/* internal.h - state shared by the files of src/tls (not for other modules).
 */
#ifndef POSTERN_TLS_INTERNAL_H
#define POSTERN_TLS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "core/loop.h"
#include "tls/cert.h"
#include "tls/tls.h"

#define TLS_ALPN_WIRE_MAX 256		/* our ALPN list, wire format */
#define TLS_TICKET_KEYS_MAX 8		/* current + retired */
#define TLS_POLICY_CIPHERS                                              \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"    \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"    \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_POLICY_GROUPS "X25519:P-256"

/* One ticket key: a public name (in the ticket) and two secrets. */
struct tls_ticket_key {
	uint8_t name[16];
	uint8_t aes[32];
	uint8_t hmac[32];
};

/* The server's key ring; keys[0] encrypts, all decrypt. */
struct tls_tickets {
	pthread_rwlock_t lock;
	struct tls_ticket_key keys[TLS_TICKET_KEYS_MAX];
	size_t n;		/* keys in use */
	size_t keep;		/* retired keys kept after a rotation */
	EVP_CIPHER *aes;	/* AES-256-CBC, fetched once */
	EVP_MD *sha256;		/* the tickets' HMAC digest, fetched once */
};

/* An OCSP staple cached in a certificate. */
struct tls_staple {
	pthread_mutex_t lock;
	unsigned char *der;	/* OCSPResponse, malloc'd */
	size_t len;
	time_t expires;		/* nextUpdate (or fetch + default) */
	time_t refresh_at;	/* when the next fetch is due */
};

struct tls_cert {
	SSL_CTX *ctx;		/* owns this struct: see cert.c */
	struct tls_server *srv;
	X509 *leaf;		/* borrowed from ctx */
	X509 *issuer;		/* up-ref'd; NULL when the chain stops */
	char **names;		/* lower case */
	size_t n_names;
	uint8_t sha256[32];
	time_t not_after;
	bool self_signed;
	char *ocsp_url;
	struct tls_staple staple;
};

struct tls_certset_name {
	const char *name;	/* borrowed from the certificate */
	struct tls_cert *cert;
	unsigned order;		/* insertion order, for a stable sort */
};

struct tls_certset {
	atomic_uint refs;
	struct tls_server *srv;
	struct tls_cert **certs;
	size_t n, cap;
	struct tls_certset_name *index;	/* sorted, one per name */
	size_t n_index;
	struct tls_cert *def;
	bool frozen;		/* installed: no more additions */
};

struct tls_server {
	SSL_CTX *base;		/* SSL_new() from here; no certificate */
	uint8_t alpn[TLS_ALPN_WIRE_MAX];	/* wire format */
	size_t alpn_len;
	struct tls_opts opts;	/* strings below are copies we own */
	char *ciphers, *ciphersuites, *groups;
	char *cert_dir, *cert_default, *selfsigned_name;
	uint64_t ticket_lifetime_s;

	pthread_mutex_t set_lock;	/* guards `set` (load + ref) */
	struct tls_certset *set;
	pthread_mutex_t install_lock;	/* serializes read-copy-install */
	pthread_mutex_t ss_lock;	/* guards `selfsigned` */
	struct tls_cert *selfsigned;	/* in-memory fallback, kept */

	struct tls_tickets tickets;

	tls_alpn_challenge_fn *challenge_fn;
	void *challenge_arg;

	struct loop *loop;	/* control loop, when timers run */
	struct loop_timer ticket_timer, ocsp_timer;

	_Atomic uint64_t st_handshakes, st_resumed, st_failed,
		st_sni_default, st_acme;
};

/* ex_data indices (created once). */
int tls_exdata_server(void);	/* SSL_CTX -> struct tls_server */
int tls_exdata_cert(void);	/* SSL_CTX -> struct tls_cert (owned) */
int tls_exdata_acme(void);	/* SSL -> non-NULL on challenge conns */

/* Applies the server's policy to a fresh SSL_CTX (versions, suites,
 * groups, options, callbacks). Returns 0 or -1 with err. */
int tls_server_ctx_policy(struct tls_server *srv, SSL_CTX *ctx, char *err,
			  size_t errlen);

/* server.c: the struct tls_server of a context (from ex_data). */
struct tls_server *tls_server_of_ctx(SSL_CTX *ctx);

/* cert.c */
int tls_cert_load(struct tls_server *srv, const char *chain_pem,
		  size_t chain_len, const char *key_pem, size_t key_len,
		  struct tls_cert **out, char *err, size_t errlen);
struct tls_cert *tls_cert_of_ctx(SSL_CTX *ctx);

/* certset.c: sorts and deduplicates the index; called at install. */
int tls_certset_freeze(struct tls_certset *set);

/* certdir.c: a self-signed certificate for `name`, added to `set` and,
 * when `dir` is set, written there. Returns 0 or -1 with err. */
int tls_certdir_selfsigned(struct tls_certset *set, const char *dir,
			   const char *name, char *err, size_t errlen);

/* hello.c: the callbacks set on every context. */
int tls_hello_client_hello_cb(SSL *ssl, int *al, void *arg);
int tls_hello_servername_cb(SSL *ssl, int *al, void *arg);
int tls_hello_alpn_select_cb(SSL *ssl, const unsigned char **out,
			     unsigned char *outlen, const unsigned char *in,
			     unsigned int inlen, void *arg);
/* Untrusted-bytes parsers (fuzzed). See hello.c for contracts. */
int tls_hello_host_copy(const uint8_t *p, size_t len, char *out,
			size_t outlen);
int tls_hello_parse_sni(const uint8_t *p, size_t len, char *out,
			size_t outlen);
bool tls_hello_alpn_has(const uint8_t *list, size_t len, const char *proto,
			size_t plen);
int tls_hello_alpn_pick(const uint8_t *srv, size_t srv_len,
			const uint8_t *cli, size_t cli_len,
			const uint8_t **out, uint8_t *outlen);
/* Converts "h2,http/1.1" into wire format. Returns its length or -1. */
int tls_hello_alpn_wire(const char *list, uint8_t *out, size_t outlen);

/* ticket.c */
int tls_ticket_init(struct tls_tickets *t, uint64_t rotate_ns,
		    uint64_t lifetime_ns);
void tls_ticket_destroy(struct tls_tickets *t);
int tls_ticket_rotate(struct tls_tickets *t);
int tls_ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
		  EVP_CIPHER_CTX *ctx, HMAC_CTX *hctx, int enc);

/* ocsp.c */
int tls_ocsp_status_cb(SSL *ssl, void *arg);
void tls_staple_init(struct tls_staple *s);
void tls_staple_destroy(struct tls_staple *s);

/* Formats an error message with OpenSSL's first queued reason appended,
 * then clears the queue. Returns -1 for `return tls_err(...)`. */
int tls_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
