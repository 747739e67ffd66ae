/* front_tls.c - TLS on downstream connections: the glue between the
 * hub's connections and snapshots and the TLS module (src/tls).
 *
 * One struct tls_server for the process, made from the [tls] section when
 * the first snapshot is built; each snapshot build (start, SIGHUP) loads
 * the certificates of its config ([cert.NAME] files, then [tls] cert_dir
 * and the self-signed fallback) into a new certificate set and installs
 * it, so new handshakes see it at once and established connections keep
 * theirs. The snapshot's `tls` is the server; TLS policy settings ([tls]
 * alpn, ciphers, tickets, ...) are fixed at start (a reload that changes
 * them is logged and ignored). The control loop runs the ticket rotation
 * and OCSP refresh timers. */
#define LOG_SUBSYS "front"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "acme/acme_chall.h"
#include "core/log.h"
#include "front/conn.h"
#include "front/front_ctx.h"
#include "front/front.h"
#include "front/snap.h"
#include "front/worker.h"
#include "tls/cert.h"
#include "tls/tls.h"

/* What a TLS connection carries besides its SSL: the direction a pending
 * operation waits for, and a zero-delay timer that reruns the read path
 * when OpenSSL holds decrypted bytes epoll cannot see. */
struct conn_tls {
	SSL *ssl;
	int hs_want;		/* handshake: TLS_WANT_READ/WRITE */
	bool read_wants_write;	/* a read needs the socket writable */
	struct loop_timer kick;
	struct conn *c;
};

/* ---- the control side ---- */

/* The policy part of a [tls] section (what needs a restart). */
static bool front_tls_policy_same(const struct tls_conf *a,
				  const struct tls_conf *b)
{
	return !strcmp(a->alpn, b->alpn) && !strcmp(a->ciphers, b->ciphers) &&
	       !strcmp(a->ciphersuites, b->ciphersuites) &&
	       !strcmp(a->groups, b->groups) && a->tickets == b->tickets &&
	       a->ocsp_stapling == b->ocsp_stapling &&
	       a->ticket_rotate_ns == b->ticket_rotate_ns &&
	       a->ticket_lifetime_ns == b->ticket_lifetime_ns;
}

static struct tls_server *front_tls_server(struct front_ctx *fc,
					   const struct tls_conf *tc,
					   char *err, size_t errlen)
{
	struct tls_opts o;

	if (fc->tls_srv) {
		if (!front_tls_policy_same(tc, &fc->tls_conf))
			log_warn("reload: [tls] policy changes need a restart "
				 "(certificates are reloaded)");
		return fc->tls_srv;
	}
	tls_conf_opts(tc, &o);
	if (!o.alpn)
		o.alpn = FRONT_ALPN_DEFAULT;
	fc->tls_srv = tls_server_new(&o, err, errlen);
	if (fc->tls_srv) {
		fc->tls_conf = *tc;
		/* TLS-ALPN-01 answers come from the ACME challenge store. */
		tls_server_set_alpn_challenge(fc->tls_srv, acme_chall_tls_hook,
					      &fc->acme_chall);
	}
	return fc->tls_srv;
}

static void front_tls_snap_free(void *tls)
{
	(void)tls;	/* the server lives until front_tls_cleanup */
}

void *front_tls_build(struct front_ctx *fc, const struct tls_conf *tc,
		      const struct front_cert *certs, unsigned ncerts,
		      void (**free_fn)(void *), char *err, size_t errlen)
{
	struct tls_server *srv = front_tls_server(fc, tc, err, errlen);
	struct tls_certset *set;

	if (!srv)
		return NULL;
	set = tls_certset_new(srv);
	if (!set) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (unsigned i = 0; i < ncerts; i++)
		if (tls_certset_add_files(set, certs[i].cert, certs[i].key, err,
					  errlen) < 0)
			goto fail;
	/* Certificates managed through the admin API (the hub's store). */
	if (fc->ops && fc->ops->tls_certs)
		fc->ops->tls_certs(fc->owner, set);
	if (tls_certset_fill(set, tc->cert_dir[0] ? tc->cert_dir : NULL,
			     tc->selfsigned_name[0] ? tc->selfsigned_name : NULL,
			     tc->cert_default[0] ? tc->cert_default : NULL, err,
			     errlen) < 0)
		goto fail;
	/* Certificates the owner makes for names nothing above covers. */
	if (fc->ops && fc->ops->tls_fallback_certs)
		fc->ops->tls_fallback_certs(fc->owner, srv, set);
	if (tls_server_certset_install(srv, set) < 0) {
		snprintf(err, errlen, "certificates: install failed");
		return NULL;
	}
	*free_fn = front_tls_snap_free;
	return srv;
fail:
	tls_certset_put(set);
	return NULL;
}

bool front_tls_join_pin(const struct front_ctx *fc, const char *hostname, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	struct tls_certset *set = fc->tls_srv ? tls_server_certset_get(fc->tls_srv) : NULL;
	struct tls_cert *cert;
	unsigned char *der = NULL, md[32];
	bool dflt, pin = false;
	int len;

	cert = set ? tls_certset_lookup(set, hostname, strlen(hostname), &dflt) : NULL;
	if (cert && tls_cert_self_signed(cert) &&
	    (len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(tls_cert_leaf(cert)), &der)) > 0 &&
	    SHA256(der, (size_t)len, md)) {
		for (int i = 0; i < 32; i++) {
			out[2 * i] = hex[md[i] >> 4];
			out[2 * i + 1] = hex[md[i] & 15];
		}
		out[64] = 0;
		pin = true;
	}
	OPENSSL_free(der);
	tls_certset_put(set);
	return pin;
}

