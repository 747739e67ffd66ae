/* test_tls_ocsp.c - OCSP stapling.
 *
 * First with responses built here (good, revoked, wrong signer, wrong
 * certificate, stale, delegated responders), then against a real
 * responder: the test moves itself into a private network namespace
 * (root needed), runs `openssl ocsp` with a CA it made, lets
 * tls_ocsp_refresh() fetch and verify the staple, and checks that
 * `openssl s_client -status` sees it. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ocsp.h>

#include "unit.h"
#include "core/log.h"
#include "tls/ocsp.h"
#include "tls_test.h"

#define RESPONDER_PORT 18888
#define TLS_PORT 18443
#define OCSP_URL "http://127.0.0.1:18888/"

struct pki {
	struct tt_ca root, leaf;
	struct tt_pem pem;
	struct tls_server *srv;
	struct tls_cert *cert;
};

static void pki_init(struct pki *p, const char *ocsp_url)
{
	struct tls_certset *set;

	p->root = tt_issue(NULL, "OCSP Test Root", NULL, NULL, 1, 1, -1, 365);
	p->leaf = tt_issue(&p->root, "ocsp.test", "DNS:ocsp.test", ocsp_url, 0,
			   0x1234, -1, 30);
	p->pem = tt_pem_of(&p->leaf, p->root.cert, NULL);
	p->srv = tt_server(NULL);
	set = tls_certset_new(p->srv);
	p->cert = tt_add(set, &p->pem);
	CHECK_EQ_INT(tls_server_certset_install(p->srv, set), 0);
}

static void pki_free(struct pki *p)
{
	tls_server_free(p->srv);
	tt_pem_free(&p->pem);
	tt_ca_free(&p->leaf);
	tt_ca_free(&p->root);
}

/* A DER OCSPResponse about `subject` (issued by `issuer`), signed by
 * `signer`, with `status`, valid [now + from_s, now + to_s]. */
static int make_resp(X509 *subject, X509 *issuer, const struct tt_ca *signer,
		     int status, long from_s, long to_s, uint8_t **der)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, subject, issuer);
	ASN1_TIME *thisupd = X509_gmtime_adj(NULL, from_s);
	ASN1_TIME *nextupd = X509_gmtime_adj(NULL, to_s);
	ASN1_TIME *rev = X509_gmtime_adj(NULL, -86400);
	OCSP_RESPONSE *resp;
	int n;

	OCSP_basic_add1_status(bs, id, status, OCSP_REVOKED_STATUS_KEYCOMPROMISE,
			       status == V_OCSP_CERTSTATUS_REVOKED ? rev : NULL,
			       thisupd, nextupd);
	OCSP_basic_sign(bs, signer->cert, signer->key, EVP_sha256(), NULL, 0);
	resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	*der = NULL;
	n = i2d_OCSP_RESPONSE(resp, der);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(rev);
	return n;
}

static int staple(struct pki *p, uint8_t *der, int n, char *err)
{
	int r = tls_ocsp_staple_set(p->cert, der, (size_t)n, time(NULL), err,
				    256);

	OPENSSL_free(der);
	return r;
}

/* Handshake asking (or not) for status; returns the stapled bytes' length
 * (0 = none) and copies them to `out`. */
static long handshake_status(struct pki *p, bool ask, uint8_t *out,
			     size_t outlen)
{
	SSL_CTX *c = tt_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL, 0,
				   NULL);
	struct tt_conn t = tt_conn_new(p->srv, c, "ocsp.test", NULL);
	const unsigned char *resp = NULL;
	long n = -1;

	if (ask)
		SSL_set_tlsext_status_type(t.c, TLSEXT_STATUSTYPE_ocsp);
	if (tt_handshake(&t)) {
		n = SSL_get_tlsext_status_ocsp_resp(t.c, &resp);
		if (n < 0)
			n = 0;
		if (n > 0 && (size_t)n <= outlen)
			memcpy(out, resp, (size_t)n);
	}
	tt_conn_free(&t);
	SSL_CTX_free(c);
	return n;
}

/* Makes a response and offers it as the staple; returns the result. */
static int try_resp(struct pki *p, X509 *subject, X509 *issuer,
		    const struct tt_ca *signer, int status, long from_s,
		    long to_s, char *err)
{
	uint8_t *der;
	int n = make_resp(subject, issuer, signer, status, from_s, to_s, &der);

	return staple(p, der, n, err);
}

