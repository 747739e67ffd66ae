/* test_tls_server.c - SNI selection, versions, suites, ALPN, set swaps,
 * the TLS-ALPN-01 hook; handshakes over in-memory BIO pairs. */
#include <errno.h>

#include "unit.h"
#include "core/log.h"
#include "tls_test.h"

static const char h2_h1[] = "\x08http/1.1\x02h2";

/* A server with certificates for a.example.com, b.example.com,
 * *.example.com and default.test (the default), and a client for
 * TLS 1.2 and 1.3 without ALPN. */
struct fixture {
	struct tls_server *srv;
	SSL_CTX *c;
	struct tt_pem pa, pb, pw, pd;
	struct tls_cert *a, *b, *w, *d;
};

static void fixture_init(struct fixture *f)
{
	struct tls_certset *set;

	f->srv = tt_server(NULL);
	f->c = tt_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL, 0, NULL);
	f->pa = tt_selfsigned("a.example.com", NULL);
	f->pb = tt_selfsigned("b.example.com", "www.b.example.com");
	f->pw = tt_selfsigned("*.example.com", NULL);
	f->pd = tt_selfsigned("default.test", NULL);
	set = tls_certset_new(f->srv);
	f->a = tt_add(set, &f->pa);
	f->w = tt_add(set, &f->pw);
	f->b = tt_add(set, &f->pb);
	f->d = tt_add(set, &f->pd);
	CHECK_EQ_INT(tls_certset_set_default(set, "default.test"), 0);
	CHECK_EQ_INT(tls_server_certset_install(f->srv, set), 0);
}

static void fixture_free(struct fixture *f)
{
	struct tt_pem *pems[] = { &f->pa, &f->pb, &f->pw, &f->pd };

	tls_server_free(f->srv);
	SSL_CTX_free(f->c);
	for (size_t i = 0; i < UNIT_NCASES(pems); i++)
		tt_pem_free(pems[i]);
}

/* A name the client sends (NULL: no SNI) and the fixture's certificate it
 * must be served: 'a', 'b', 'w' (the wildcard) or 'd' (the default). */
struct sni_case {
	const char *sni;
	char want;
};

static const struct tls_cert *fixture_cert(const struct fixture *f, char which)
{
	switch (which) {
	case 'a': return f->a;
	case 'b': return f->b;
	case 'w': return f->w;
	default: return f->d;
	}
}

/* Checks every name of the list against the fixture's server. */
static void check_sni(struct fixture *f, const struct sni_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!tt_sni_gets(f->srv, f->c, cases[i].sni, fixture_cert(f, cases[i].want)))
			UNIT_FAIL("SNI \"%s\" did not get certificate '%c'",
				  cases[i].sni ? cases[i].sni : "(none)", cases[i].want);
}

TEST(sni_exact)
{
	static const struct sni_case cases[] = {
		{ "a.example.com", 'a' }, { "b.example.com", 'b' },
		{ "www.b.example.com", 'b' }, { "default.test", 'd' },
		/* Case-insensitive, and a trailing dot is the same name. */
		{ "B.Example.COM", 'b' }, { "b.example.com.", 'b' },
	};
	struct fixture f;

	fixture_init(&f);
	check_sni(&f, cases, UNIT_NCASES(cases));
	fixture_free(&f);
}

TEST(sni_wildcard_one_label)
{
	static const struct sni_case cases[] = {
		{ "x.example.com", 'w' }, { "ZZ.EXAMPLE.com", 'w' },
		/* An exact name beats the wildcard. */
		{ "a.example.com", 'a' },
		/* Exactly one label: neither the bare domain nor two labels. */
		{ "example.com", 'd' }, { "a.b.example.com", 'd' }, { "x.y.example.com", 'd' },
		/* Not a suffix match either. */
		{ "x.notexample.com", 'd' },
	};
	struct fixture f;

	fixture_init(&f);
	check_sni(&f, cases, UNIT_NCASES(cases));
	fixture_free(&f);
}

