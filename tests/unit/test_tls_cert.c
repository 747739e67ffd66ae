/* test_tls_cert.c - loading certificates, the self-signed generator, the
 * name index, certificate directories, reload and upsert. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "core/conf.h"
#include "core/log.h"
#include "tls_test.h"

TEST(key_mismatch_refused)
{
	struct tls_server *srv = tt_server(NULL);
	struct tls_certset *set = tls_certset_new(srv);
	struct tt_pem a = tt_selfsigned("a.test", NULL);
	struct tt_pem b = tt_selfsigned("b.test", NULL);
	char err[256] = "";

	CHECK_EQ_INT(tls_certset_add_pem(set, a.crt, a.crt_len, b.key,
					 b.key_len, err, sizeof(err)), -1);
	CHECK(strstr(err, "private key does not match the certificate"));
	/* The message never quotes the key. */
	CHECK(!strstr(err, "PRIVATE KEY"));
	CHECK_EQ_INT(tls_certset_count(set), 0);
	CHECK_EQ_INT(tls_certset_add_pem(set, a.crt, a.crt_len, a.key,
					 a.key_len, err, sizeof(err)), 0);
	CHECK_EQ_INT(tls_certset_count(set), 1);
	tls_certset_put(set);
	tt_pem_free(&a);
	tt_pem_free(&b);
	tls_server_free(srv);
}

TEST(bad_inputs_refused)
{
	struct tls_server *srv = tt_server(NULL);
	struct tls_certset *set = tls_certset_new(srv);
	struct tt_pem a = tt_selfsigned("a.test", NULL);
	struct tt_ca expired = tt_issue(NULL, "old.test", "DNS:old.test", NULL,
					0, 1, -30, -1);
	struct tt_ca nosan = tt_issue(NULL, "nosan.test", NULL, NULL, 0, 2,
				      -1, 30);
	struct tt_pem pe = tt_pem_of(&expired, NULL, NULL);
	struct tt_pem pn = tt_pem_of(&nosan, NULL, NULL);
	char err[256];
	BIO *b = BIO_new(BIO_s_mem());
	char *enc;
	size_t enc_len;

	CHECK_EQ_INT(tls_certset_add_pem(set, "junk", 4, a.key, a.key_len, err,
					 sizeof(err)), -1);
	CHECK_EQ_INT(tls_certset_add_pem(set, a.crt, a.crt_len, "junk", 4, err,
					 sizeof(err)), -1);
	CHECK_EQ_INT(tls_certset_add_pem(set, pe.crt, pe.crt_len, pe.key,
					 pe.key_len, err, sizeof(err)), -1);
	CHECK(strstr(err, "expired"));
	CHECK_EQ_INT(tls_certset_add_pem(set, pn.crt, pn.crt_len, pn.key,
					 pn.key_len, err, sizeof(err)), -1);
	CHECK(strstr(err, "no usable DNS name"));
	/* An encrypted key is refused, never prompted for. */
	PEM_write_bio_PrivateKey(b, expired.key, EVP_aes_256_cbc(), NULL, 0,
				 NULL, (void *)"secret");
	enc = tt_bio_str(b, &enc_len);
	CHECK_EQ_INT(tls_certset_add_pem(set, pe.crt, pe.crt_len, enc, enc_len,
					 err, sizeof(err)), -1);
	CHECK(strstr(err, "private key"));
	CHECK_EQ_INT(tls_certset_count(set), 0);
	free(enc);
	BIO_free(b);
	tls_certset_put(set);
	tt_pem_free(&a);
	tt_pem_free(&pe);
	tt_pem_free(&pn);
	tt_ca_free(&expired);
	tt_ca_free(&nosan);
	tls_server_free(srv);
}