TEST(staple_good_and_served)
{
	struct pki p;
	uint8_t *der, got[4096];
	char err[256];
	int n;

	pki_init(&p, OCSP_URL);
	CHECK_EQ_STR(tls_cert_ocsp_url(p.cert), OCSP_URL);
	/* Nothing cached yet: no staple, and the handshake is fine. */
	CHECK_EQ_INT(handshake_status(&p, true, got, sizeof(got)), 0);
	n = make_resp(p.leaf.cert, p.root.cert, &p.root,
		      V_OCSP_CERTSTATUS_GOOD, -60, 3600, &der);
	{
		uint8_t copy[4096];

		memcpy(copy, der, (size_t)n);
		CHECK_EQ_INT(staple(&p, der, n, err), 0);
		CHECK_EQ_INT(handshake_status(&p, true, got, sizeof(got)), n);
		CHECK_EQ_MEM(got, copy, (size_t)n);
	}
	/* Only clients that ask get it. */
	CHECK_EQ_INT(handshake_status(&p, false, got, sizeof(got)), 0);
	pki_free(&p);
}

TEST(staple_refused)
{
	struct pki p;
	struct tt_ca other = tt_issue(NULL, "Other CA", NULL, NULL, 1, 9, -1, 30);
	struct tt_ca stranger = tt_issue(&other, "x", "DNS:x.test", NULL, 0, 10,
					 -1, 30);
	struct tt_ca nosign = tt_issue(NULL, "tmp", NULL, NULL, 0, 11, -1, 30);
	struct tt_ca sibling;
	uint8_t *der, got[64];
	char err[256];

	pki_init(&p, OCSP_URL);
	/* Signed by a CA that did not issue the certificate. */
	CHECK_EQ_INT(try_resp(&p, p.leaf.cert, p.root.cert,
					       &other, V_OCSP_CERTSTATUS_GOOD,
					       -60, 3600, err), -1);
	CHECK(strstr(err, "signature"));
	/* About another certificate of the same CA. */
	sibling = tt_issue(&p.root, "sibling", "DNS:sibling.test", NULL, 0, 12,
			   -1, 30);
	CHECK_EQ_INT(try_resp(&p, sibling.cert, p.root.cert, &p.root,
			      V_OCSP_CERTSTATUS_GOOD, -60, 3600, err), -1);
	CHECK(strstr(err, "no status"));
	/* About another CA's certificate, signed by that CA. */
	CHECK_EQ_INT(try_resp(&p, stranger.cert, other.cert, &other,
			      V_OCSP_CERTSTATUS_GOOD, -60, 3600, err), -1);
	/* Stale (nextUpdate passed) or from the future. */
	CHECK_EQ_INT(try_resp(&p, p.leaf.cert, p.root.cert,
					       &p.root, V_OCSP_CERTSTATUS_GOOD,
					       -7200, -3600, err), -1);
	CHECK(strstr(err, "not current"));
	CHECK_EQ_INT(try_resp(&p, p.leaf.cert, p.root.cert,
					       &p.root, V_OCSP_CERTSTATUS_GOOD,
					       3600, 7200, err), -1);
	/* Status unknown. */
	CHECK_EQ_INT(try_resp(&p, p.leaf.cert, p.root.cert,
					       &p.root,
					       V_OCSP_CERTSTATUS_UNKNOWN, -60,
					       3600, err), -1);
	/* Garbage, and trailing bytes. */
	CHECK_EQ_INT(tls_ocsp_staple_set(p.cert, (const uint8_t *)"\x30\x03"
					 "abc", 5, time(NULL), err,
					 sizeof(err)), -1);
	{
		int n = make_resp(p.leaf.cert, p.root.cert, &p.root,
				  V_OCSP_CERTSTATUS_GOOD, -60, 3600, &der);
		uint8_t *longer = malloc((size_t)n + 1);

		memcpy(longer, der, (size_t)n);
		longer[n] = 0;
		CHECK_EQ_INT(tls_ocsp_staple_set(p.cert, longer, (size_t)n + 1,
						 time(NULL), err, sizeof(err)),
			     -1);
		free(longer);
		OPENSSL_free(der);
	}
	/* A signer with its key but not issued by the CA. */
	CHECK_EQ_INT(try_resp(&p, p.leaf.cert, p.root.cert,
					       &nosign, V_OCSP_CERTSTATUS_GOOD,
					       -60, 3600, err), -1);
	CHECK_EQ_INT(handshake_status(&p, true, got, sizeof(got)), 0);
	tt_ca_free(&other);
	tt_ca_free(&stranger);
	tt_ca_free(&nosign);
	tt_ca_free(&sibling);
	pki_free(&p);
}

