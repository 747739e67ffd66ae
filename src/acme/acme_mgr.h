/* acme_mgr.h - certificates the hub obtains and renews by itself.
 *
 * The manager lives on the hub's control loop. It keeps one entry per
 * certificate (explicit [acme.cert.NAME] sections, plus one per route host
 * that no certificate covers), each with a timer. Network work (the ACME
 * exchange, DNS providers, propagation checks) runs on one ACME worker
 * thread (acme_worker.h): the control loop only queues jobs and takes
 * results back through a loop_async, so it never blocks on the network.
 *
 * Lifecycle of an entry: a self-signed certificate is written first (it
 * serves the name until the real one arrives), then an order is placed;
 * on success the chain and key are written to state_dir as NAME.crt and
 * NAME.key (mode 0600) and the install hook swaps them into the live TLS
 * contexts. Renewal follows ARI when the CA offers it (a renewalInfo
 * check every few hours or per the CA's Retry-After), else two thirds of
 * the lifetime (acme_renew.h); failures back off exponentially, never
 * sooner than the CA's Retry-After. Every outcome raises an event
 * (issued, renewed, failed, expiring) for the audit log and counts in the
 * metrics. */
#ifndef POSTERN_ACME_ACME_MGR_H
#define POSTERN_ACME_ACME_MGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acme/acme_dns01.h"
#include "acme/acme_key.h"
#include "core/buf.h"

struct conf;
struct loop;

#define ACME_MGR_MAX_CERTS 64	/* entries, route hosts included */
#define ACME_MGR_MAX_WANT 16	/* [acme.cert.*] sections */
#define ACME_MGR_MAX_NAMES 16
#define ACME_PATH_MAX 512

/* One certificate asked for in the config ([acme.cert.NAME] names = ...). */
struct acme_mgr_want {
	char id[64];		/* NAME: file stem in state_dir */
	char names[ACME_MGR_MAX_NAMES][256];
	size_t n_names;
};

/* The [acme] section (docs/configuration.md, "acme"). */
struct acme_mgr_cfg {
	bool enabled;
	char directory[ACME_PATH_MAX];
	char ca_file[ACME_PATH_MAX];
	char account_key[ACME_PATH_MAX];
	char state_dir[ACME_PATH_MAX];
	char email[256];
	bool agree_tos;
	char eab_kid[128];
	char eab_key_file[ACME_PATH_MAX];
	char challenges[64];	/* "http-01,tls-alpn-01,dns-01" in order */
	char dns_provider[32];
	char dns_conf[ACME_PATH_MAX];
	char dns_servers[ACME_DNS01_MAX_SERVERS][64];
	size_t n_dns_servers;
	unsigned dns_timeout_s;
	enum acme_key_type key_type;
	uint64_t ari_interval_s;	/* renewalInfo re-check (6 h) */
	bool route_hosts;		/* a certificate per uncovered route host */
	struct acme_mgr_want want[ACME_MGR_MAX_WANT];
	size_t n_want;
};

/* Reads [acme] and [acme.cert.*] from `c` into cfg (enabled when the
 * section has a directory). Returns 0, or -1 with "FILE:LINE: why". */
int acme_mgr_conf(struct conf *c, struct acme_mgr_cfg *cfg, char *err,
		  size_t errlen);

enum acme_event {
	ACME_EV_ISSUED = 0,
	ACME_EV_RENEWED,
	ACME_EV_FAILED,
	ACME_EV_EXPIRING,
	ACME_EV_REVOKED,
	ACME_EV_MAX
};
const char *acme_event_name(enum acme_event ev);

/* How one certificate is ordered (API requests); empty = the [acme]
 * defaults. */
struct acme_mgr_opts {
	char challenge[16];	/* "http-01", "tls-alpn-01", "dns-01" or "" */
	char dns_provider[32];	/* "" = [acme] dns_provider */
	bool key_type_set;
	enum acme_key_type key_type;
};

/* Hooks the hub sets. All run on the control loop.
 *
 * Files mode (load and save NULL): certificates live in state_dir as
 * NAME.crt/NAME.key and `install` makes them live. Store mode (the hub's
 * control plane): `load` and `save` keep them in the store instead, the
 * account key comes from `account_key` and DNS-01 credentials from
 * `dns_creds`. */
