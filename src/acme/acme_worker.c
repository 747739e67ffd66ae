/* acme_worker.c - one client on a core/workq of one thread. */
#define LOG_SUBSYS "acme"
#include "acme/acme_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme/acme_chall.h"
#include "acme/acme_dns01.h"
#include "acme/dns_provider.h"
#include "core/compiler.h"
#include "core/conf.h"
#include "core/file.h"
#include "core/log.h"
#include "core/secure.h"

struct acme_worker {
	struct workq q;		/* one thread: jobs run and come back in order */
	acme_worker_done_fn *done_fn;
	void *arg;
	struct acme_mgr_cfg cfg;
	struct acme_chall *chall;	/* the owner's (acme_mgr_env) */
	/* thread-owned */
	struct acme_key key;
	struct acme_client client;
	bool have_client, registered;
	struct acme_http dns_http;
	struct dns_provider *provider;
	struct acme_dns01 dns01;
};

/* One job's solvers, and the DNS provider made from its stored
 * credentials. */
struct worker_solvers {
	struct acme_solver s[3];
	size_t n;
	struct acme_http http;
	struct dns_provider *provider;
	struct acme_dns01 dns01;
};

void acme_job_free(struct acme_job *job)
{
	if (!job)
		return;
	acme_issue_result_free(&job->res);
	acme_renewal_info_free(&job->ri);
	acme_kv_free(job->dns_kv);
	free(job->cert_pem);
	free(job);
}

void acme_kv_free(char **kv)
{
	if (!kv)
		return;
	for (size_t i = 0; kv[i]; i++)
		secure_free(kv[i], strlen(kv[i]));
	free(kv);
}

/* Loads (or creates, mode 0600) the account key; `key_pem` (store mode)
 * comes first. */
static int worker_key(struct acme_worker *w, const char *key_pem, char *err,
		      size_t errlen)
{
	char *pem = NULL;
	int fd, rc;
	ssize_t n;

	if (key_pem) {
		rc = acme_key_from_pem(key_pem, strlen(key_pem), &w->key);
		if (rc)
			snprintf(err, errlen, "the stored account key is not usable");
		return rc;
	}
	fd = open(w->cfg.account_key, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		pem = calloc(1, 65537);
		n = pem ? read(fd, pem, 65536) : -1;
		close(fd);
		rc = n > 0 ? acme_key_from_pem(pem, (size_t)n, &w->key) : -EINVAL;
		secure_free(pem, 65537);
		if (rc)
			snprintf(err, errlen, "%s: not a usable account key", w->cfg.account_key);
		return rc;
	}
	/* Only a missing key is made anew: one we cannot open (EACCES, a
	 * loop of links) must never be replaced by a fresh account. */
	if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", w->cfg.account_key, strerror(errno));
		return -EIO;
	}
	if ((rc = acme_key_generate(ACME_KEY_EC256, &w->key)))
		return rc;
	pem = acme_pkey_to_pem(w->key.pkey);
	rc = pem ? file_replace(w->cfg.account_key, pem, strlen(pem), 0600) : -ENOMEM;
	if (pem)
		secure_free(pem, strlen(pem));
	if (rc)
		snprintf(err, errlen, "cannot write the account key %s", w->cfg.account_key);
	return rc;
}

static int worker_dns(struct acme_worker *w, char *err, size_t errlen)
{
	struct conf cf = { 0 };
	const char *kv[130];
	size_t n = 0;
	int rc;

	if (conf_load(&cf, w->cfg.dns_conf, err, errlen))
		return -EINVAL;
	for (size_t i = 0; i < cf.n && n + 3 < 130; i++) {
		kv[n++] = cf.v[i].key;
		kv[n++] = cf.v[i].value;
	}
	kv[n] = NULL;
	rc = acme_http_init(&w->dns_http, NULL, 30000);
	if (rc == 0)
		rc = dns_provider_new(w->cfg.dns_provider, kv, &w->dns_http, &w->provider,
				      err, errlen);
	conf_free(&cf);
	if (rc)
		return rc;
	acme_dns01_init(&w->dns01, w->provider);
	for (size_t i = 0; i < w->cfg.n_dns_servers; i++)
		w->dns01.servers[w->dns01.n_servers++] = w->cfg.dns_servers[i];
	if (w->cfg.dns_timeout_s)
		w->dns01.timeout_s = w->cfg.dns_timeout_s;
	return 0;
}

/* Checks the configured challenge types; dns-01 with a dns_conf file
 * gets its provider now (stored credentials come with each job). */
