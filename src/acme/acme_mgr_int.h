/* acme_mgr_int.h - what the manager's files share (acme_mgr.c: entries,
 * scheduling, results; acme_mgr_ops.c: what the hub asks of it). */
#ifndef POSTERN_ACME_ACME_MGR_INT_H
#define POSTERN_ACME_ACME_MGR_INT_H

#include "acme/acme_mgr.h"
#include "acme/acme_worker.h"
#include "core/loop.h"

#define MGR_SELFSIGNED_DAYS 7

enum mgr_ari { MGR_ARI_UNKNOWN = 0, MGR_ARI_YES, MGR_ARI_NO };

struct mgr_cert {
	bool used;
	char id[64];
	char names[ACME_MGR_MAX_NAMES][256];
	size_t n_names;
	bool real;		/* a CA-issued certificate is in place */
	bool have_file;		/* NAME.crt exists (maybe self-signed) */
	int64_t not_before, not_after;
	char ari_id[256];
	unsigned failures;
	bool busy;		/* a job is in flight */
	bool dropped;		/* removed while busy: free the slot when done */
	struct acme_mgr_opts opts;
	bool expiring_raised;
	struct loop_timer timer;
	struct acme_mgr *m;
};

struct acme_mgr {
	struct loop *loop;
	struct acme_mgr_cfg cfg;
	struct acme_mgr_hooks hooks;
	struct shtext *metrics;		/* the caller's (acme_mgr_new) */
	struct acme_worker *worker;
	enum mgr_ari ari;
	struct mgr_cert certs[ACME_MGR_MAX_CERTS];
	uint64_t events[ACME_EV_MAX];
	uint64_t orders, ari_checks, bad_nonces;
};

/* Control thread helpers (acme_mgr.c). */
struct mgr_cert *acme_mgr_cert_add(struct acme_mgr *m, const char *id,
			 const char (*names)[256], size_t n,
			 const struct acme_mgr_opts *opts);
struct mgr_cert *acme_mgr_cert_find(struct acme_mgr *m, const char *id);
void acme_mgr_submit(struct acme_mgr *m, struct mgr_cert *c, enum acme_job_kind kind);
void acme_mgr_metrics_refresh(struct acme_mgr *m);

#endif