int front_tls_control_start(struct front_ctx *fc, struct loop *loop)
{
	return fc->tls_srv ? tls_server_timers_start(fc->tls_srv, loop) : 0;
}

void front_tls_cleanup(struct front_ctx *fc)
{
	if (!fc->tls_srv)
		return;
	tls_server_timers_stop(fc->tls_srv);
	tls_server_free(fc->tls_srv);
	fc->tls_srv = NULL;
}

/* ---- connections (worker threads) ---- */

static struct conn_tls *front_tls_of(const struct conn *c)
{
	return c->tls;
}

/* Reruns the read path: OpenSSL holds bytes (decrypted or read ahead)
 * that no epoll event will announce. */
static void front_tls_kick(struct loop_timer *t)
{
	struct conn_tls *ct = t->data;
	struct conn *c = ct->c;

	c->io.cb(&c->io, LOOP_READ);
}

static int front_tls_start(struct conn *c)
{
	struct tls_server *srv = c->w->hold->snap->tls;
	struct conn_tls *ct;

	if (!srv)
		return -EPROTONOSUPPORT;
	ct = calloc(1, sizeof(*ct));
	if (!ct)
		return -ENOMEM;
	ct->ssl = tls_server_conn_new(srv, c->fd);
	if (!ct->ssl) {
		free(ct);
		return -ENOMEM;
	}
	ct->c = c;
	ct->hs_want = TLS_WANT_READ;
	loop_timer_init(&ct->kick, front_tls_kick, ct);
	c->tls = ct;
	c->tls_done = false;
	return 0;
}

/* The handshake just completed: pick the protocol. Returns false when the
 * connection was closed. */
static bool front_tls_established(struct conn *c, struct conn_tls *ct)
{
	c->tls_done = true;
	switch (tls_conn_alpn(ct->ssl)) {
	case TLS_ALPN_ACME:
		/* A TLS-ALPN-01 validation: the handshake was the answer. */
		tls_conn_shutdown(ct->ssl);
		conn_close(c);
		return false;
	case TLS_ALPN_H2:
		if (front_h2_start(c) < 0) {
			conn_close(c);
			return false;
		}
		return true;
	default:
		return true;
	}
}

static bool front_tls_ready(struct conn *c, uint32_t *events)
{
	struct conn_tls *ct = front_tls_of(c);
	int r;

	if (c->tls_done) {
		/* A read that needed the socket writable can go on now. */
		if (ct->read_wants_write && (*events & LOOP_WRITE)) {
			ct->read_wants_write = false;
			*events |= LOOP_READ;
		}
		return true;
	}
	r = tls_conn_handshake(ct->ssl, &ct->hs_want);
	if (r == -EAGAIN) {
		loop_io_mod(c->w->loop, &c->io,
			    ct->hs_want == TLS_WANT_WRITE ? LOOP_WRITE
							   : LOOP_READ);
		return false;
	}
	if (r < 0) {
		conn_close(c);
		return false;
	}
	if (!front_tls_established(c, ct))
		return false;
	/* The request may have come with the client's last flight. */
	*events |= LOOP_READ;
	return true;
}

static long front_tls_recv(struct conn *c, void *p, size_t n)
{
	struct conn_tls *ct = front_tls_of(c);
	int want;
	ssize_t r = tls_conn_read(ct->ssl, p, n, &want);

	if (r == -EAGAIN && want == TLS_WANT_WRITE)
		ct->read_wants_write = true;
	return r;
}

static long front_tls_send(struct conn *c, const void *p, size_t n)
{
	int want;

	return tls_conn_write(front_tls_of(c)->ssl, p, n, &want);
}

static bool front_tls_wants_write(const struct conn *c)
{
	const struct conn_tls *ct = front_tls_of(c);

	if (!ct)
		return false;
	if (!c->tls_done)
		return ct->hs_want == TLS_WANT_WRITE;
	return ct->read_wants_write;
}

static void front_tls_read_pending(struct conn *c)
{
	struct conn_tls *ct = front_tls_of(c);

	if (ct && c->tls_done && tls_conn_has_pending(ct->ssl) &&
	    !loop_timer_armed(&ct->kick))
		loop_timer_arm(c->w->loop, &ct->kick, 0);
}

static void front_tls_shutdown(struct conn *c)
{
	struct conn_tls *ct = front_tls_of(c);

	if (ct && c->tls_done)
		tls_conn_shutdown(ct->ssl);
}

static void front_tls_free(struct conn *c)
{
	struct conn_tls *ct = front_tls_of(c);

	if (!ct)
		return;
	loop_timer_disarm(c->w->loop, &ct->kick);
	tls_conn_free(ct->ssl);
	free(ct);
	c->tls = NULL;
}

const struct conn_xport front_tls_xport = {
	.start = front_tls_start,
	.ready = front_tls_ready,
	.recv = front_tls_recv,
	.send = front_tls_send,
	.read_pending = front_tls_read_pending,
	.wants_write = front_tls_wants_write,
	.shutdown = front_tls_shutdown,
	.closing = front_tls_free,
	.hello_first = true,
};