TEST(staple_delegated_responder)
{
	struct pki p;
	struct tt_ca ok, noeku;
	char err[256];

	pki_init(&p, OCSP_URL);
	ok = tt_issue(&p.root, "responder", NULL, NULL, 0, 20, -1, 30);
	noeku = tt_issue(&p.root, "not a responder", NULL, NULL, 0, 21, -1,
			 30);
	/* Re-sign `ok` with the OCSPSigning EKU. */
	tt_ext(ok.cert, p.root.cert, NID_ext_key_usage, "OCSPSigning");
	X509_sign(ok.cert, p.root.key, EVP_sha256());
	CHECK_EQ_INT(try_resp(&p, p.leaf.cert, p.root.cert, &ok,
					       V_OCSP_CERTSTATUS_GOOD, -60,
					       3600, err), 0);
	CHECK_EQ_INT(try_resp(&p, p.leaf.cert, p.root.cert,
					       &noeku, V_OCSP_CERTSTATUS_GOOD,
					       -60, 3600, err), -1);
	tt_ca_free(&ok);
	tt_ca_free(&noeku);
	pki_free(&p);
}

TEST(staple_revoked_is_stapled_and_kept_on_swap)
{
	struct pki p;
	struct tt_pem other = tt_selfsigned("other.test", NULL);
	uint8_t *der, got[4096];
	char err[256];
	int n;

	pki_init(&p, OCSP_URL);
	/* Revoked is the truth: it is stapled (and logged). */
	n = make_resp(p.leaf.cert, p.root.cert, &p.root,
		      V_OCSP_CERTSTATUS_REVOKED, -60, 3600, &der);
	CHECK_EQ_INT(staple(&p, der, n, err), 0);
	/* Adding another certificate keeps this one, with its staple. */
	CHECK_EQ_INT(tls_server_cert_upsert(p.srv, other.crt, other.crt_len,
					    other.key, other.key_len, err,
					    sizeof(err)), 0);
	CHECK_EQ_INT(handshake_status(&p, true, got, sizeof(got)), n);
	tt_pem_free(&other);
	pki_free(&p);
}

/* ---- a real responder ---- */

static int lo_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int ok;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	ok = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
	ifr.ifr_flags |= IFF_UP;
	ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
	if (s >= 0)
		close(s);
	return ok ? 0 : -1;
}

static int write_pem(const char *path, X509 *x, EVP_PKEY *k)
{
	BIO *b = BIO_new_file(path, "w");
	int ok = b && (x ? PEM_write_bio_X509(b, x) :
		       PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
						NULL));

	BIO_free(b);
	return ok ? 0 : -1;
}

