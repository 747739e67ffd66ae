/* acme_cmd.c - `postern acme`: the ACME client from the command line.
 *
 * Runs one operation against a CA and exits: issue (standalone HTTP-01 or
 * TLS-ALPN-01 responders, or DNS-01 through a provider), revoke,
 * renewal-info (ARI) and cert-info. The hub runs the same code on its ACME
 * worker thread; this entry point is for a hub-less host, scripts and the
 * integration tests. Secrets come from files, never from argv. */
#define LOG_SUBSYS "acme"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "acme/acme_cert.h"
#include "acme/acme_chall.h"
#include "acme/acme_client.h"
#include "acme/acme_dns01.h"
#include "acme/acme_renew.h"
#include "acme/acme_standalone.h"
#include "core/exit.h"
#include "acme/acme_cmd.h"
#include "core/compiler.h"
#include "core/conf.h"
#include "core/file.h"
#include "core/log.h"
#include "core/num.h"
#include "core/secure.h"

#define CMD_MAX_LIST 32
#define CMD_FILE_MAX (1u << 20)

struct acme_opts {
	const char *directory, *ca_file, *account_key, *eab_kid, *eab_key_file;
	const char *contact[CMD_MAX_LIST + 1];
	size_t n_contact;
	bool agree_tos;
	enum acme_key_type key_type, account_key_type;
	const char *names[CMD_MAX_LIST];
	size_t n_names;
	const char *challenges[4];
	size_t n_challenges;
	const char *http_listen, *alpn_listen;
	const char *dns_provider, *dns_conf;
	const char *dns_servers[ACME_DNS01_MAX_SERVERS];
	size_t n_dns_servers;
	unsigned dns_timeout_s, poll_timeout_s;
	const char *cert_out, *key_out, *cert_in, *replaces;
	int reason;
	bool deactivate;
};

static void acme_cmd_usage(FILE *f)
{
	fprintf(f,
		"usage: postern acme issue --directory URL --account-key FILE -d NAME...\n"
		"                          --cert-out FILE --key-out FILE [options]\n"
		"       postern acme revoke --directory URL --account-key FILE --cert FILE [--reason N]\n"
		"       postern acme renewal-info --directory URL --cert FILE\n"
		"       postern acme cert-info --cert FILE\n"
		"       postern acme deactivate --directory URL --account-key FILE\n"
		"options:\n"
		"  --ca-file FILE            trust this CA bundle for the ACME server\n"
		"  --email ADDR              account contact (repeatable)\n"
		"  --agree-tos               agree to the CA's terms of service\n"
		"  --eab-kid KID --eab-hmac-key-file FILE   External Account Binding\n"
		"  --account-key-type T      ec256 (default), rsa2048, rsa3072 (new keys)\n"
		"  --key-type T              certificate key: ec256 (default), rsa2048, rsa3072\n"
		"  --challenge TYPE          http-01, tls-alpn-01, dns-01 (repeatable, in order)\n"
		"  --http-listen ADDR        standalone HTTP-01 responder (e.g. 0.0.0.0:80)\n"
		"  --alpn-listen ADDR        standalone TLS-ALPN-01 responder (e.g. 0.0.0.0:443)\n"
		"  --dns-provider NAME       cloudflare, hetzner, digitalocean, route53, rfc2136\n"
		"  --dns-conf FILE           provider settings, 'key = value' lines (secrets)\n"
		"  --dns-check-server ADDR   authoritative server to check (repeatable)\n"
		"  --dns-timeout SECONDS     propagation wait (120)\n"
		"  --poll-timeout SECONDS    order/authorization wait (300)\n"
		"  --renew FILE              renewal of this certificate (ARI 'replaces')\n");
}