TEST(sni_default)
{
	static const struct sni_case cases[] = { { NULL, 'd' }, { "unknown.test", 'd' } };
	struct fixture f;
	struct tls_server_stats st;
	struct tls_certset *set;
	struct tt_pem p1, p2;
	struct tls_cert *first;

	fixture_init(&f);
	check_sni(&f, cases, UNIT_NCASES(cases));
	tls_server_stats_get(f.srv, &st);
	CHECK_EQ_U64(st.sni_default, 2);
	/* Without an explicit default, the first certificate added. */
	p1 = tt_selfsigned("one.test", NULL);
	p2 = tt_selfsigned("two.test", NULL);
	set = tls_certset_new(f.srv);
	first = tt_add(set, &p1);
	tt_add(set, &p2);
	CHECK_EQ_INT(tls_certset_set_default(set, "nothere.test"), -ENOENT);
	CHECK_EQ_INT(tls_server_certset_install(f.srv, set), 0);
	CHECK(tt_sni_gets(f.srv, f.c, NULL, first));
	tt_pem_free(&p1);
	tt_pem_free(&p2);
	fixture_free(&f);
}

/* A client limited to [minv, maxv] (and `ciphers` for TLS 1.2, where set)
 * and the version the server must negotiate with it, 0 for none. */
struct version_case {
	int minv, maxv;
	const char *ciphers;
	int want;
};

/* Handshakes for every case of the list with the fixture's server, each
 * from a client of its own, for a.example.com. */
static void check_versions(struct fixture *f, const struct version_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct version_case *v = &cases[i];
		SSL_CTX *c = tt_client_ctx(v->minv, v->maxv, NULL, 0, v->ciphers);
		struct tt_conn t = tt_conn_new(f->srv, c, "a.example.com", NULL);
		int got = tt_handshake(&t) ? SSL_version(t.s) : 0;

		if (got != v->want)
			UNIT_FAIL("client %#x..%#x \"%s\": version %#x, want %#x", v->minv,
				  v->maxv, v->ciphers ? v->ciphers : "", got, v->want);
		tt_conn_free(&t);
		SSL_CTX_free(c);
	}
}

TEST(versions)
{
	/* The test client allows everything (security level 0): the refusal
	 * is the server's. */
	static const struct version_case old[] = {
		{ TLS1_VERSION, TLS1_VERSION, "DEFAULT@SECLEVEL=0", 0 },
		{ TLS1_1_VERSION, TLS1_1_VERSION, "DEFAULT@SECLEVEL=0", 0 },
	};
	static const struct version_case ok[] = {
		{ TLS1_2_VERSION, TLS1_2_VERSION, NULL, TLS1_2_VERSION },
		{ TLS1_3_VERSION, TLS1_3_VERSION, NULL, TLS1_3_VERSION },
		{ TLS1_VERSION, TLS1_3_VERSION, "DEFAULT@SECLEVEL=0", TLS1_3_VERSION },
	};
	struct fixture f;
	struct tls_server_stats st;

	fixture_init(&f);
	check_versions(&f, old, UNIT_NCASES(old));
	tls_server_stats_get(f.srv, &st);
	CHECK_EQ_U64(st.failed, 2);
	check_versions(&f, ok, UNIT_NCASES(ok));
	fixture_free(&f);
}