TEST(selfsigned_verifies_with_sans)
{
	const char *names[] = { "hub.example.net", "*.apps.example.net",
				"other.test" };
	char *crt, *key, err[256];
	size_t crt_len, key_len;
	BIO *b;
	X509 *x;
	EVP_PKEY *pub;
	GENERAL_NAMES *gens;
	BASIC_CONSTRAINTS *bc;

	CHECK_EQ_INT(tls_selfsigned_make(names, 3, 90, &crt, &crt_len, &key,
					 &key_len, err, sizeof(err)), 0);
	CHECK(strstr(crt, "BEGIN CERTIFICATE"));
	CHECK(strstr(key, "BEGIN PRIVATE KEY"));
	b = BIO_new_mem_buf(crt, (int)crt_len);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	CHECK(x != NULL);
	pub = X509_get0_pubkey(x);
	/* Signed by its own key, an ECDSA P-256 key. */
	CHECK_EQ_INT(X509_verify(x, pub), 1);
	CHECK_EQ_INT(X509_self_signed(x, 1), 1);
	CHECK_EQ_INT(EVP_PKEY_get_base_id(pub), EVP_PKEY_EC);
	CHECK_EQ_INT(EVP_PKEY_get_bits(pub), 256);
	/* Exactly the SANs asked for, in order. */
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	CHECK_EQ_INT(sk_GENERAL_NAME_num(gens), 3);
	for (int i = 0; i < 3 && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		CHECK_EQ_INT(g->type, GEN_DNS);
		CHECK_EQ_STR((const char *)ASN1_STRING_get0_data(g->d.dNSName),
			     names[i]);
	}
	GENERAL_NAMES_free(gens);
	CHECK_EQ_INT(X509_check_host(x, "hub.example.net", 0, 0, NULL), 1);
	CHECK_EQ_INT(X509_check_host(x, "x.apps.example.net", 0, 0, NULL), 1);
	CHECK_EQ_INT(X509_check_host(x, "nothere.test", 0, 0, NULL), 0);
	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	CHECK(bc && !bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	CHECK(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	/* Valid now, for about 90 days. */
	CHECK_EQ_INT(X509_cmp_current_time(X509_get0_notBefore(x)), -1);
	{
		int days, secs;

		ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x));
		CHECK(days >= 89 && days <= 90);
	}
	X509_free(x);
	free(crt);
	secure_free(key, key_len);
	/* Names that are not host names are refused. */
	{
		const char *bad[] = { "a b.test" }, *bad2[] = { "A.test" },
			   *bad3[] = { "x.*.test" };

		CHECK_EQ_INT(tls_selfsigned_make(bad, 1, 1, &crt, &crt_len,
						 &key, &key_len, err,
						 sizeof(err)), -1);
		CHECK_EQ_INT(tls_selfsigned_make(bad2, 1, 1, &crt, &crt_len,
						 &key, &key_len, err,
						 sizeof(err)), -1);
		CHECK_EQ_INT(tls_selfsigned_make(bad3, 1, 1, &crt, &crt_len,
						 &key, &key_len, err,
						 sizeof(err)), -1);
		CHECK_EQ_INT(tls_selfsigned_make(names, 0, 1, &crt, &crt_len,
						 &key, &key_len, err,
						 sizeof(err)), -1);
	}
}

TEST(full_chain_served)
{
	struct tls_server *srv = tt_server(NULL);
	struct tls_certset *set = tls_certset_new(srv);
	struct tt_ca root = tt_issue(NULL, "Test Root", NULL, NULL, 1, 1, -1,
				     365);
	struct tt_ca mid = tt_issue(&root, "Test Intermediate", NULL, NULL, 1,
				    2, -1, 365);
	struct tt_ca leaf = tt_issue(&mid, "chain.test", "DNS:chain.test",
				     NULL, 0, 3, -1, 30);
	struct tt_pem p = tt_pem_of(&leaf, mid.cert, NULL);
	SSL_CTX *c = tt_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL, 0,
				   NULL);
	X509_STORE *st = SSL_CTX_get_cert_store(c);
	struct tt_conn t;

	tt_add(set, &p);
	CHECK_EQ_INT(tls_server_certset_install(srv, set), 0);
	/* The client trusts only the root: it needs the intermediate. */
	X509_STORE_add_cert(st, root.cert);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	t = tt_conn_new(srv, c, "chain.test", NULL);
	SSL_set1_host(t.c, "chain.test");
	CHECK(tt_handshake(&t));
	CHECK_EQ_INT(SSL_get_verify_result(t.c), X509_V_OK);
	CHECK_EQ_INT(sk_X509_num(SSL_get_peer_cert_chain(t.c)), 2);
	tt_conn_free(&t);
	SSL_CTX_free(c);
	tt_pem_free(&p);
	tt_ca_free(&leaf);
	tt_ca_free(&mid);
	tt_ca_free(&root);
	tls_server_free(srv);
}

