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
	ACME_EV_MAX
};
const char *acme_event_name(enum acme_event ev);

/* Hooks the hub (and later the control plane) sets. All run on the
 * control loop. */
struct acme_mgr_hooks {
	/* Makes the new files live (TLS swap). Returns 0 or -1 with err. */
	int (*install)(void *arg, const char *id, const char *chain_pem,
		       const char *key_pem, char *err, size_t errlen);
	/* Audit: an event about certificate `id` ("names" and detail). */
	void (*event)(void *arg, enum acme_event ev, const char *id,
		      const char *names, const char *detail);
	void *arg;
};

struct acme_mgr;

/* Starts the manager on `loop` (control thread) and its worker thread.
 * Loads existing certificates from state_dir and schedules each. Returns
 * NULL with a message in err. */
struct acme_mgr *acme_mgr_new(struct loop *loop, const struct acme_mgr_cfg *cfg,
			      const struct acme_mgr_hooks *hooks, char *err,
			      size_t errlen);
/* Before the hub's first snapshot: makes sure state_dir exists and every
 * configured certificate ([acme.cert.*]) has files there (a self-signed
 * stand-in when nothing was issued yet), so the TLS contexts can be built
 * before the CA answers. Returns 0 or -1 with a message. */
int acme_mgr_prepare(const struct acme_mgr_cfg *cfg, char *err, size_t errlen);

/* Stops the worker (an order in flight is cancelled) and frees. */
void acme_mgr_free(struct acme_mgr *m);

/* The hosts routes serve ("*.example.com" for wildcards). Hosts no entry
 * covers get an entry and an order (when route_hosts is on). */
void acme_mgr_set_hosts(struct acme_mgr *m, const char *const *hosts, size_t n);

/* Renews certificate `id` now (API/CLI "renew"). Returns 0 or -ENOENT. */
int acme_mgr_renew_now(struct acme_mgr *m, const char *id);

/* Prometheus text: postern_acme_* counters and per-certificate expiry.
 * Thread-safe (a worker serves /metrics): it copies the text the manager
 * refreshes on the control thread after every change. Appends nothing
 * when no manager runs. Returns 0 or -ENOBUFS. */
int acme_metrics_render(struct buf *out);

#endif