/* Starts argv with stdout/stderr to `log`; returns the pid. */
static pid_t spawn(const char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static char *slurp(const char *path);

/* Polls every 50 ms, up to `secs`, for `text` in the file `path`. */
static int wait_for_log(const char *path, const char *text, int secs)
{
	for (int i = 0; i < secs * 20; i++) {
		if (strstr(slurp(path), text))
			return 1;
		usleep(50000);
	}
	return 0;
}

/* Serves one TLS connection on `lfd` with the server (blocking fd). */
struct one_conn {
	struct tls_server *srv;
	int lfd, ok;
};

static void *serve_one(void *arg)
{
	struct one_conn *oc = arg;
	int fd = accept(oc->lfd, NULL, NULL), want = 0, r;
	SSL *ssl = fd >= 0 ? tls_server_conn_new(oc->srv, fd) : NULL;

	while (ssl && (r = tls_conn_handshake(ssl, &want)) == -EAGAIN) {
		struct pollfd pfd = { fd, want == TLS_WANT_WRITE ? POLLOUT :
				      POLLIN, 0 };

		poll(&pfd, 1, 5000);
	}
	oc->ok = ssl && r == 0;
	if (ssl) {
		tls_conn_shutdown(ssl);
		tls_conn_free(ssl);
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int listen_port(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 4) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Writes the responder's files: CA cert and key, index with the leaf. */
static int responder_files(const char *dir, struct pki *p)
{
	char path[512], line[512];
	FILE *f;
	const ASN1_TIME *na = X509_get0_notAfter(p->leaf.cert);
	struct tm tm;

	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	if (write_pem(path, p->root.cert, NULL) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	if (write_pem(path, NULL, p->root.key) < 0)
		return -1;
	ASN1_TIME_to_tm(na, &tm);
	/* index.txt: status, expiry (YYMMDDHHMMSSZ), revocation, serial
	 * (hex), file, subject. */
	snprintf(line, sizeof(line), "V\t%02d%02d%02d%02d%02d%02dZ\t\t1234\t"
		 "unknown\t/CN=ocsp.test\n", tm.tm_year % 100, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	snprintf(path, sizeof(path), "%s/index.txt", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(line, f);
	fclose(f);
	return 0;
}

TEST(real_responder_and_s_client)
{
	struct pki p;
	char dir[] = "/tmp/postern-ocsp-XXXXXX", idx[600], ca[600], key[600];
	char rlog[600], clog[600], port[16], connect_to[64];
	pid_t responder = -1, client;
	uint64_t next = 0;
	struct one_conn oc;
	pthread_t th;
	const char *out;
	int status;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0 || lo_up() < 0) {
		UNIT_FAIL("needs root to make a private network namespace "
			  "(errno %d)", errno);
		return;
	}
	pki_init(&p, OCSP_URL);
	CHECK(mkdtemp(dir) != NULL);
	CHECK_EQ_INT(responder_files(dir, &p), 0);
	snprintf(idx, sizeof(idx), "%s/index.txt", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(key, sizeof(key), "%s/ca.key", dir);
	snprintf(rlog, sizeof(rlog), "%s/responder.log", dir);
	snprintf(clog, sizeof(clog), "%s/s_client.log", dir);
	snprintf(port, sizeof(port), "%d", RESPONDER_PORT);
	{
		const char *argv[] = { "openssl", "ocsp", "-index", idx, "-port",
				 port, "-rsigner", ca, "-rkey", key, "-CA", ca,
				 "-nmin", "10", NULL };

		responder = spawn(argv, rlog);
	}
	/* Ready when it says so (a probe connection would hold the single-
	 * threaded responder until it times out). */
	CHECK(wait_for_log(rlog, "waiting for OCSP client connections", 10));
	/* The control thread's pass: fetched, verified, cached. */
	CHECK_EQ_INT(tls_ocsp_refresh(p.srv, &next), 0);
	CHECK(next >= 60 && next <= 600);
	/* A second pass right away fetches nothing (not due). */
	CHECK_EQ_INT(tls_ocsp_refresh(p.srv, &next), 0);
	/* s_client sees the staple. */
	oc.srv = p.srv;
	oc.lfd = listen_port(TLS_PORT);
	oc.ok = 0;
	CHECK(oc.lfd >= 0);
	pthread_create(&th, NULL, serve_one, &oc);
	snprintf(connect_to, sizeof(connect_to), "127.0.0.1:%d", TLS_PORT);
	{
		const char *argv[] = { "openssl", "s_client", "-connect", connect_to,
				 "-servername", "ocsp.test", "-status", NULL };

		client = spawn(argv, clog);
	}
	waitpid(client, &status, 0);
	pthread_join(th, NULL);
	close(oc.lfd);
	CHECK(oc.ok);
	out = slurp(clog);
	CHECK(strstr(out, "OCSP Response Status: successful") != NULL);
	CHECK(strstr(out, "Cert Status: good") != NULL);
	CHECK(strstr(out, "Serial Number: 1234") != NULL);
	if (!strstr(out, "Cert Status: good"))
		printf("s_client output:\n%s\n", out);
	kill(responder, SIGTERM);
	waitpid(responder, &status, 0);
	/* With the responder gone, the cached staple is still served. */
	{
		uint8_t got[4096];

		CHECK(handshake_status(&p, true, got, sizeof(got)) > 0);
	}
	unlink(idx);
	unlink(ca);
	unlink(key);
	unlink(rlog);
	unlink(clog);
	rmdir(dir);
	pki_free(&p);
}

TEST(refresh_failure_keeps_going)
{
	struct pki p;
	uint64_t next = 0;

	/* Nothing listens there (the private namespace of the test above,
	 * or a closed port): the pass reports the certificate as missing
	 * and asks to retry later. */
	pki_init(&p, "http://127.0.0.1:1/");
	CHECK_EQ_INT(tls_ocsp_refresh(p.srv, &next), 1);
	CHECK_EQ_U64(next, TLS_OCSP_RETRY_S);
	pki_free(&p);
}

int main(void)
{
	log_set_level(getenv("TLS_DEBUG") ? LOG_DEBUG : LOG_ERR);
	signal(SIGPIPE, SIG_IGN);
	RUN(staple_good_and_served);
	RUN(staple_refused);
	RUN(staple_delegated_responder);
	RUN(staple_revoked_is_stapled_and_kept_on_swap);
	RUN(real_responder_and_s_client);
	RUN(refresh_failure_keeps_going);
	return unit_done();
}