struct acme_mgr_hooks {
	/* Files mode: makes the new files live (TLS swap). Returns 0 or -1
	 * with err. */
	int (*install)(void *arg, const char *id, const char *chain_pem,
		       const char *key_pem, char *err, size_t errlen);
	/* Audit: an event about certificate `id` ("names" and detail). */
	void (*event)(void *arg, enum acme_event ev, const char *id,
		      const char *names, const char *detail);
	/* Store mode: the stored chain of `id` (the caller frees it), or
	 * NULL when there is none. */
	char *(*load)(void *arg, const char *id);
	/* Store mode: keeps chain and key for `id` and makes them live.
	 * `what` is "self-signed", "issued" or "renewed" (recorded with the
	 * change). `opts` are the entry's order options. Returns 0 or -1
	 * with err. The caller wipes the key. */
	int (*save)(void *arg, const char *id, const char *names,
		    const struct acme_mgr_opts *opts, const char *chain_pem,
		    const char *key_pem, const char *what, char *err,
		    size_t errlen);
	/* Store mode: the account key's PEM (the caller wipes and frees it),
	 * or NULL with err. */
	char *(*account_key)(void *arg, char *err, size_t errlen);
	/* DNS-01 credentials of `provider` as "key", "value", ..., NULL (free
	 * with acme_kv_free), or NULL when none are stored. */
	char **(*dns_creds)(void *arg, const char *provider);
	/* A revocation finished: rc 0 or -errno with a message. */
	void (*revoked)(void *arg, const char *id, int rc, const char *err);
	void *arg;
};

/* Wipes and frees a "key", "value", ..., NULL array. */
void acme_kv_free(char **kv);

struct acme_mgr;

/* What the manager's owner lends it: both are read by the front's
 * threads, which run before the manager starts and after it is freed, so
 * they are the owner's and must outlive the manager and those readers. */
struct shtext;
struct acme_chall;
struct acme_mgr_env {
	/* The manager renders its Prometheus text (postern_acme_* counters
	 * and per-certificate expiry) here after every change, on the
	 * control thread. */
	struct shtext *metrics;
	/* Where its HTTP-01 and TLS-ALPN-01 solvers publish answers. */
	struct acme_chall *chall;
};

/* Starts the manager on `loop` (control thread) and its worker thread.
 * Loads existing certificates from state_dir and schedules each. Returns
 * NULL with a message in err. */
struct acme_mgr *acme_mgr_new(struct loop *loop, const struct acme_mgr_cfg *cfg,
			      const struct acme_mgr_hooks *hooks,
			      const struct acme_mgr_env *env, char *err, size_t errlen);
/* Before the hub's first snapshot: makes sure every configured
 * certificate ([acme.cert.*]) has something to serve (a self-signed
 * stand-in when nothing was issued yet) in state_dir, or through
 * hooks->load/save in store mode (hooks may be NULL), so the TLS contexts
 * can be built before the CA answers. Returns 0 or -1 with a message. */
int acme_mgr_prepare(const struct acme_mgr_cfg *cfg,
		     const struct acme_mgr_hooks *hooks, char *err, size_t errlen);

/* Stops the worker (an order in flight is cancelled), empties the metrics
 * text and frees. */
void acme_mgr_free(struct acme_mgr *m);

/* The hosts routes serve ("*.example.com" for wildcards). Hosts no entry
 * covers get an entry and an order (when route_hosts is on). */
void acme_mgr_set_hosts(struct acme_mgr *m, const char *const *hosts, size_t n);

/* Renews certificate `id` now (API/CLI "renew"). Returns 0 or -ENOENT. */
int acme_mgr_renew_now(struct acme_mgr *m, const char *id);

/* Starts managing certificate `id` for `names` (an API request, or a
 * stored certificate at start): the stored one is loaded, else a
 * self-signed stand-in is made, and an order follows when nothing real is
 * there. Returns 0, -EEXIST (already managed) or -ENOSPC. */
int acme_mgr_add(struct acme_mgr *m, const char *id, const char *const *names,
		 size_t n, const struct acme_mgr_opts *opts);
/* Stops managing `id` (its certificate was deleted). A job in flight
 * finishes and is dropped. Returns 0 or -ENOENT. */
int acme_mgr_remove(struct acme_mgr *m, const char *id);
/* Stops managing every entry `keep` says no to (store mode: its stored
 * certificate was deleted). */
void acme_mgr_prune(struct acme_mgr *m, bool (*keep)(void *arg, const char *id),
		    void *arg);
/* Whether `id` is managed. */
bool acme_mgr_has(const struct acme_mgr *m, const char *id);
/* Queues revocation (RFC 8555 revokeCert) of `cert_pem` with an RFC 5280
 * reason; hooks->revoked reports the outcome, and on success `id` is no
 * longer renewed. Returns 0 or -ENOMEM. */
int acme_mgr_revoke(struct acme_mgr *m, const char *id, const char *cert_pem,
		    int reason);

#endif