TEST(tls12_suites_ecdhe_aead_only)
{
	static const struct version_case cases[] = {
		/* Static RSA / plain ECDHE-CBC / no forward secrecy: refused. */
		{ TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA@SECLEVEL=0", 0 },
		{ TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-SHA384@SECLEVEL=0", 0 },
		{ TLS1_2_VERSION, TLS1_2_VERSION, "AES128-GCM-SHA256@SECLEVEL=0", 0 },
		{ TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305",
		  TLS1_2_VERSION },
	};
	struct fixture f;

	fixture_init(&f);
	check_versions(&f, cases, UNIT_NCASES(cases));
	fixture_free(&f);
}

TEST(server_preference_and_groups)
{
	struct fixture f;
	SSL_CTX *c;
	struct tt_conn t;

	fixture_init(&f);
	/* The client prefers AES-256; the server's order puts AES-128 first. */
	c = tt_client_ctx(TLS1_2_VERSION, TLS1_2_VERSION, NULL, 0,
			  "ECDHE-ECDSA-AES256-GCM-SHA384:"
			  "ECDHE-ECDSA-AES128-GCM-SHA256");
	t = tt_conn_new(f.srv, c, "a.example.com", NULL);
	CHECK(tt_handshake(&t));
	CHECK_EQ_STR(SSL_get_cipher_name(t.s), "ECDHE-ECDSA-AES128-GCM-SHA256");
	tt_conn_free(&t);
	SSL_CTX_free(c);
	/* Only P-384 offered: no common group, no handshake. */
	SSL_CTX_set1_groups_list(f.c, "P-384");
	t = tt_conn_new(f.srv, f.c, "a.example.com", NULL);
	CHECK(!tt_handshake(&t));
	tt_conn_free(&t);
	fixture_free(&f);
}

/* A HelloRetryRequest runs the ClientHello callback twice: the second
 * ClientHello must land on the same certificate. */
TEST(hello_retry_request)
{
	struct fixture f;
	SSL_CTX *c = tt_client_ctx(TLS1_3_VERSION, TLS1_3_VERSION, h2_h1,
				   sizeof(h2_h1) - 1, NULL);
	struct tt_conn t;

	fixture_init(&f);
	/* A key share for P-384 (not ours) first: the server asks again. */
	SSL_CTX_set1_groups_list(c, "P-384:X25519");
	t = tt_conn_new(f.srv, c, "b.example.com", NULL);
	CHECK(tt_handshake(&t));
	CHECK(tt_served(&t, f.b));
	/* X25519 although the client's key share was P-384: a retry. */
	CHECK_EQ_INT(SSL_get_negotiated_group(t.s), NID_X25519);
	CHECK_EQ_INT(tls_conn_alpn(t.s), TLS_ALPN_H2);
	CHECK(tt_echo(&t, "after HRR"));
	tt_conn_free(&t);
	SSL_CTX_free(c);
	fixture_free(&f);
}

/* What a client offering `wire` (ALPN wire format, NULL for none) up to
 * TLS version `maxv` must get. */
struct alpn_case {
	const char *wire;
	size_t len;
	int maxv;
	enum tls_alpn want;
};

/* Handshakes for every case of the list with the fixture's server (a
 * failed handshake reads as TLS_ALPN_MAX). */
static void check_alpn(struct fixture *f, const struct alpn_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct alpn_case *a = &cases[i];
		SSL_CTX *c = tt_client_ctx(TLS1_2_VERSION, a->maxv, a->wire, a->len, NULL);
		struct tt_conn t = tt_conn_new(f->srv, c, "a.example.com", NULL);
		enum tls_alpn got = tt_handshake(&t) ? tls_conn_alpn(t.s) : TLS_ALPN_MAX;

		if (got != a->want)
			UNIT_FAIL("ALPN case %zu (max %#x): got %d, want %d", i, a->maxv,
				  (int)got, (int)a->want);
		tt_conn_free(&t);
		SSL_CTX_free(c);
	}
}

TEST(alpn)
{
	static const struct alpn_case cases[] = {
		/* The client lists http/1.1 first; the server prefers h2. */
		{ h2_h1, sizeof(h2_h1) - 1, TLS1_3_VERSION, TLS_ALPN_H2 },
		{ h2_h1, sizeof(h2_h1) - 1, TLS1_2_VERSION, TLS_ALPN_H2 },
		{ "\x08http/1.1", 9, TLS1_3_VERSION, TLS_ALPN_HTTP1 },
		/* Nothing in common, or no ALPN: proceed without (HTTP/1.1). */
		{ "\x06spdy/3", 7, TLS1_3_VERSION, TLS_ALPN_NONE },
		{ NULL, 0, TLS1_3_VERSION, TLS_ALPN_NONE },
		/* No challenge hook: acme-tls/1 is just an unknown protocol. */
		{ "\x0a" "acme-tls/1", 11, TLS1_3_VERSION, TLS_ALPN_NONE },
	};
	struct fixture f;

	fixture_init(&f);
	check_alpn(&f, cases, UNIT_NCASES(cases));
	fixture_free(&f);
}

TEST(alpn_configured_list)
{
	static const struct alpn_case cases[] = {
		{ "\x02h2\x08http/1.1", 12, TLS1_3_VERSION, TLS_ALPN_HTTP1 },
	};
	struct tls_opts o;
	struct fixture f;
	struct tls_server *srv;
	char err[256];

	tls_opts_default(&o);
	o.alpn = "http/1.1, h2";
	srv = tt_server(&o);
	fixture_init(&f);
	tls_server_free(f.srv);
	f.srv = srv;
	{
		struct tls_certset *set = tls_certset_new(srv);

		tt_add(set, &f.pa);
		CHECK_EQ_INT(tls_server_certset_install(srv, set), 0);
	}
	check_alpn(&f, cases, UNIT_NCASES(cases));
	fixture_free(&f);
	o.alpn = "h2,acme-tls/1";
	CHECK(tls_server_new(&o, err, sizeof(err)) == NULL);
	o.alpn = " , ";
	CHECK(tls_server_new(&o, err, sizeof(err)) == NULL);
}

TEST(swap_keeps_old_connections)
{
	struct fixture f;
	struct tt_pem p2 = tt_selfsigned("a.example.com", NULL);
	struct tls_certset *set;
	struct tls_cert *a2;
	struct tt_conn old, fresh;

	fixture_init(&f);
	old = tt_conn_new(f.srv, f.c, "a.example.com", NULL);
	CHECK(tt_handshake(&old) && tt_served(&old, f.a));
	CHECK(tt_echo(&old, "before"));
	/* A new set with a new certificate for the same name. */
	set = tls_certset_new(f.srv);
	a2 = tt_add(set, &p2);
	tls_cert_ref(a2);
	CHECK_EQ_INT(tls_server_certset_install(f.srv, set), 0);
	CHECK(tt_echo(&old, "after the swap"));
	fresh = tt_conn_new(f.srv, f.c, "a.example.com", NULL);
	CHECK(tt_handshake(&fresh) && tt_served(&fresh, a2));
	CHECK(tt_echo(&fresh, "new"));
	CHECK(tt_echo(&old, "still"));
	tt_conn_free(&old);
	tt_conn_free(&fresh);
	tls_cert_put(a2);
	tt_pem_free(&p2);
	fixture_free(&f);
}

TEST(swap_mid_handshake)
{
	struct fixture f;
	SSL_CTX *c = tt_client_ctx(TLS1_3_VERSION, TLS1_3_VERSION, NULL, 0,
				   NULL);
	struct tt_pem p2 = tt_selfsigned("other.test", NULL);
	struct tls_certset *set;
	struct tt_conn t;
	int want;

	fixture_init(&f);
	t = tt_conn_new(f.srv, c, "a.example.com", NULL);
	/* ClientHello in, server flight out: the certificate is chosen. */
	CHECK(SSL_do_handshake(t.c) <= 0);
	CHECK_EQ_INT(tls_conn_handshake(t.s, &want), -EAGAIN);
	set = tls_certset_new(f.srv);
	tt_add(set, &p2);
	CHECK_EQ_INT(tls_server_certset_install(f.srv, set), 0);
	/* The old set (and the chosen certificate) is gone from the server,
	 * but the handshake still holds it. */
	CHECK(tt_handshake(&t));
	CHECK(tt_served(&t, f.a));
	CHECK(tt_echo(&t, "ok"));
	tt_conn_free(&t);
	tt_pem_free(&p2);
	SSL_CTX_free(c);
	fixture_free(&f);
}

TEST(install_refuses)
{
	struct fixture f;
	struct tls_server *other = tt_server(NULL);
	struct tls_certset *set;

	fixture_init(&f);
	CHECK_EQ_INT(tls_server_certset_install(f.srv, tls_certset_new(f.srv)),
		     -EINVAL);
	set = tls_certset_new(other);
	tt_add(set, &f.pa);
	CHECK_EQ_INT(tls_server_certset_install(f.srv, set), -EINVAL);
	/* The live set is untouched. */
	CHECK(tt_sni_gets(f.srv, f.c, "b.example.com", f.b));
	tls_server_free(other);
	fixture_free(&f);
}

TEST(no_certificate_refuses)
{
	struct tls_server *srv = tt_server(NULL);
	SSL_CTX *c = tt_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL, 0,
				   NULL);
	struct tt_conn t = tt_conn_new(srv, c, "a.test", NULL);

	CHECK(!tt_handshake(&t));
	tt_conn_free(&t);
	SSL_CTX_free(c);
	tls_server_free(srv);
}

