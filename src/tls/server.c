/* server.c - the TLS server: policy, live certificate set, connections. */
#define LOG_SUBSYS "tls"
/* SSL_CTX_set_tlsext_ticket_key_cb: see ticket.c for why. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "core/log.h"
#include "tls/internal.h"

static pthread_once_t exdata_once = PTHREAD_ONCE_INIT;
static int exdata_server_idx = -1, exdata_cert_idx = -1, exdata_acme_idx = -1;

/* Frees a certificate with the SSL_CTX that owns it: a handshake holding
 * the context (SSL_set_SSL_CTX takes a reference) keeps the certificate
 * and its staple alive, whatever happens to the sets. */
static void exdata_cert_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
			     int idx, long argl, void *argp)
{
	struct tls_cert *c = ptr;

	if (!c)
		return;
	for (size_t i = 0; i < c->n_names; i++)
		free(c->names[i]);
	free(c->names);
	X509_free(c->issuer);
	free(c->ocsp_url);
	tls_staple_destroy(&c->staple);
	free(c);
}

static void exdata_init(void)
{
	exdata_server_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	exdata_cert_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
						   exdata_cert_free);
	exdata_acme_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

int tls_exdata_server(void)
{
	pthread_once(&exdata_once, exdata_init);
	return exdata_server_idx;
}

int tls_exdata_cert(void)
{
	pthread_once(&exdata_once, exdata_init);
	return exdata_cert_idx;
}

int tls_exdata_acme(void)
{
	pthread_once(&exdata_once, exdata_init);
	return exdata_acme_idx;
}

struct tls_server *tls_server_of_ctx(SSL_CTX *ctx)
{
	return SSL_CTX_get_ex_data(ctx, tls_exdata_server());
}

int tls_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;
	unsigned long e = ERR_peek_last_error();

	va_start(ap, fmt);
	n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (e && n >= 0 && (size_t)n < errlen) {
		char why[256];

		ERR_error_string_n(e, why, sizeof(why));
		snprintf(err + n, errlen - (size_t)n, " (%s)", why);
	}
	ERR_clear_error();
	return -1;
}

/* The options every context of the server shares: a handshake switched to
 * a certificate's context must see exactly the policy it started with. */
static const uint64_t policy_options =
	SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA |
	SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
	SSL_OP_NO_TLSv1_1;

