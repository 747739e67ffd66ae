/* test_tls_tickets.c - session resumption with rotating ticket keys. */
#include <pthread.h>

#include "unit.h"
#include "core/log.h"
#include "tls_test.h"

/* A server (options `o`, NULL for the defaults) with certificates for
 * a.example.com and b.example.com, a client for TLS versions [minv, maxv],
 * and the session `s` of the client's first connection, once made. */
struct fixture {
	struct tls_server *srv;
	SSL_CTX *c;
	SSL_SESSION *s;
	struct tt_pem pa, pb;
	struct tls_cert *a, *b;
};

static void fixture_init(struct fixture *f, const struct tls_opts *o, int minv, int maxv)
{
	struct tls_certset *set;

	f->srv = tt_server(o);
	f->c = tt_client_ctx(minv, maxv, NULL, 0, NULL);
	f->s = NULL;
	f->pa = tt_selfsigned("a.example.com", NULL);
	f->pb = tt_selfsigned("b.example.com", NULL);
	set = tls_certset_new(f->srv);
	f->a = tt_add(set, &f->pa);
	f->b = tt_add(set, &f->pb);
	CHECK_EQ_INT(tls_server_certset_install(f->srv, set), 0);
}

static void fixture_free(struct fixture *f)
{
	SSL_SESSION_free(f->s);
	SSL_CTX_free(f->c);
	tls_server_free(f->srv);
	tt_pem_free(&f->pa);
	tt_pem_free(&f->pb);
}

/* One connection: handshake (offering `sess`), an echo (which brings the
 * TLS 1.3 tickets in). Returns 1 resumed, 0 full, -1 failure; *out gets
 * the client's session for the next connection. */
/* A fresh copy of a session: OpenSSL's TLS 1.3 client uses a ticket once
 * (then marks the object spent), so each test connection offers a copy,
 * as a client holding several tickets (or a replay) would. */
static SSL_SESSION *session_copy(SSL_SESSION *s)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	int n = s ? i2d_SSL_SESSION(s, &der) : 0;
	SSL_SESSION *copy;

	if (n <= 0)
		return NULL;
	p = der;
	copy = d2i_SSL_SESSION(NULL, &p, n);
	OPENSSL_free(der);
	return copy;
}

static int connect_once(struct fixture *f, SSL_CTX *c, const char *sni,
			SSL_SESSION *sess, SSL_SESSION **out)
{
	SSL_SESSION *copy = session_copy(sess);
	struct tt_conn t = tt_conn_new(f->srv, c, sni, copy);
	int ret = -1;

	SSL_SESSION_free(copy);	/* the SSL holds its own reference */

	if (tt_handshake(&t) && tt_echo(&t, "hello")) {
		ret = tls_conn_resumed(t.s) ? 1 : 0;
		/* Both ends agree on it. */
		if ((SSL_session_reused(t.c) == 1) != (ret == 1))
			ret = -1;
		if (out)
			*out = SSL_get1_session(t.c);
	}
	tt_conn_free(&t);
	return ret;
}

/* The client's first connection, to a.example.com: a full handshake whose
 * session goes to f->s. */
static void first_connect(struct fixture *f)
{
	CHECK_EQ_INT(connect_once(f, f->c, "a.example.com", NULL, &f->s), 0);
}

static void resume_and_rotate(int version)
{
	struct fixture f;
	SSL_CTX *c;
	SSL_SESSION *s0, *s1 = NULL, *s2 = NULL;
	struct tls_server_stats st;

	fixture_init(&f, NULL, version, version);	/* 12 h rotation, 12 h lifetime: keep 1 */
	c = f.c;
	first_connect(&f);
	s0 = f.s;
	CHECK(s0 && SSL_SESSION_has_ticket(s0));
	/* Same key: resumed. */
	CHECK_EQ_INT(connect_once(&f, c, "a.example.com", s0, &s1), 1);
	/* One rotation: the retired key still decrypts (and a fresh ticket
	 * under the new key is issued). */
	CHECK_EQ_INT(tls_server_tickets_rotate(f.srv), 0);
	CHECK_EQ_INT(connect_once(&f, c, "a.example.com", s0, &s2), 1);
	/* Another rotation: s0's key is gone -> full handshake; s2 (made
	 * under the key of the first rotation) still resumes. */
	CHECK_EQ_INT(tls_server_tickets_rotate(f.srv), 0);
	CHECK_EQ_INT(connect_once(&f, c, "a.example.com", s0, NULL), 0);
	CHECK_EQ_INT(connect_once(&f, c, "a.example.com", s2, NULL), 1);
	tls_server_stats_get(f.srv, &st);
	CHECK_EQ_U64(st.resumed, 3);
	CHECK_EQ_U64(st.handshakes, 2);
	SSL_SESSION_free(s1);
	SSL_SESSION_free(s2);
	fixture_free(&f);
}

TEST(tickets_tls13)
{
	resume_and_rotate(TLS1_3_VERSION);
}

TEST(tickets_tls12)
{
	resume_and_rotate(TLS1_2_VERSION);
}