TEST(index_prefers_ca_then_later_expiry)
{
	struct tls_server *srv = tt_server(NULL);
	struct tls_certset *set = tls_certset_new(srv);
	struct tt_ca root = tt_issue(NULL, "Root", NULL, NULL, 1, 1, -1, 365);
	struct tt_ca soon = tt_issue(&root, "x", "DNS:x.test,DNS:y.test", NULL,
				     0, 2, -1, 10);
	struct tt_ca later = tt_issue(&root, "x", "DNS:x.test", NULL, 0, 3, -1,
				      60);
	struct tt_pem ps = tt_selfsigned("x.test", "z.test");
	struct tt_pem p1 = tt_pem_of(&soon, root.cert, NULL);
	struct tt_pem p2 = tt_pem_of(&later, root.cert, NULL);
	struct tls_cert *css, *c1, *c2;
	bool def;

	css = tt_add(set, &ps);
	c1 = tt_add(set, &p1);
	c2 = tt_add(set, &p2);
	CHECK(tls_cert_self_signed(css) && !tls_cert_self_signed(c1));
	/* x.test: three candidates; CA-issued and the later expiry wins. */
	CHECK(tls_certset_lookup(set, "x.test", 6, &def) == c2 && !def);
	CHECK(tls_certset_lookup(set, "y.test", 6, &def) == c1 && !def);
	CHECK(tls_certset_lookup(set, "z.test", 6, &def) == css && !def);
	CHECK(tls_certset_lookup(set, "q.test", 6, &def) == css && def);
	CHECK(tls_certset_lookup(set, NULL, 0, &def) == css && def);
	/* Garbage names fall back to the default. */
	CHECK(tls_certset_lookup(set, "x.test\0", 7, &def) == css && def);
	CHECK(tls_certset_lookup(set, "..x.test", 8, &def) == css && def);
	CHECK_EQ_STR(tls_cert_name(c1, 1), "y.test");
	CHECK_EQ_INT(tls_cert_name_count(c1), 2);
	tls_certset_put(set);
	tt_pem_free(&ps);
	tt_pem_free(&p1);
	tt_pem_free(&p2);
	tt_ca_free(&soon);
	tt_ca_free(&later);
	tt_ca_free(&root);
	tls_server_free(srv);
}

static void write_file(const char *dir, const char *name, const char *data,
		       size_t len)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, data, len) == (ssize_t)len);
	close(fd);
}

static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' || strlen(e->d_name) > 2) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

