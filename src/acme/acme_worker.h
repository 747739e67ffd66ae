/* acme_worker.h - the ACME worker thread: runs blocking ACME jobs (orders,
 * renewalInfo checks) one at a time and hands each finished job back to
 * the control loop through a loop_async. The control loop never waits on
 * the network; the worker never touches control state.
 *
 * Ownership: a job belongs to the worker from acme_worker_submit until it
 * is passed to the done callback, which then owns it (acme_job_free). */
#ifndef POSTERN_ACME_ACME_WORKER_H
#define POSTERN_ACME_ACME_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "acme/acme_client.h"
#include "acme/acme_mgr.h"
#include "core/loop.h"
#include "core/workq.h"

enum acme_job_kind {
	ACME_JOB_ISSUE = 0,	/* place an order for names */
	ACME_JOB_ARI,		/* fetch renewalInfo for ari_id */
	ACME_JOB_REVOKE,	/* revokeCert for cert_pem */
	ACME_JOB_MAX
};

struct acme_job {
	enum acme_job_kind kind;
	unsigned slot;				/* the manager's entry */
	char names[ACME_MGR_MAX_NAMES][256];
	size_t n_names;
	char ari_id[256];			/* ARI: whose info; ISSUE: replaces */
	char id[64];				/* the certificate's id */
	struct acme_mgr_opts opts;		/* ISSUE: challenge, key type */
	char **dns_kv;				/* ISSUE: stored DNS-01 credentials
						 * (secret; acme_kv_free) or NULL */
	char *cert_pem;				/* REVOKE */
	int reason;				/* REVOKE: RFC 5280 code */
	/* results */
	int rc;					/* 0 or -errno (acme_client.h) */
	char err[512];
	uint64_t retry_after_s;
	unsigned bad_nonces;
	struct acme_issue_result res;
	struct acme_renewal_info ri;
	struct workq_job wq;			/* the worker's queue */
};

struct acme_worker;
typedef void acme_worker_done_fn(void *arg, struct acme_job *job);

/* Starts the thread. `cfg` is copied. The account key is `key_pem` when
 * given (store mode; borrowed), else cfg->account_key's file (created
 * when missing). Returns NULL with err. */
struct acme_chall;
struct acme_worker *acme_worker_new(struct loop *loop,
				    const struct acme_mgr_cfg *cfg,
				    const char *key_pem, struct acme_chall *chall,
				    acme_worker_done_fn *done, void *arg,
				    char *err, size_t errlen);
/* Queues a job (control thread). */
void acme_worker_submit(struct acme_worker *w, struct acme_job *job);
/* Cancels the job in flight, joins the thread, frees queued jobs. */
void acme_worker_free(struct acme_worker *w);
void acme_job_free(struct acme_job *job);

#endif
