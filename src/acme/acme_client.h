/* acme_client.h - an RFC 8555 client: account, order, challenges,
 * finalize, download, revoke; ARI (RFC 9773) renewalInfo.
 *
 * Calls are blocking and sequential (like OpenBSD acme-client's netproc):
 * they run on the ACME worker thread (acme_worker.h), never on the control
 * loop. A client is used by one thread at a time.
 *
 * Errors: every call returns 0 or a negative errno and leaves a readable
 * message in c->err (never containing secrets):
 *   -EPROTO     the CA refused (c->problem holds its problem document)
 *   -EAGAIN     rate limited or the CA asked to come back later; retry no
 *               earlier than c->retry_after_s seconds (0 = unknown)
 *   -EIO        transport failure (DNS, TCP, TLS, timeout of a request)
 *   -ETIMEDOUT  an order or authorization did not settle in time
 *   -ECANCELED  acme_client_cancel() was called
 *   -EINVAL     bad arguments or a malformed answer from the CA */
#ifndef POSTERN_ACME_ACME_CLIENT_H
#define POSTERN_ACME_ACME_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acme/acme_http.h"
#include "acme/acme_key.h"
#include "acme/acme_msg.h"
#include "acme/acme_solver.h"

#define ACME_BADNONCE_RETRIES 10	/* a CA rejecting more is broken */

struct acme_client_cfg {
	const char *directory_url;
	const char *ca_file;		/* extra trust anchors, NULL = system */
	long request_timeout_ms;	/* per HTTP request (30000) */
	unsigned poll_timeout_s;	/* per order/authorization (300) */
};

struct acme_client {
	struct acme_http http;
	char *directory_url;
	unsigned poll_timeout_s;
	struct acme_directory dir;
	bool have_dir;
	struct acme_key *key;		/* borrowed account key */
	char *kid;			/* account URL once registered */
	char *nonce;			/* next Replay-Nonce to use */
	unsigned bad_nonces;		/* badNonce retries taken (a counter) */
	struct acme_problem problem;	/* last CA problem */
	uint64_t retry_after_s;
	atomic_bool cancel;
	char err[512];
};

struct acme_account_req {
	const char *const *contact;	/* "mailto:..." NULL-terminated, or NULL */
	bool agree_tos;
	const char *eab_kid;		/* External Account Binding, or NULL */
	const char *eab_mac;		/* base64url MAC key */
};

struct acme_issue_req {
	const char *const *names;	/* DNS names, "*.x" for wildcards */
	size_t n_names;
	enum acme_key_type key_type;
	struct acme_solver *solvers;	/* in order of preference */
	size_t n_solvers;
	const char *replaces;		/* ARI certID of the certificate this
					 * order renews, or NULL */
};

struct acme_issue_result {
	char *cert_pem;		/* leaf + chain, as the CA sent it */
	char *key_pem;		/* the certificate's private key (secret) */
	char *cert_url;
};

/* Sets up a client; `key` stays owned by the caller and must outlive it.
 * Returns 0 or -ENOMEM. */
int acme_client_init(struct acme_client *c, const struct acme_client_cfg *cfg,
		     struct acme_key *key);
void acme_client_free(struct acme_client *c);
/* Thread-safe: makes the running call give up at its next wait. */
void acme_client_cancel(struct acme_client *c);

/* Fetches the directory (once; later calls reuse it). */
int acme_client_directory(struct acme_client *c);
/* Registers the account (or finds the existing one for this key) and
 * remembers its URL (c->kid). */
int acme_client_account(struct acme_client *c, const struct acme_account_req *r);
/* Runs a whole order: newOrder, each authorization through a solver,
 * finalize with a fresh key and CSR, download. On 0 the caller owns
 * `out` (free with acme_issue_result_free). */
int acme_client_issue(struct acme_client *c, const struct acme_issue_req *r,
		      struct acme_issue_result *out);
void acme_issue_result_free(struct acme_issue_result *r);
/* Revokes a certificate (PEM, first certificate used) with an RFC 5280
 * reason code (0 = unspecified). */
int acme_client_revoke(struct acme_client *c, const char *cert_pem,
		       int reason);
/* Deactivates the account (RFC 8555 s7.3.6). */
int acme_client_deactivate_account(struct acme_client *c);
/* Fetches renewalInfo for an ARI certID. -ENOTSUP when the CA offers no
 * ARI. On 0 the caller frees `ri`; c->retry_after_s holds the CA's
 * Retry-After (when to ask again) or 0. */
int acme_client_renewal_info(struct acme_client *c, const char *cert_id,
			     struct acme_renewal_info *ri);

#endif