TEST(cert_dir_reload_and_selfsigned)
{
	char dir[] = "/tmp/postern-tls-XXXXXX", err[256], path[600];
	struct tls_opts o;
	struct tls_server *srv;
	struct tt_pem a = tt_selfsigned("a.test", NULL);
	struct tt_pem a2 = tt_selfsigned("a.test", NULL);
	SSL_CTX *c = tt_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL, 0,
				   NULL);
	struct tls_certset *set;
	struct stat st;
	uint8_t fp_hub[32];

	CHECK(mkdtemp(dir) != NULL);
	write_file(dir, "a.crt", a.crt, a.crt_len);
	write_file(dir, "a.key", a.key, a.key_len);
	tls_opts_default(&o);
	o.cert_dir = dir;
	o.selfsigned_name = "hub.test";
	o.cert_default = "hub.test";
	srv = tt_server(&o);
	CHECK_EQ_INT(tls_server_certs_reload(srv, err, sizeof(err)), 0);
	set = tls_server_certset_get(srv);
	CHECK_EQ_INT(tls_certset_count(set), 2);
	memcpy(fp_hub, tls_cert_sha256(tls_certset_at(set, 1)), 32);
	CHECK(tt_sni_gets(srv, c, "a.test", tls_certset_at(set, 0)));
	CHECK(tt_sni_gets(srv, c, NULL, tls_certset_at(set, 1)));
	tls_certset_put(set);
	/* The self-signed key was written 0600 and is reused on reload. */
	snprintf(path, sizeof(path), "%s/selfsigned-hub.test.key", dir);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	/* Replace a.crt/a.key and reload: new handshakes get the new one. */
	write_file(dir, "a.crt", a2.crt, a2.crt_len);
	write_file(dir, "a.key", a2.key, a2.key_len);
	CHECK_EQ_INT(tls_server_certs_reload(srv, err, sizeof(err)), 0);
	set = tls_server_certset_get(srv);
	CHECK_EQ_INT(tls_certset_count(set), 2);
	CHECK(tt_sni_gets(srv, c, "a.test", tls_certset_at(set, 0)));
	CHECK_EQ_MEM(tls_cert_sha256(tls_certset_at(set, 1)), fp_hub, 32);
	tls_certset_put(set);
	/* A broken pair: the reload fails and the live set stays. */
	write_file(dir, "b.crt", a.crt, a.crt_len);
	CHECK_EQ_INT(tls_server_certs_reload(srv, err, sizeof(err)), -1);
	CHECK(strstr(err, "b.key"));
	write_file(dir, "b.key", a2.key, a2.key_len);
	CHECK_EQ_INT(tls_server_certs_reload(srv, err, sizeof(err)), -1);
	CHECK(strstr(err, "b.crt") && strstr(err, "does not match"));
	set = tls_server_certset_get(srv);
	CHECK(tt_sni_gets(srv, c, "a.test", tls_certset_at(set, 0)));
	tls_certset_put(set);
	tls_server_free(srv);
	SSL_CTX_free(c);
	tt_pem_free(&a);
	tt_pem_free(&a2);
	rm_dir(dir);
}

TEST(upsert_replaces_covered)
{
	struct tls_server *srv = tt_server(NULL);
	struct tt_pem ab = tt_selfsigned("a.test", "b.test");
	struct tt_pem other = tt_selfsigned("other.test", NULL);
	struct tt_pem renewed = tt_selfsigned("a.test", "b.test");
	struct tt_pem a_only = tt_selfsigned("a.test", NULL);
	struct tls_certset *set = tls_certset_new(srv), *cur;
	struct tls_cert *oc;
	char err[256];
	bool def;

	tt_add(set, &other);
	tt_add(set, &ab);
	CHECK_EQ_INT(tls_server_certset_install(srv, set), 0);
	/* Renewal: the same names replace the old certificate. */
	CHECK_EQ_INT(tls_server_cert_upsert(srv, renewed.crt, renewed.crt_len,
					    renewed.key, renewed.key_len, err,
					    sizeof(err)), 0);
	cur = tls_server_certset_get(srv);
	CHECK_EQ_INT(tls_certset_count(cur), 2);
	oc = tls_certset_lookup(cur, "other.test", 10, &def);
	CHECK(oc == tls_certset_at(cur, 0) && !def);
	/* The default (the first) stays. */
	CHECK(tls_certset_lookup(cur, NULL, 0, &def) == oc);
	tls_certset_put(cur);
	/* A narrower certificate does not drop the wider one. */
	CHECK_EQ_INT(tls_server_cert_upsert(srv, a_only.crt, a_only.crt_len,
					    a_only.key, a_only.key_len, err,
					    sizeof(err)), 0);
	cur = tls_server_certset_get(srv);
	CHECK_EQ_INT(tls_certset_count(cur), 3);
	tls_certset_put(cur);
	/* A broken upload changes nothing. */
	CHECK_EQ_INT(tls_server_cert_upsert(srv, a_only.crt, a_only.crt_len,
					    other.key, other.key_len, err,
					    sizeof(err)), -1);
	cur = tls_server_certset_get(srv);
	CHECK_EQ_INT(tls_certset_count(cur), 3);
	tls_certset_put(cur);
	tt_pem_free(&ab);
	tt_pem_free(&other);
	tt_pem_free(&renewed);
	tt_pem_free(&a_only);
	tls_server_free(srv);
}

