/* test_tls_client.c - client contexts for https upstreams: verification,
 * host names and IP addresses, SNI, the self-signed opt-out. */
#include <errno.h>
#include <unistd.h>

#include "unit.h"
#include "core/log.h"
#include "tls/client.h"
#include "tls_test.h"

struct upstream {
	struct tls_server *srv;
	struct tt_ca root, leaf;
	struct tt_pem pem, self;
	char ca_file[64];
};

static void upstream_init(struct upstream *u)
{
	struct tls_certset *set;
	BIO *b;
	int fd;

	u->root = tt_issue(NULL, "Upstream CA", NULL, NULL, 1, 1, -1, 365);
	u->leaf = tt_issue(&u->root, "up.test", "DNS:up.test,IP:10.1.2.3",
			   NULL, 0, 2, -1, 30);
	u->pem = tt_pem_of(&u->leaf, u->root.cert, NULL);
	u->self = tt_selfsigned("self.test", NULL);
	u->srv = tt_server(NULL);
	set = tls_certset_new(u->srv);
	tt_add(set, &u->pem);
	tt_add(set, &u->self);
	CHECK_EQ_INT(tls_server_certset_install(u->srv, set), 0);
	strcpy(u->ca_file, "/tmp/postern-ca-XXXXXX");
	fd = mkstemp(u->ca_file);
	close(fd);
	b = BIO_new_file(u->ca_file, "w");
	PEM_write_bio_X509(b, u->root.cert);
	BIO_free(b);
}

static void upstream_free(struct upstream *u)
{
	unlink(u->ca_file);
	tls_server_free(u->srv);
	tt_pem_free(&u->pem);
	tt_pem_free(&u->self);
	tt_ca_free(&u->leaf);
	tt_ca_free(&u->root);
}

/* Connects a tls_client SSL to the upstream server over a BIO pair.
 * Returns 1 when both handshakes completed; *sni gets the name the server
 * saw (or ""). */
static int dial(struct upstream *u, struct tls_client *c, const char *name,
		bool verify, char *sni, size_t snilen)
{
	struct tt_conn t;
	BIO *cb, *sb;
	int ok;
	const char *seen;

	t.c = tls_client_conn_new(c, -1, name, verify);
	t.s = tls_server_conn_new(u->srv, -1);
	if (!t.c || !t.s) {
		SSL_free(t.c);
		tls_conn_free(t.s);
		return 0;
	}
	BIO_new_bio_pair(&cb, 0, &sb, 0);
	SSL_set_bio(t.c, cb, cb);
	SSL_set_bio(t.s, sb, sb);
	ok = tt_handshake(&t);
	seen = ok ? tls_conn_server_name(t.s) : NULL;
	snprintf(sni, snilen, "%s", seen ? seen : "");
	if (ok)
		ok = tls_conn_alpn(t.s) == TLS_ALPN_HTTP1 && tt_echo(&t, "up");
	tt_conn_free(&t);
	return ok;
}

TEST(client_verifies)
{
	struct upstream u;
	struct tls_client *c;
	char err[256], sni[300];

	upstream_init(&u);
	c = tls_client_new(u.ca_file, err, sizeof(err));
	CHECK(c != NULL);
	CHECK(dial(&u, c, "up.test", true, sni, sizeof(sni)));
	CHECK_EQ_STR(sni, "up.test");
	/* Name mismatch (the server gives its default, up.test's cert). */
	CHECK(!dial(&u, c, "other.test", true, sni, sizeof(sni)));
	/* Self-signed upstream: refused unless the route opts out. */
	CHECK(!dial(&u, c, "self.test", true, sni, sizeof(sni)));
	CHECK(dial(&u, c, "self.test", false, sni, sizeof(sni)));
	CHECK_EQ_STR(sni, "self.test");
	/* An IP literal: no SNI, the certificate must carry the IP. */
	CHECK(dial(&u, c, "10.1.2.3", true, sni, sizeof(sni)));
	CHECK_EQ_STR(sni, "");
	CHECK(!dial(&u, c, "10.1.2.4", true, sni, sizeof(sni)));
	CHECK(tls_client_conn_new(c, -1, NULL, true) == NULL);
	tls_client_free(c);
	upstream_free(&u);
}

TEST(client_system_store)
{
	struct upstream u;
	struct tls_client *c;
	char err[256], sni[300];

	upstream_init(&u);
	/* The system store does not know the test CA. */
	c = tls_client_new(NULL, err, sizeof(err));
	CHECK(c != NULL);
	CHECK(!dial(&u, c, "up.test", true, sni, sizeof(sni)));
	CHECK(dial(&u, c, "up.test", false, sni, sizeof(sni)));
	tls_client_free(c);
	CHECK(tls_client_new("/nonexistent/ca.pem", err, sizeof(err)) == NULL);
	upstream_free(&u);
}

int main(void)
{
	log_set_level(LOG_ERR);
	RUN(client_verifies);
	RUN(client_system_store);
	return unit_done();
}