static int read_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *b = NULL;
	ssize_t n;

	if (fd < 0)
		return -errno;
	b = malloc(CMD_FILE_MAX + 1);
	n = b ? read(fd, b, CMD_FILE_MAX) : -1;
	close(fd);
	if (n < 0) {
		free(b);
		return -EIO;
	}
	b[n] = 0;
	*out = b;
	*len = (size_t)n;
	return 0;
}

static int load_account_key(const struct acme_opts *o, struct acme_key *k)
{
	char *pem;
	size_t len;
	int rc = read_file(o->account_key, &pem, &len);

	if (rc == 0) {
		rc = acme_key_from_pem(pem, len, k);
		secure_free(pem, CMD_FILE_MAX + 1);
		if (rc)
			fprintf(stderr, "postern acme: %s: not an EC P-256 or RSA key\n",
				o->account_key);
		return rc;
	}
	if (rc != -ENOENT) {
		fprintf(stderr, "postern acme: %s: %s\n", o->account_key, strerror(-rc));
		return rc;
	}
	if ((rc = acme_key_generate(o->account_key_type, k)))
		return rc;
	pem = acme_pkey_to_pem(k->pkey);
	rc = pem ? file_replace(o->account_key, pem, strlen(pem), 0600) : -ENOMEM;
	if (pem)
		secure_free(pem, strlen(pem));
	if (rc == 0)
		log_info("new %s account key in %s", acme_key_type_name(o->account_key_type),
			 o->account_key);
	return rc;
}