TEST(conf_and_selfsigned_in_memory)
{
	static const char text[] =
		"[tls]\nalpn = http/1.1\nticket_rotate = 1h\n"
		"ticket_lifetime = 2h\ntickets = off\n"
		"selfsigned_name = hub.test\n";
	struct conf c;
	struct tls_conf tc;
	struct tls_opts o;
	struct tls_server *srv;
	struct tls_certset *s1, *s2;
	char err[256];

	CHECK_EQ_INT(conf_parse(&c, "t.conf", text, sizeof(text) - 1, err,
				sizeof(err)), 0);
	tls_conf_default(&tc);
	CHECK_EQ_INT(tls_conf_read(&tc, &c, "tls", err, sizeof(err)), 0);
	CHECK_EQ_INT(conf_check_unused(&c, err, sizeof(err)), 0);
	conf_free(&c);
	CHECK_EQ_STR(tc.alpn, "http/1.1");
	CHECK_EQ_U64(tc.ticket_rotate_ns, 3600ULL * 1000000000ULL);
	CHECK(!tc.tickets && tc.ocsp_stapling);
	tls_conf_opts(&tc, &o);
	CHECK(o.ciphers == NULL && o.cert_dir == NULL);
	CHECK_EQ_STR(o.selfsigned_name, "hub.test");
	srv = tt_server(&o);
	/* Without a directory the self-signed certificate is kept in memory:
	 * every fill (reload) serves the same one. */
	s1 = tls_certset_new(srv);
	s2 = tls_certset_new(srv);
	CHECK_EQ_INT(tls_certset_fill(s1, NULL, "hub.test", NULL, err,
				      sizeof(err)), 0);
	CHECK_EQ_INT(tls_certset_fill(s2, NULL, "hub.test", NULL, err,
				      sizeof(err)), 0);
	CHECK(tls_certset_at(s1, 0) == tls_certset_at(s2, 0));
	CHECK(tls_cert_self_signed(tls_certset_at(s1, 0)));
	tls_certset_put(s1);
	tls_certset_put(s2);
	/* Nothing at all is an error. */
	s1 = tls_certset_new(srv);
	CHECK_EQ_INT(tls_certset_fill(s1, NULL, NULL, NULL, err, sizeof(err)),
		     -1);
	CHECK(strstr(err, "no certificate"));
	tls_certset_put(s1);
	tls_server_free(srv);
	/* Bad values name the key. */
	CHECK_EQ_INT(conf_parse(&c, "t.conf", "[tls]\ntickets = maybe\n", 22,
				err, sizeof(err)), 0);
	CHECK_EQ_INT(tls_conf_read(&tc, &c, "tls", err, sizeof(err)), -1);
	CHECK(strstr(err, "tickets"));
	conf_free(&c);
}

int main(void)
{
	log_set_level(LOG_ERR);
	RUN(key_mismatch_refused);
	RUN(bad_inputs_refused);
	RUN(selfsigned_verifies_with_sans);
	RUN(full_chain_served);
	RUN(index_prefers_ca_then_later_expiry);
	RUN(cert_dir_reload_and_selfsigned);
	RUN(upsert_replaces_covered);
	RUN(conf_and_selfsigned_in_memory);
	return unit_done();
}