int tls_server_ctx_policy(struct tls_server *srv, SSL_CTX *ctx, char *err,
			  size_t errlen)
{
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION))
		return tls_err(err, errlen, "protocol versions");
	SSL_CTX_set_options(ctx, policy_options |
			    (srv->opts.tickets ? 0 : SSL_OP_NO_TICKET));
	/* Idle connections give their buffers back (memory per idle
	 * connection); writes may be partial and the buffer may move. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
			 SSL_MODE_ENABLE_PARTIAL_WRITE |
			 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* One read() takes whatever the socket holds instead of a record
	 * header and then its body: a handshake and a request cost about
	 * half the read syscalls. Bytes read ahead are invisible to epoll
	 * and to SSL_pending; readers check SSL_has_pending (tls.h). */
	SSL_CTX_set_read_ahead(ctx, 1);
	if (!SSL_CTX_set_cipher_list(ctx, srv->ciphers))
		return tls_err(err, errlen, "ciphers '%s'", srv->ciphers);
	if (!SSL_CTX_set_ciphersuites(ctx, srv->ciphersuites))
		return tls_err(err, errlen, "ciphersuites '%s'",
			       srv->ciphersuites);
	if (!SSL_CTX_set1_groups_list(ctx, srv->groups))
		return tls_err(err, errlen, "groups '%s'", srv->groups);
	/* Resumption is stateless (tickets) only: nothing per session is
	 * kept on the server, and TLS 1.3 tickets need no cache either. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_timeout(ctx, (long)srv->ticket_lifetime_s);
	if (srv->opts.tickets)
		SSL_CTX_set_tlsext_ticket_key_cb(ctx, tls_ticket_cb);
	else
		SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_client_hello_cb(ctx, tls_hello_client_hello_cb, srv);
	SSL_CTX_set_tlsext_servername_callback(ctx, tls_hello_servername_cb);
	SSL_CTX_set_tlsext_servername_arg(ctx, srv);
	SSL_CTX_set_alpn_select_cb(ctx, tls_hello_alpn_select_cb, srv);
	if (!SSL_CTX_set_ex_data(ctx, tls_exdata_server(), srv))
		return tls_err(err, errlen, "out of memory");
	return 0;
}

static int server_copy_opts(struct tls_server *srv, const struct tls_opts *o)
{
	srv->opts = *o;
	srv->ciphers = strdup(o->ciphers ? o->ciphers : TLS_POLICY_CIPHERS);
	srv->ciphersuites = strdup(o->ciphersuites ? o->ciphersuites :
				   OSSL_default_ciphersuites());
	srv->groups = strdup(o->groups ? o->groups : TLS_POLICY_GROUPS);
	srv->cert_dir = o->cert_dir ? strdup(o->cert_dir) : NULL;
	srv->cert_default = o->cert_default ? strdup(o->cert_default) : NULL;
	srv->selfsigned_name = o->selfsigned_name ?
		strdup(o->selfsigned_name) : NULL;
	srv->opts.cert_dir = srv->cert_dir;
	srv->opts.cert_default = srv->cert_default;
	srv->opts.selfsigned_name = srv->selfsigned_name;
	srv->opts.alpn = NULL;
	srv->opts.ciphers = srv->opts.ciphersuites = srv->opts.groups = NULL;
	if (!srv->ciphers || !srv->ciphersuites || !srv->groups ||
	    (o->cert_dir && !srv->cert_dir) ||
	    (o->cert_default && !srv->cert_default) ||
	    (o->selfsigned_name && !srv->selfsigned_name))
		return -1;
	return 0;
}

static int server_check_opts(const struct tls_opts *o, char *err,
			     size_t errlen)
{
	if (o->ticket_rotate_ns < 1000000000ULL ||
	    o->ticket_lifetime_ns < 1000000000ULL) {
		snprintf(err, errlen, "ticket rotation and lifetime must be "
			 "at least 1s");
		return -1;
	}
	/* Retired keys are kept for a lifetime: ceil(lifetime / rotate). */
	if ((o->ticket_lifetime_ns + o->ticket_rotate_ns - 1) /
	    o->ticket_rotate_ns > TLS_TICKET_KEYS_MAX - 1) {
		snprintf(err, errlen, "ticket lifetime may be at most %d "
			 "rotation periods", TLS_TICKET_KEYS_MAX - 1);
		return -1;
	}
	/* TLS 1.3 caps ticket lifetimes at 7 days (RFC 8446 4.6.1). */
	if (o->ticket_lifetime_ns > 7ULL * 86400 * 1000000000ULL) {
		snprintf(err, errlen, "ticket lifetime may be at most 7d");
		return -1;
	}
	return 0;
}

static int server_init(struct tls_server *srv, const struct tls_opts *o,
		       char *err, size_t errlen)
{
	int n = tls_hello_alpn_wire(o->alpn ? o->alpn : TLS_ALPN_DEFAULT,
				    srv->alpn, sizeof(srv->alpn));

	if (n < 0) {
		snprintf(err, errlen, "alpn: a comma-separated list of "
			 "protocol names (1-255 bytes each, not acme-tls/1)");
		return -1;
	}
	srv->alpn_len = (size_t)n;
	srv->ticket_lifetime_s = o->ticket_lifetime_ns / 1000000000ULL;
	if (server_copy_opts(srv, o) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (tls_ticket_init(&srv->tickets, o->ticket_rotate_ns,
			    o->ticket_lifetime_ns) < 0)
		return tls_err(err, errlen, "session ticket keys");
	srv->base = SSL_CTX_new_ex(NULL, NULL, TLS_server_method());
	if (!srv->base)
		return tls_err(err, errlen, "SSL_CTX_new");
	if (tls_server_ctx_policy(srv, srv->base, err, errlen) < 0)
		return -1;
	SSL_CTX_set_session_id_context(srv->base, (const uint8_t *)"postern",
				       7);
	return 0;
}

struct tls_server *tls_server_new(const struct tls_opts *o, char *err,
				  size_t errlen)
{
	struct tls_server *srv;

	if (server_check_opts(o, err, errlen) < 0)
		return NULL;
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&srv->set_lock, NULL);
	pthread_mutex_init(&srv->install_lock, NULL);
	pthread_mutex_init(&srv->ss_lock, NULL);
	loop_timer_init(&srv->ticket_timer, NULL, srv);
	loop_timer_init(&srv->ocsp_timer, NULL, srv);
	if (server_init(srv, o, err, errlen) < 0) {
		tls_server_free(srv);
		return NULL;
	}
	return srv;
}