static int worker_solvers_check(struct acme_worker *w, char *err, size_t errlen)
{
	char list[64], *save = NULL;

	snprintf(list, sizeof(list), "%s", w->cfg.challenges);
	for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (!strcmp(t, "dns-01") && w->cfg.dns_conf[0]) {
			if (worker_dns(w, err, errlen))
				return -EINVAL;
		} else if (strcmp(t, "http-01") && strcmp(t, "tls-alpn-01") &&
			   strcmp(t, "dns-01")) {
			snprintf(err, errlen, "acme: unknown challenge type '%s'", t);
			return -EINVAL;
		}
	}
	return 0;
}

/* dns-01 for a job: a provider from the job's stored credentials, else
 * the one from dns_conf. Returns 0 or -EINVAL with a message. */
static int worker_job_dns(struct acme_worker *w, const struct acme_job *job,
			  struct worker_solvers *ws, struct acme_solver *out,
			  char *err, size_t errlen)
{
	const char *name = job->opts.dns_provider[0] ? job->opts.dns_provider
						     : w->cfg.dns_provider;

	if (!job->dns_kv) {
		if (!w->provider || strcmp(name, w->cfg.dns_provider)) {
			snprintf(err, errlen, "dns-01: no credentials for DNS provider "
				 "'%s' (postern dns-provider set)", name);
			return -EINVAL;
		}
		*out = w->dns01.solver;
		return 0;
	}
	if (acme_http_init(&ws->http, NULL, 30000) ||
	    dns_provider_new(name, (const char *const *)job->dns_kv, &ws->http,
			     &ws->provider, err, errlen))
		return -EINVAL;
	acme_dns01_init(&ws->dns01, ws->provider);
	for (size_t i = 0; i < w->cfg.n_dns_servers; i++)
		ws->dns01.servers[ws->dns01.n_servers++] = w->cfg.dns_servers[i];
	if (w->cfg.dns_timeout_s)
		ws->dns01.timeout_s = w->cfg.dns_timeout_s;
	ws->dns01.cancel = &w->client.cancel;
	*out = ws->dns01.solver;
	return 0;
}

/* The job's solvers: its own challenge type, else the configured list. A
 * configured dns-01 without credentials is left out (http-01 may still
 * do); asked for explicitly, or the only one, it is an error. */
static int worker_job_solvers(struct acme_worker *w, const struct acme_job *job,
			      struct worker_solvers *ws, char *err, size_t errlen)
{
	char list[64], *save = NULL;
	int dns_rc = 0;

	snprintf(list, sizeof(list), "%s", job->opts.challenge[0] ? job->opts.challenge
			 : w->cfg.challenges[0] ? w->cfg.challenges : "http-01");
	for (char *t = strtok_r(list, ", ", &save); t && ws->n < 3;
	     t = strtok_r(NULL, ", ", &save)) {
		if (!strcmp(t, "http-01"))
			ws->s[ws->n++] = (struct acme_solver){ &acme_http01_ops, w->chall };
		else if (!strcmp(t, "tls-alpn-01"))
			ws->s[ws->n++] = (struct acme_solver){ &acme_alpn01_ops, w->chall };
		else if (!strcmp(t, "dns-01") && !ws->provider &&
			 !(dns_rc = worker_job_dns(w, job, ws, &ws->s[ws->n], err, errlen)))
			ws->n++;
	}
	if (dns_rc && (job->opts.challenge[0] || ws->n == 0))
		return dns_rc;
	err[0] = 0;
	return 0;
}

static void worker_solvers_free(struct worker_solvers *ws)
{
	dns_provider_free(ws->provider);
	if (ws->http.curl)
		acme_http_free(&ws->http);
}

/* Registers the account once; later jobs reuse it. */
static int worker_account(struct acme_worker *w)
{
	const char *contact[2] = { NULL, NULL };
	char mailto[300], *mac = NULL;
	struct acme_account_req ar = { .contact = contact,
				       .agree_tos = w->cfg.agree_tos };
	int rc;

	if (w->registered)
		return 0;
	if (w->cfg.email[0]) {
		snprintf(mailto, sizeof(mailto), "mailto:%s", w->cfg.email);
		contact[0] = mailto;
	}
	if (w->cfg.eab_kid[0]) {
		int fd = open(w->cfg.eab_key_file, O_RDONLY | O_CLOEXEC);
		mac = calloc(1, 1025);
		ssize_t n = fd >= 0 && mac ? read(fd, mac, 1024) : -1;
		if (fd >= 0)
			close(fd);
		while (n > 0 && (mac[n - 1] == '\n' || mac[n - 1] == '\r'))
			mac[--n] = 0;
		ar.eab_kid = w->cfg.eab_kid;
		ar.eab_mac = mac ? mac : "";
	}
	rc = acme_client_account(&w->client, &ar);
	if (mac)
		secure_free(mac, 1025);
	w->registered = rc == 0;
	return rc;
}