static int opt_add(const char **list, size_t *n, size_t max, const char *v)
{
	if (*n >= max) {
		fprintf(stderr, "postern acme: too many values for an option\n");
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

static int opt_secs(const char *v, unsigned *out)
{
	uint64_t x;

	if (num_parse_cstr(v, 1, 86400, &x)) {
		fprintf(stderr, "postern acme: bad number of seconds '%s'\n", v);
		return -1;
	}
	*out = (unsigned)x;
	return 0;
}

static int opt_parse_one(struct acme_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'D': o->directory = arg; return 0;
	case 'C': o->ca_file = arg; return 0;
	case 'k': o->account_key = arg; return 0;
	case 'e': return opt_add(o->contact, &o->n_contact, CMD_MAX_LIST, arg);
	case 'T': o->agree_tos = true; return 0;
	case 'K': o->eab_kid = arg; return 0;
	case 'H': o->eab_key_file = arg; return 0;
	case 'd': return opt_add(o->names, &o->n_names, CMD_MAX_LIST, arg);
	case 'c': return opt_add(o->challenges, &o->n_challenges, 3, arg);
	case 'h': o->http_listen = arg; return 0;
	case 'a': o->alpn_listen = arg; return 0;
	case 'p': o->dns_provider = arg; return 0;
	case 'f': o->dns_conf = arg; return 0;
	case 's': return opt_add(o->dns_servers, &o->n_dns_servers,
				 ACME_DNS01_MAX_SERVERS, arg);
	case 'w': return opt_secs(arg, &o->dns_timeout_s);
	case 'W': return opt_secs(arg, &o->poll_timeout_s);
	case 'o': o->cert_out = arg; return 0;
	case 'O': o->key_out = arg; return 0;
	case 'i': o->cert_in = arg; return 0;
	case 'r': o->cert_in = arg; o->replaces = ""; return 0;
	case 'R': {
		uint64_t v;
		if (num_parse_cstr(arg, 0, 10, &v))
			return -1;
		o->reason = (int)v;
		return 0;
	}
	case 't': return acme_key_type_parse(arg, &o->key_type);
	case 'A': return acme_key_type_parse(arg, &o->account_key_type);
	default: return -1;
	}
}

static int opt_parse(struct acme_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "directory", 1, 0, 'D' }, { "ca-file", 1, 0, 'C' },
		{ "account-key", 1, 0, 'k' }, { "email", 1, 0, 'e' },
		{ "agree-tos", 0, 0, 'T' }, { "eab-kid", 1, 0, 'K' },
		{ "eab-hmac-key-file", 1, 0, 'H' }, { "domain", 1, 0, 'd' },
		{ "challenge", 1, 0, 'c' }, { "http-listen", 1, 0, 'h' },
		{ "alpn-listen", 1, 0, 'a' }, { "dns-provider", 1, 0, 'p' },
		{ "dns-conf", 1, 0, 'f' }, { "dns-check-server", 1, 0, 's' },
		{ "dns-timeout", 1, 0, 'w' }, { "poll-timeout", 1, 0, 'W' },
		{ "cert-out", 1, 0, 'o' }, { "key-out", 1, 0, 'O' },
		{ "cert", 1, 0, 'i' }, { "renew", 1, 0, 'r' },
		{ "reason", 1, 0, 'R' }, { "key-type", 1, 0, 't' },
		{ "account-key-type", 1, 0, 'A' }, { 0, 0, 0, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:", lo, NULL)) != -1)
		if (opt_parse_one(o, c, optarg)) {
			acme_cmd_usage(stderr);
			return -1;
		}
	if (optind != argc) {
		fprintf(stderr, "postern acme: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Reads the provider's "key = value" settings file into a kv list. */
static int dns_conf_load(const char *path, struct conf *cf, const char **kv,
			 size_t cap)
{
	char err[256];
	size_t n = 0;

	if (conf_load(cf, path, err, sizeof(err))) {
		fprintf(stderr, "postern acme: %s\n", err);
		return -1;
	}
	for (size_t i = 0; i < cf->n && n + 3 < cap; i++) {
		kv[n++] = cf->v[i].key;
		kv[n++] = cf->v[i].value;
	}
	kv[n] = NULL;
	return 0;
}

struct issue_ctx {
	struct acme_http dns_http;
	struct dns_provider *provider;
	struct acme_dns01 dns01;
	struct acme_solver solvers[3];
	size_t n_solvers;
	struct acme_chall chall;	/* what the standalone responders serve */
	struct acme_standalone http_sa, alpn_sa;
	struct conf dns_cf;
};

static int issue_dns(struct issue_ctx *ic, const struct acme_opts *o)
{
	const char *kv[130];
	char err[512];

	if (!o->dns_provider || !o->dns_conf) {
		fprintf(stderr, "postern acme: dns-01 needs --dns-provider and --dns-conf\n");
		return -1;
	}
	if (dns_conf_load(o->dns_conf, &ic->dns_cf, kv, ARRAY_SIZE(kv)) ||
	    acme_http_init(&ic->dns_http, NULL, 30000))
		return -1;
	if (dns_provider_new(o->dns_provider, kv, &ic->dns_http, &ic->provider, err,
			     sizeof(err))) {
		fprintf(stderr, "postern acme: %s\n", err);
		return -1;
	}
	acme_dns01_init(&ic->dns01, ic->provider);
	for (size_t i = 0; i < o->n_dns_servers; i++)
		ic->dns01.servers[ic->dns01.n_servers++] = o->dns_servers[i];
	if (o->dns_timeout_s)
		ic->dns01.timeout_s = o->dns_timeout_s;
	ic->solvers[ic->n_solvers++] = ic->dns01.solver;
	return 0;
}

/* Adds the solver `ops` answering from ic->chall and, when `listen` is
 * set, starts its standalone responder `sa` there (TLS for tls-alpn-01).
 * Returns 0 or acme_standalone_start's -errno. */
static int issue_standalone(struct issue_ctx *ic, const struct acme_solver_ops *ops,
			    struct acme_standalone *sa, const char *listen, bool tls)
{
	ic->solvers[ic->n_solvers++] = (struct acme_solver){ ops, &ic->chall };
	return listen ? acme_standalone_start(sa, &ic->chall, listen, tls) : 0;
}

static int issue_solvers(struct issue_ctx *ic, const struct acme_opts *o)
{
	const char *def[] = { "http-01" };
	const char *const *ch = o->n_challenges ? o->challenges : def;
	size_t n = o->n_challenges ? o->n_challenges : 1;

	for (size_t i = 0; i < n; i++) {
		int rc = 0;

		if (!strcmp(ch[i], "http-01")) {
			rc = issue_standalone(ic, &acme_http01_ops, &ic->http_sa,
					      o->http_listen, false);
		} else if (!strcmp(ch[i], "tls-alpn-01")) {
			rc = issue_standalone(ic, &acme_alpn01_ops, &ic->alpn_sa,
					      o->alpn_listen, true);
		} else if (!strcmp(ch[i], "dns-01")) {
			rc = issue_dns(ic, o);
		} else {
			fprintf(stderr, "postern acme: unknown challenge type '%s'\n", ch[i]);
			return -1;
		}
		if (rc) {
			if (rc < -1)
				fprintf(stderr, "postern acme: cannot listen: %s\n", strerror(-rc));
			return -1;
		}
	}
	return 0;
}

static void issue_ctx_free(struct issue_ctx *ic)
{
	acme_standalone_stop(&ic->http_sa);
	acme_standalone_stop(&ic->alpn_sa);
	acme_chall_fini(&ic->chall);	/* after the responders that read it */
	dns_provider_free(ic->provider);
	if (ic->dns_http.curl)
		acme_http_free(&ic->dns_http);
	conf_free(&ic->dns_cf);
}

static int cmd_fail(struct acme_client *c, int rc)
{
	fprintf(stderr, "postern acme: %s\n", c->err[0] ? c->err : strerror(-rc));
	if (rc == -EAGAIN)
		fprintf(stderr, "postern acme: retry after %llu s\n",
			(unsigned long long)c->retry_after_s);
	if (c->bad_nonces)
		fprintf(stderr, "postern acme: badNonce retries: %u\n", c->bad_nonces);
	return rc == -EIO ? CMD_EXIT_UNAVAILABLE : CMD_EXIT_FAIL;
}

/* A command's client and the account key it signs with (none without an
 * account); client_close frees both. */
struct cmd_client {
	struct acme_key key;
	struct acme_client c;
};

static void client_close(struct cmd_client *s)
{
	acme_client_free(&s->c);
	acme_key_free(&s->key);
}

/* Sets up s->c for o->directory and, with `need_account`, loads (or makes)
 * the account key and finds (or creates) the account. Returns 0 or an exit
 * code; either way client_close frees `s`. */
static int client_open(const struct acme_opts *o, struct cmd_client *s,
		       bool need_account)
{
	struct acme_client_cfg cfg = { .directory_url = o->directory,
				       .ca_file = o->ca_file,
				       .poll_timeout_s = o->poll_timeout_s };
	struct acme_account_req ar = { .contact = o->contact, .agree_tos = o->agree_tos,
				       .eab_kid = o->eab_kid };
	char *mac = NULL;
	size_t len;
	int rc;

	if (!o->directory || (need_account && !o->account_key)) {
		fprintf(stderr, "postern acme: --directory and --account-key are required\n");
		return CMD_EXIT_USAGE;
	}
	if (need_account && load_account_key(o, &s->key))
		return CMD_EXIT_FAIL;
	if (acme_client_init(&s->c, &cfg, need_account ? &s->key : NULL))
		return CMD_EXIT_FAIL;
	if (!need_account)
		return 0;
	if (o->eab_kid) {
		if (!o->eab_key_file || read_file(o->eab_key_file, &mac, &len)) {
			fprintf(stderr, "postern acme: --eab-kid needs a readable --eab-hmac-key-file\n");
			return CMD_EXIT_USAGE;
		}
		while (len && (mac[len - 1] == '\n' || mac[len - 1] == '\r'))
			mac[--len] = 0;
		ar.eab_mac = mac;
	}
	rc = acme_client_account(&s->c, &ar);
	if (mac)
		secure_free(mac, CMD_FILE_MAX + 1);
	return rc ? cmd_fail(&s->c, rc) : 0;
}

static void print_cert(const char *pem)
{
	struct acme_cert_info ci;

	if (acme_cert_info_get(pem, &ci) == 0) {
		printf("names=");
		for (size_t i = 0; i < ci.n_names; i++)
			printf("%s%s", i ? "," : "", ci.names[i]);
		printf("\nissuer=%s\nserial=%s\nnot_before=%lld\nnot_after=%lld\nari_id=%s\n",
		       ci.issuer, ci.serial_hex, (long long)ci.not_before,
		       (long long)ci.not_after, ci.ari_id ? ci.ari_id : "");
	}
	acme_cert_info_free(&ci);
}

/* --renew FILE: the ARI certID of the certificate being replaced. */
static char *issue_replaces(const struct acme_opts *o)
{
	struct acme_cert_info ci;
	char *pem, *id = NULL;
	size_t len;

	if (!o->replaces || read_file(o->cert_in, &pem, &len))
		return NULL;
	if (acme_cert_info_get(pem, &ci) == 0 && ci.ari_id)
		id = strdup(ci.ari_id);
	acme_cert_info_free(&ci);
	free(pem);
	return id;
}

static int cmd_issue(struct acme_opts *o)
{
	struct cmd_client s = { 0 };
	struct acme_issue_result res = { 0 };
	struct issue_ctx ic = { 0 };
	char *replaces = issue_replaces(o);
	int ex, rc;

	if (!o->n_names || !o->cert_out || !o->key_out) {
		fprintf(stderr, "postern acme: issue needs -d NAME, --cert-out and --key-out\n");
		free(replaces);
		return CMD_EXIT_USAGE;
	}
	acme_chall_init(&ic.chall);
	if ((ex = client_open(o, &s, true)))
		goto out;
	ex = CMD_EXIT_USAGE;
	if (issue_solvers(&ic, o))
		goto out;
	struct acme_issue_req req = { .names = o->names, .n_names = o->n_names,
				      .key_type = o->key_type, .solvers = ic.solvers,
				      .n_solvers = ic.n_solvers, .replaces = replaces };
	rc = acme_client_issue(&s.c, &req, &res);
	if (rc) {
		ex = cmd_fail(&s.c, rc);
		goto out;
	}
	if (file_replace(o->key_out, res.key_pem, strlen(res.key_pem), 0600) ||
	    file_replace(o->cert_out, res.cert_pem,
			 strlen(res.cert_pem), 0644)) {
		fprintf(stderr, "postern acme: cannot write %s / %s\n", o->cert_out, o->key_out);
		ex = CMD_EXIT_FAIL;
		goto out;
	}
	printf("issued=%s\n", res.cert_url);
	printf("bad_nonce_retries=%u\n", s.c.bad_nonces);
	print_cert(res.cert_pem);
	ex = CMD_EXIT_OK;
out:
	acme_issue_result_free(&res);
	issue_ctx_free(&ic);
	client_close(&s);
	free(replaces);
	return ex;
}

static int cmd_revoke(struct acme_opts *o)
{
	struct cmd_client s = { 0 };
	char *pem = NULL;
	size_t len;
	int ex, rc;

	if (!o->cert_in || read_file(o->cert_in, &pem, &len)) {
		fprintf(stderr, "postern acme: revoke needs a readable --cert FILE\n");
		return CMD_EXIT_USAGE;
	}
	if ((ex = client_open(o, &s, true)) == 0) {
		rc = acme_client_revoke(&s.c, pem, o->reason);
		ex = rc ? cmd_fail(&s.c, rc) : CMD_EXIT_OK;
		if (rc == 0)
			printf("revoked\n");
	}
	free(pem);
	client_close(&s);
	return ex;
}

static int cmd_deactivate(struct acme_opts *o)
{
	struct cmd_client s = { 0 };
	int ex = client_open(o, &s, true), rc;

	if (ex == 0) {
		rc = acme_client_deactivate_account(&s.c);
		ex = rc ? cmd_fail(&s.c, rc) : CMD_EXIT_OK;
		if (rc == 0)
			printf("deactivated=%s\n", s.c.kid);
	}
	client_close(&s);
	return ex;
}

/* Prints the ARI window and the renewal time the hub would choose. */
static int cmd_renewal_info(struct acme_opts *o)
{
	struct cmd_client s = { 0 };
	struct acme_cert_info ci = { 0 };
	struct acme_renewal_info ri = { 0 };
	int64_t now = (int64_t)time(NULL), at;
	uint64_t rnd;
	char *pem = NULL;
	size_t len;
	int ex, rc;

	if (!o->cert_in || read_file(o->cert_in, &pem, &len) ||
	    acme_cert_info_get(pem, &ci) || !ci.ari_id) {
		fprintf(stderr, "postern acme: renewal-info needs --cert FILE with an AKI\n");
		ex = CMD_EXIT_USAGE;
		goto out;
	}
	if ((ex = client_open(o, &s, false)))
		goto out;
	secure_random(&rnd, sizeof(rnd));
	rc = acme_client_renewal_info(&s.c, ci.ari_id, &ri);
	if (rc == -ENOTSUP) {
		at = acme_renew_fallback(ci.not_before, ci.not_after);
		printf("source=lifetime\n");
	} else if (rc) {
		ex = cmd_fail(&s.c, rc);
		goto out;
	} else {
		at = acme_renew_from_window(ri.start, ri.end, now, rnd);
		printf("source=ari\nwindow_start=%lld\nwindow_end=%lld\nretry_after=%llu\n",
		       (long long)ri.start, (long long)ri.end,
		       (unsigned long long)s.c.retry_after_s);
	}
	printf("cert_id=%s\nnow=%lld\nrenew_at=%lld\nrenew_now=%d\n", ci.ari_id,
	       (long long)now, (long long)at, at <= now);
	ex = CMD_EXIT_OK;
out:
	acme_renewal_info_free(&ri);
	acme_cert_info_free(&ci);
	client_close(&s);
	free(pem);
	return ex;
}

int acme_cmd_main(int argc, char **argv)
{
	struct acme_opts o = { .reason = 0 };
	const char *verb = argc > 1 ? argv[1] : "";

	if (!strcmp(verb, "-h") || !strcmp(verb, "--help")) {
		acme_cmd_usage(stdout);
		return CMD_EXIT_OK;
	}
	if (argc < 2 || opt_parse(&o, argc - 1, argv + 1))
		return CMD_EXIT_USAGE;
	/* A peer closing mid-write (a validator hanging up) must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	if (getenv("POSTERN_LOG_LEVEL")) {
		enum log_level lv;
		if (log_level_parse(getenv("POSTERN_LOG_LEVEL"), &lv) == 0)
			log_set_level(lv);
	}
	if (!strcmp(verb, "issue"))
		return cmd_issue(&o);
	if (!strcmp(verb, "revoke"))
		return cmd_revoke(&o);
	if (!strcmp(verb, "renewal-info"))
		return cmd_renewal_info(&o);
	if (!strcmp(verb, "deactivate"))
		return cmd_deactivate(&o);
	if (!strcmp(verb, "cert-info")) {
		char *pem;
		size_t len;
		if (!o.cert_in || read_file(o.cert_in, &pem, &len))
			return CMD_EXIT_USAGE;
		print_cert(pem);
		free(pem);
		return CMD_EXIT_OK;
	}
	fprintf(stderr, "postern acme: unknown verb '%s'\n", verb);
	acme_cmd_usage(stderr);
	return CMD_EXIT_USAGE;
}