void tls_server_free(struct tls_server *srv)
{
	if (!srv)
		return;
	tls_server_timers_stop(srv);
	tls_certset_put(srv->set);
	tls_cert_put(srv->selfsigned);
	SSL_CTX_free(srv->base);
	tls_ticket_destroy(&srv->tickets);
	pthread_mutex_destroy(&srv->set_lock);
	pthread_mutex_destroy(&srv->install_lock);
	pthread_mutex_destroy(&srv->ss_lock);
	free(srv->ciphers);
	free(srv->ciphersuites);
	free(srv->groups);
	free(srv->cert_dir);
	free(srv->cert_default);
	free(srv->selfsigned_name);
	free(srv);
}

int tls_server_certset_install(struct tls_server *srv, struct tls_certset *set)
{
	struct tls_certset *old;

	if (!set)
		return -EINVAL;
	if (set->srv != srv || set->n == 0) {
		tls_certset_put(set);
		return -EINVAL;
	}
	if (tls_certset_freeze(set) < 0) {
		tls_certset_put(set);
		return -ENOMEM;
	}
	pthread_mutex_lock(&srv->set_lock);
	old = srv->set;
	srv->set = set;
	pthread_mutex_unlock(&srv->set_lock);
	tls_certset_put(old);
	log_info("certificate set installed: %zu certificate(s)", set->n);
	return 0;
}

/* A mutex (not a lock-free pointer) guards the load + reference: the
 * critical section is two instructions, and it makes freeing the old set
 * on install safe without a grace period. */
struct tls_certset *tls_server_certset_get(struct tls_server *srv)
{
	struct tls_certset *set;

	pthread_mutex_lock(&srv->set_lock);
	set = srv->set;
	if (set)
		atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&srv->set_lock);
	return set;
}

void tls_server_set_alpn_challenge(struct tls_server *srv,
				   tls_alpn_challenge_fn *fn, void *arg)
{
	srv->challenge_arg = arg;
	srv->challenge_fn = fn;
}

int tls_server_tickets_rotate(struct tls_server *srv)
{
	return tls_ticket_rotate(&srv->tickets);
}

void tls_server_stats_get(struct tls_server *srv, struct tls_server_stats *st)
{
	st->handshakes = atomic_load_explicit(&srv->st_handshakes,
					      memory_order_relaxed);
	st->resumed = atomic_load_explicit(&srv->st_resumed,
					   memory_order_relaxed);
	st->failed = atomic_load_explicit(&srv->st_failed,
					  memory_order_relaxed);
	st->sni_default = atomic_load_explicit(&srv->st_sni_default,
					       memory_order_relaxed);
	st->acme_challenges = atomic_load_explicit(&srv->st_acme,
						   memory_order_relaxed);
}

SSL *tls_server_conn_new(struct tls_server *srv, int fd)
{
	SSL *ssl = SSL_new(srv->base);

	if (!ssl) {
		ERR_clear_error();
		return NULL;
	}
	if (fd >= 0 && !SSL_set_fd(ssl, fd)) {
		ERR_clear_error();
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}