static int worker_issue(struct acme_worker *w, struct acme_job *job)
{
	const char *names[ACME_MGR_MAX_NAMES];
	struct worker_solvers ws = { 0 };
	int rc = worker_job_solvers(w, job, &ws, w->client.err, sizeof(w->client.err));

	if (rc == 0 && (rc = worker_account(w)) == 0) {
		for (size_t i = 0; i < job->n_names; i++)
			names[i] = job->names[i];
		struct acme_issue_req req = {
			.names = names, .n_names = job->n_names,
			.key_type = job->opts.key_type_set ? job->opts.key_type
							   : w->cfg.key_type,
			.solvers = ws.s, .n_solvers = ws.n,
			.replaces = job->ari_id[0] ? job->ari_id : NULL,
		};
		w->client.bad_nonces = 0;
		rc = acme_client_issue(&w->client, &req, &job->res);
		job->bad_nonces = w->client.bad_nonces;
	}
	worker_solvers_free(&ws);
	return rc;
}

static void worker_run(struct acme_worker *w, struct acme_job *job)
{
	int rc;

	w->client.err[0] = 0;
	w->client.retry_after_s = 0;
	if (job->kind == ACME_JOB_ARI)
		rc = acme_client_renewal_info(&w->client, job->ari_id, &job->ri);
	else if (job->kind == ACME_JOB_REVOKE)
		rc = worker_account(w) ?: acme_client_revoke(&w->client, job->cert_pem,
							     job->reason);
	else
		rc = worker_issue(w, job);
	job->rc = rc;
	job->retry_after_s = w->client.retry_after_s;
	snprintf(job->err, sizeof(job->err), "%s", w->client.err);
}

/* The worker thread. */
static void worker_job_run(void *arg, struct workq_job *wq)
{
	worker_run(arg, container_of(wq, struct acme_job, wq));
}

/* Control loop: hands a finished job to the manager. */
static void worker_job_done(void *arg, struct workq_job *wq)
{
	struct acme_worker *w = arg;

	w->done_fn(w->arg, container_of(wq, struct acme_job, wq));
}

static void worker_job_drop(void *arg, struct workq_job *wq)
{
	(void)arg;
	acme_job_free(container_of(wq, struct acme_job, wq));
}

struct acme_worker *acme_worker_new(struct loop *loop,
				    const struct acme_mgr_cfg *cfg,
				    const char *key_pem, struct acme_chall *chall,
				    acme_worker_done_fn *done, void *arg,
				    char *err, size_t errlen)
{
	struct acme_worker *w = calloc(1, sizeof(*w));
	struct acme_client_cfg ccfg = { 0 };
	struct workq_cfg qcfg = { .threads = 1, .run = worker_job_run,
				  .done = worker_job_done, .arg = w };

	if (!w)
		return NULL;
	w->cfg = *cfg;
	w->chall = chall;
	w->done_fn = done;
	w->arg = arg;
	ccfg.directory_url = w->cfg.directory;
	ccfg.ca_file = w->cfg.ca_file[0] ? w->cfg.ca_file : NULL;
	if (worker_key(w, key_pem, err, errlen) || worker_solvers_check(w, err, errlen) ||
	    acme_client_init(&w->client, &ccfg, &w->key))
		goto fail;
	w->have_client = true;
	/* Shutdown cancels the DNS propagation wait too, not only the CA's. */
	w->dns01.cancel = &w->client.cancel;
	if (workq_init(&w->q, loop, &qcfg)) {
		snprintf(err, errlen, "acme: cannot start the worker thread");
		goto fail;
	}
	return w;
fail:
	if (!err[0])
		snprintf(err, errlen, "acme: cannot set up the client");
	acme_worker_free(w);
	return NULL;
}

void acme_worker_submit(struct acme_worker *w, struct acme_job *job)
{
	workq_push(&w->q, &job->wq, WORKQ_LAST);	/* unbounded */
}

void acme_worker_free(struct acme_worker *w)
{
	if (!w)
		return;
	workq_stop(&w->q);
	if (w->have_client)	/* cuts the job in flight short */
		acme_client_cancel(&w->client);
	workq_fini(&w->q, worker_job_drop);
	if (w->have_client)
		acme_client_free(&w->client);
	acme_key_free(&w->key);
	dns_provider_free(w->provider);
	if (w->dns_http.curl)
		acme_http_free(&w->dns_http);
	free(w);
}