/* A TLS 1.3 client offers the session of its last connection, whose
 * ticket it has not used yet: each resumed handshake must hand out a fresh
 * ticket, or every other connection is a full handshake (wrk in
 * bench/proxy.sh made half of nginx's handshakes/s that way). */
TEST(tickets_tls13_renewed_on_resumption)
{
	struct fixture f;
	SSL_SESSION *s = NULL, *next;
	struct tls_server_stats st;

	fixture_init(&f, NULL, TLS1_3_VERSION, TLS1_3_VERSION);
	for (int i = 0; i < 4; i++) {
		struct tt_conn t = tt_conn_new(f.srv, f.c, "a.example.com", s);

		CHECK(tt_handshake(&t) && tt_echo(&t, "hello"));
		CHECK_EQ_INT(tls_conn_resumed(t.s) ? 1 : 0, i > 0);
		next = SSL_get1_session(t.c);
		CHECK(next && next != s && SSL_SESSION_is_resumable(next));
		tt_conn_free(&t);
		SSL_SESSION_free(s);
		s = next;
	}
	tls_server_stats_get(f.srv, &st);
	CHECK_EQ_U64(st.handshakes, 1);
	CHECK_EQ_U64(st.resumed, 3);
	SSL_SESSION_free(s);
	fixture_free(&f);
}

/* A session made with one certificate does not resume on another. */
TEST(tickets_bound_to_certificate)
{
	struct fixture f;

	fixture_init(&f, NULL, TLS1_2_VERSION, TLS1_3_VERSION);
	first_connect(&f);
	CHECK_EQ_INT(connect_once(&f, f.c, "b.example.com", f.s, NULL), 0);
	CHECK_EQ_INT(connect_once(&f, f.c, "a.example.com", f.s, NULL), 1);
	fixture_free(&f);
}

TEST(tickets_keep_follows_lifetime)
{
	struct tls_opts o;
	struct fixture f;
	char err[128];

	/* Rotation every hour, tickets live 3 hours: 3 retired keys. */
	tls_opts_default(&o);
	o.ticket_rotate_ns = 3600ULL * 1000000000ULL;
	o.ticket_lifetime_ns = 3 * o.ticket_rotate_ns;
	fixture_init(&f, &o, TLS1_3_VERSION, TLS1_3_VERSION);
	first_connect(&f);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(tls_server_tickets_rotate(f.srv), 0);
		CHECK_EQ_INT(connect_once(&f, f.c, "a.example.com", f.s, NULL), 1);
	}
	CHECK_EQ_INT(tls_server_tickets_rotate(f.srv), 0);
	CHECK_EQ_INT(connect_once(&f, f.c, "a.example.com", f.s, NULL), 0);
	fixture_free(&f);
	/* More retired keys than the ring holds: refused up front. */
	o.ticket_lifetime_ns = 100 * o.ticket_rotate_ns;
	CHECK(tls_server_new(&o, err, sizeof(err)) == NULL);
}

TEST(tickets_off)
{
	struct tls_opts o;
	struct fixture f;

	tls_opts_default(&o);
	o.tickets = false;
	fixture_init(&f, &o, TLS1_2_VERSION, TLS1_3_VERSION);
	first_connect(&f);
	CHECK_EQ_INT(connect_once(&f, f.c, "a.example.com", f.s, NULL), 0);
	fixture_free(&f);
}

/* Workers resume while the control thread rotates: no failure, and the
 * key ring is never seen half-written (run under ASan/TSan). */
struct worker {
	struct fixture *f;
	SSL_SESSION *sess;
	int ok, fail;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	SSL_CTX *c = tt_client_ctx(TLS1_3_VERSION, TLS1_3_VERSION, NULL, 0,
				   NULL);

	for (int i = 0; i < 40; i++) {
		SSL_SESSION *next = NULL;
		int r = connect_once(w->f, c, "a.example.com", w->sess, &next);

		if (r < 0)
			w->fail++;
		else
			w->ok++;
		SSL_SESSION_free(w->sess);
		w->sess = next;
	}
	SSL_SESSION_free(w->sess);
	SSL_CTX_free(c);
	return NULL;
}

TEST(tickets_threads)
{
	struct fixture f;
	struct worker w[2] = { { 0 }, { 0 } };
	pthread_t th[2];

	fixture_init(&f, NULL, TLS1_3_VERSION, TLS1_3_VERSION);
	for (int i = 0; i < 2; i++) {
		w[i].f = &f;
		pthread_create(&th[i], NULL, worker_run, &w[i]);
	}
	for (int i = 0; i < 50; i++)
		tls_server_tickets_rotate(f.srv);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ_INT(w[i].fail, 0);
		CHECK_EQ_INT(w[i].ok, 40);
	}
	fixture_free(&f);
}

int main(void)
{
	log_set_level(LOG_WARN);
	RUN(tickets_tls13);
	RUN(tickets_tls12);
	RUN(tickets_tls13_renewed_on_resumption);
	RUN(tickets_bound_to_certificate);
	RUN(tickets_keep_follows_lifetime);
	RUN(tickets_off);
	RUN(tickets_threads);
	return unit_done();
}