/* ---- TLS-ALPN-01 hook ---- */

struct challenge {
	const char *name;
	struct tt_pem pem;
	int calls;
};

static int challenge_fn(void *arg, const char *name, X509 **cert,
			EVP_PKEY **key)
{
	struct challenge *ch = arg;
	BIO *b;

	ch->calls++;
	if (strcmp(name, ch->name) != 0)
		return 0;
	b = BIO_new_mem_buf(ch->pem.crt, (int)ch->pem.crt_len);
	*cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	b = BIO_new_mem_buf(ch->pem.key, (int)ch->pem.key_len);
	*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	return 1;
}

TEST(alpn_challenge_hook)
{
	struct fixture f;
	struct challenge ch = { "a.example.com", { 0 }, 0 };
	SSL_CTX *c = tt_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION,
				   "\x0a" "acme-tls/1", 11, NULL);
	struct tt_conn t;
	X509 *x;
	struct tls_server_stats st;

	fixture_init(&f);
	ch.pem = tt_selfsigned("a.example.com", NULL);
	tls_server_set_alpn_challenge(f.srv, challenge_fn, &ch);
	t = tt_conn_new(f.srv, c, "a.example.com", NULL);
	CHECK(tt_handshake(&t));
	CHECK_EQ_INT(tls_conn_alpn(t.s), TLS_ALPN_ACME);
	/* The challenge certificate, not the route's. */
	CHECK(!tt_served(&t, f.a));
	x = SSL_get0_peer_certificate(t.c);
	CHECK(x && X509_check_host(x, "a.example.com", 0, 0, NULL) == 1);
	tt_conn_free(&t);
	/* No pending challenge for the name: refused. */
	t = tt_conn_new(f.srv, c, "b.example.com", NULL);
	CHECK(!tt_handshake(&t));
	tt_conn_free(&t);
	CHECK_EQ_INT(ch.calls, 2);
	tls_server_stats_get(f.srv, &st);
	CHECK_EQ_U64(st.acme_challenges, 1);
	SSL_CTX_free(c);
	/* Ordinary clients never reach the hook. */
	c = tt_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, h2_h1,
			  sizeof(h2_h1) - 1, NULL);
	CHECK(tt_sni_gets(f.srv, c, "a.example.com", f.a));
	CHECK_EQ_INT(ch.calls, 2);
	SSL_CTX_free(c);
	tt_pem_free(&ch.pem);
	fixture_free(&f);
}

int main(void)
{
	log_set_level(LOG_WARN);
	RUN(sni_exact);
	RUN(sni_wildcard_one_label);
	RUN(sni_default);
	RUN(versions);
	RUN(tls12_suites_ecdhe_aead_only);
	RUN(server_preference_and_groups);
	RUN(hello_retry_request);
	RUN(alpn);
	RUN(alpn_configured_list);
	RUN(swap_keeps_old_connections);
	RUN(swap_mid_handshake);
	RUN(install_refuses);
	RUN(no_certificate_refuses);
	RUN(alpn_challenge_hook);
	return unit_done();
}
