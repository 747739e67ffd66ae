/* acme_mgr.c - the hub's certificate manager (control loop side). */
#define LOG_SUBSYS "acme"
#include "acme/acme_mgr_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acme/acme_cert.h"
#include "acme/acme_name.h"
#include "acme/acme_renew.h"
#include "acme/acme_worker.h"
#include "core/clock.h"
#include "core/compiler.h"
#include "core/file.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/secure.h"
#include "core/shtext.h"
#include "tls/cert.h"

static const char *const event_names[ACME_EV_MAX] = {
	[ACME_EV_ISSUED] = "issued", [ACME_EV_RENEWED] = "renewed",
	[ACME_EV_FAILED] = "failed", [ACME_EV_EXPIRING] = "expiring",
	[ACME_EV_REVOKED] = "revoked",
};

const char *acme_event_name(enum acme_event ev)
{
	return ev < ACME_EV_MAX ? event_names[ev] : "?";
}

static int64_t wall_now(void)
{
	return (int64_t)(clock_wall_ns() / NSEC_PER_SEC);
}

static void mgr_names_text(const struct mgr_cert *c, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = 0;
	for (size_t i = 0; i < c->n_names && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "",
				      c->names[i]);
}

static void mgr_event(struct acme_mgr *m, struct mgr_cert *c, enum acme_event ev,
		      const char *detail)
{
	char names[1024];

	mgr_names_text(c, names, sizeof(names));
	m->events[ev]++;
	if (ev == ACME_EV_FAILED || ev == ACME_EV_EXPIRING)
		log_warn("certificate %s (%s) %s: %s", c->id, names,
			 acme_event_name(ev), detail);
	else
		log_info("certificate %s (%s) %s: %s", c->id, names,
			 acme_event_name(ev), detail);
	if (m->hooks.event)
		m->hooks.event(m->hooks.arg, ev, c->id, names, detail);
	acme_mgr_metrics_refresh(m);
}

/* ---- files ---- */

static void mgr_path(const struct acme_mgr *m, const char *id, const char *ext,
		     char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s.%s", m->cfg.state_dir, id, ext);
}

static char *mgr_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *b;
	ssize_t n;

	if (fd < 0)
		return NULL;
	b = calloc(1, 1u << 20);
	n = b ? read(fd, b, (1u << 20) - 1) : -1;
	close(fd);
	if (n <= 0) {
		free(b);
		return NULL;
	}
	return b;
}

/* Reads what the certificate on disk says about itself. */
static void mgr_load_info(struct acme_mgr *m, struct mgr_cert *c)
{
	char path[ACME_PATH_MAX + 80];
	struct acme_cert_info ci;
	char *pem;

	c->real = c->have_file = false;
	if (m->hooks.load) {
		pem = m->hooks.load(m->hooks.arg, c->id);
	} else {
		mgr_path(m, c->id, "crt", path, sizeof(path));
		pem = mgr_read(path);
	}
	if (!pem)
		return;
	c->have_file = true;
	if (acme_cert_info_get(pem, &ci) == 0) {
		c->real = !ci.self_signed;
		c->not_before = ci.not_before;
		c->not_after = ci.not_after;
		snprintf(c->ari_id, sizeof(c->ari_id), "%s", ci.ari_id ? ci.ari_id : "");
	}
	acme_cert_info_free(&ci);
	free(pem);
}

/* Keeps the certificate (files, or the store) and makes it live. `key`
 * is wiped by the caller. */
static int mgr_store(struct acme_mgr *m, struct mgr_cert *c, const char *chain,
		     const char *key, const char *what, char *err, size_t errlen)
{
	char cp[ACME_PATH_MAX + 80], kp[ACME_PATH_MAX + 80], names[1024];

	if (m->hooks.save) {
		mgr_names_text(c, names, sizeof(names));
		return m->hooks.save(m->hooks.arg, c->id, names, &c->opts, chain, key,
				     what, err, errlen) ? -EIO : 0;
	}
	mgr_path(m, c->id, "crt", cp, sizeof(cp));
	mgr_path(m, c->id, "key", kp, sizeof(kp));
	if (file_replace(kp, key, strlen(key), 0600) ||
	    file_replace(cp, chain, strlen(chain), 0644)) {
		snprintf(err, errlen, "cannot write %.200s", cp);
		return -EIO;
	}
	if (m->hooks.install)
		return m->hooks.install(m->hooks.arg, c->id, chain, key, err, errlen);
	return 0;
}

/* A self-signed certificate serves the names until the real one arrives. */
static void mgr_selfsigned(struct acme_mgr *m, struct mgr_cert *c)
{
	const char *names[ACME_MGR_MAX_NAMES];
	char *cert = NULL, *key = NULL, err[256];
	size_t cl, kl;

	for (size_t i = 0; i < c->n_names; i++)
		names[i] = c->names[i];
	if (tls_selfsigned_make(names, c->n_names, MGR_SELFSIGNED_DAYS, &cert, &cl,
				&key, &kl, err, sizeof(err)) ||
	    mgr_store(m, c, cert, key, "self-signed", err, sizeof(err)))
		log_warn("certificate %s: no self-signed stand-in: %s", c->id, err);
	else
		log_info("certificate %s: self-signed until the CA's arrives", c->id);
	free(cert);
	if (key)
		secure_free(key, kl);
}

/* ---- scheduling ---- */

static void mgr_arm_at(struct acme_mgr *m, struct mgr_cert *c, int64_t when)
{
	int64_t d = when - wall_now();

	if (d < 0)
		d = 0;
	loop_timer_arm(m->loop, &c->timer, (uint64_t)d * NSEC_PER_SEC);
	log_debug("certificate %s: next step in %llds", c->id, (long long)d);
}

static void mgr_check_expiring(struct acme_mgr *m, struct mgr_cert *c)
{
	int64_t left = c->not_after - wall_now();
	char d[128];

	if (!c->real || c->expiring_raised || left > ACME_EXPIRING_S)
		return;
	c->expiring_raised = true;
	snprintf(d, sizeof(d), "expires in %llds", (long long)(left > 0 ? left : 0));
	mgr_event(m, c, ACME_EV_EXPIRING, d);
}

/* Arms the next step: an order now (no real certificate), an ARI check,
 * or renewal at two thirds of the lifetime. */
static void mgr_schedule(struct acme_mgr *m, struct mgr_cert *c)
{
	mgr_check_expiring(m, c);
	if (!c->real)
		mgr_arm_at(m, c, wall_now());
	else if (m->ari != MGR_ARI_NO && c->ari_id[0])
		mgr_arm_at(m, c, wall_now());	/* ask the CA first */
	else
		mgr_arm_at(m, c, acme_renew_fallback(c->not_before, c->not_after));
}

static struct acme_job *mgr_job(struct mgr_cert *c, enum acme_job_kind kind)
{
	struct acme_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->kind = kind;
	j->slot = (unsigned)(c - c->m->certs);
	for (size_t i = 0; i < c->n_names; i++)
		snprintf(j->names[i], sizeof(j->names[i]), "%s", c->names[i]);
	j->n_names = c->n_names;
	j->opts = c->opts;
	snprintf(j->id, sizeof(j->id), "%s", c->id);
	if (kind == ACME_JOB_ISSUE && c->m->hooks.dns_creds)
		j->dns_kv = c->m->hooks.dns_creds(c->m->hooks.arg, c->opts.dns_provider[0]
						  ? c->opts.dns_provider
						  : c->m->cfg.dns_provider);
	if (c->real)	/* ISSUE: `replaces`; ARI: whose window */
		snprintf(j->ari_id, sizeof(j->ari_id), "%s", c->ari_id);
	return j;
}

void acme_mgr_submit(struct acme_mgr *m, struct mgr_cert *c, enum acme_job_kind kind)
{
	struct acme_job *j = mgr_job(c, kind);

	if (!j) {
		loop_timer_arm(m->loop, &c->timer, 60 * NSEC_PER_SEC);
		return;
	}
	c->busy = true;
	if (kind == ACME_JOB_ISSUE)
		m->orders++;
	else
		m->ari_checks++;
	acme_worker_submit(m->worker, j);
}

/* Due: without a real certificate, order one; with ARI (or not knowing
 * yet whether the CA has it), ask renewalInfo, whose answer decides;
 * otherwise renew once two thirds of the lifetime have passed. The timer
 * may have been armed to ask renewalInfo while another certificate's
 * answer showed the CA has no ARI: then it is not due yet, and is armed
 * again for two thirds (renewing at once there was a bug). */
static void mgr_timer(struct loop_timer *t)
{
	struct mgr_cert *c = t->data;
	struct acme_mgr *m = c->m;
	int64_t now = wall_now(), at;

	if (c->busy)
		return;
	if (c->real && now < c->not_after) {
		if (m->ari != MGR_ARI_NO && c->ari_id[0]) {
			acme_mgr_submit(m, c, ACME_JOB_ARI);
			return;
		}
		at = acme_renew_fallback(c->not_before, c->not_after);
		if (now < at) {
			mgr_arm_at(m, c, at);
			return;
		}
	}
	acme_mgr_submit(m, c, ACME_JOB_ISSUE);
}

/* ---- results ---- */

static void mgr_ari_done(struct acme_mgr *m, struct mgr_cert *c, struct acme_job *j)
{
	int64_t now = wall_now(), at;
	uint64_t rnd, again;

	if (j->rc == -ENOTSUP) {
		m->ari = MGR_ARI_NO;
		mgr_arm_at(m, c, acme_renew_fallback(c->not_before, c->not_after));
		return;
	}
	if (j->rc) {
		/* No answer: keep the lifetime rule, ask again later. */
		log_warn("certificate %s: renewalInfo: %s", c->id, j->err);
		at = acme_renew_fallback(c->not_before, c->not_after);
		mgr_arm_at(m, c, MIN(at, now + (int64_t)acme_renew_backoff(1, j->retry_after_s)));
		return;
	}
	m->ari = MGR_ARI_YES;
	secure_random(&rnd, sizeof(rnd));
	at = acme_renew_from_window(j->ri.start, j->ri.end, now, rnd);
	log_info("certificate %s: ARI window %lld..%lld, renewing at %lld", c->id,
		 (long long)j->ri.start, (long long)j->ri.end, (long long)at);
	if (at <= now) {
		acme_mgr_submit(m, c, ACME_JOB_ISSUE);
		return;
	}
	again = j->retry_after_s ? j->retry_after_s : m->cfg.ari_interval_s;
	mgr_arm_at(m, c, MIN(at, now + (int64_t)again));
}

static void mgr_issue_done(struct acme_mgr *m, struct mgr_cert *c, struct acme_job *j)
{
	char err[512], detail[600];
	bool renewal = c->real;

	m->bad_nonces += j->bad_nonces;
	if (j->rc == 0 && mgr_store(m, c, j->res.cert_pem, j->res.key_pem,
				    renewal ? "renewed" : "issued", err, sizeof(err)) == 0) {
		mgr_load_info(m, c);
		c->failures = 0;
		c->expiring_raised = false;
		snprintf(detail, sizeof(detail), "valid until %lld",
			 (long long)c->not_after);
		mgr_event(m, c, renewal ? ACME_EV_RENEWED : ACME_EV_ISSUED, detail);
		mgr_schedule(m, c);
		return;
	}
	if (j->rc == 0)
		snprintf(j->err, sizeof(j->err), "%s", err);
	c->failures++;
	uint64_t wait = acme_renew_backoff(c->failures, j->retry_after_s);
	snprintf(detail, sizeof(detail), "%s (attempt %u; next in %llus)", j->err,
		 c->failures, (unsigned long long)wait);
	mgr_event(m, c, ACME_EV_FAILED, detail);
	mgr_check_expiring(m, c);
	loop_timer_arm(m->loop, &c->timer, wait * NSEC_PER_SEC);
}

/* A revocation: the hook records it; a revoked certificate is no longer
 * renewed. */
static void mgr_revoke_done(struct acme_mgr *m, struct acme_job *j)
{
	struct mgr_cert *c = acme_mgr_cert_find(m, j->id);

	if (j->rc == 0) {
		m->events[ACME_EV_REVOKED]++;
		log_info("certificate %s revoked", j->id);
		if (c && !c->busy) {
			loop_timer_disarm(m->loop, &c->timer);
			c->used = false;
		} else if (c) {
			c->dropped = true;
		}
	} else {
		log_warn("certificate %s: revocation failed: %s", j->id, j->err);
	}
	if (m->hooks.revoked)
		m->hooks.revoked(m->hooks.arg, j->id, j->rc, j->err);
	acme_mgr_metrics_refresh(m);
}

static void mgr_done(void *arg, struct acme_job *j)
{
	struct acme_mgr *m = arg;
	struct mgr_cert *c = &m->certs[j->slot];

	if (j->kind == ACME_JOB_REVOKE) {
		mgr_revoke_done(m, j);
		acme_job_free(j);
		return;
	}
	c->busy = false;
	if (c->dropped) {	/* removed while the job ran */
		c->used = c->dropped = false;
		acme_job_free(j);
		acme_mgr_metrics_refresh(m);
		return;
	}
	if (j->kind == ACME_JOB_ARI)
		mgr_ari_done(m, c, j);
	else
		mgr_issue_done(m, c, j);
	acme_job_free(j);
}

/* ---- entries ---- */

struct mgr_cert *acme_mgr_cert_find(struct acme_mgr *m, const char *id)
{
	for (size_t i = 0; i < ACME_MGR_MAX_CERTS; i++)
		if (m->certs[i].used && !m->certs[i].dropped && !strcmp(m->certs[i].id, id))
			return &m->certs[i];
	return NULL;
}

struct mgr_cert *acme_mgr_cert_add(struct acme_mgr *m, const char *id,
			 const char (*names)[256], size_t n,
			 const struct acme_mgr_opts *opts)
{
	struct mgr_cert *c = NULL;

	for (size_t i = 0; i < ACME_MGR_MAX_CERTS && !c; i++)
		if (!m->certs[i].used)
			c = &m->certs[i];
	if (!c || n == 0 || n > ACME_MGR_MAX_NAMES) {
		log_warn("certificate %s: no room (at most %d)", id, ACME_MGR_MAX_CERTS);
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->m = m;
	snprintf(c->id, sizeof(c->id), "%s", id);
	for (size_t i = 0; i < n; i++)
		snprintf(c->names[i], sizeof(c->names[i]), "%s", names[i]);
	c->n_names = n;
	if (opts)
		c->opts = *opts;
	loop_timer_init(&c->timer, mgr_timer, c);
	mgr_load_info(m, c);
	if (!c->have_file)
		mgr_selfsigned(m, c);
	mgr_schedule(m, c);
	return c;
}

struct acme_mgr *acme_mgr_new(struct loop *loop, const struct acme_mgr_cfg *cfg,
			      const struct acme_mgr_hooks *hooks,
			      const struct acme_mgr_env *env, char *err, size_t errlen)
{
	struct acme_mgr *m = calloc(1, sizeof(*m));
	char *key = NULL;

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->loop = loop;
	m->metrics = env->metrics;
	m->cfg = *cfg;
	if (hooks)
		m->hooks = *hooks;
	if (!m->cfg.ari_interval_s)
		m->cfg.ari_interval_s = 6 * 3600;
	err[0] = 0;
	if (hooks && hooks->account_key &&
	    !(key = hooks->account_key(hooks->arg, err, errlen))) {
		free(m);
		return NULL;
	}
	m->worker = acme_worker_new(loop, &m->cfg, key, env->chall, mgr_done, m, err,
				    errlen);
	if (key)
		secure_free(key, strlen(key));
	if (!m->worker) {
		free(m);
		return NULL;
	}
	for (size_t i = 0; i < cfg->n_want; i++)
		acme_mgr_cert_add(m, cfg->want[i].id, (const char (*)[256])cfg->want[i].names,
			cfg->want[i].n_names, NULL);
	log_info("acme: %zu certificates managed, CA %s", cfg->n_want, cfg->directory);
	acme_mgr_metrics_refresh(m);
	return m;
}

void acme_mgr_free(struct acme_mgr *m)
{
	if (!m)
		return;
	acme_worker_free(m->worker);
	for (size_t i = 0; i < ACME_MGR_MAX_CERTS; i++)
		if (m->certs[i].used)
			loop_timer_disarm(m->loop, &m->certs[i].timer);
	shtext_clear(m->metrics);
	free(m);
}

static int mgr_metrics(struct acme_mgr *m, struct buf *b)
{
	int rc = 0;

	rc |= buf_printf(b, "# TYPE postern_acme_events_total counter\n");
	for (int e = 0; e < ACME_EV_MAX; e++)
		rc |= buf_printf(b, "postern_acme_events_total{event=\"%s\"} %llu\n",
				 event_names[e], (unsigned long long)m->events[e]);
	rc |= buf_printf(b, "# TYPE postern_acme_orders_total counter\n"
			 "postern_acme_orders_total %llu\n"
			 "# TYPE postern_acme_ari_checks_total counter\n"
			 "postern_acme_ari_checks_total %llu\n"
			 "# TYPE postern_acme_bad_nonce_retries_total counter\n"
			 "postern_acme_bad_nonce_retries_total %llu\n"
			 "# TYPE postern_acme_certificate_expiry_seconds gauge\n",
			 (unsigned long long)m->orders,
			 (unsigned long long)m->ari_checks,
			 (unsigned long long)m->bad_nonces);
	/* Each family's samples form one group (the exposition format). */
	for (size_t i = 0; i < ACME_MGR_MAX_CERTS; i++)
		if (m->certs[i].used)
			rc |= buf_printf(b, "postern_acme_certificate_expiry_seconds{cert=\"%s\","
					 "issued=\"%d\"} %lld\n", m->certs[i].id, m->certs[i].real,
					 (long long)(m->certs[i].real ? m->certs[i].not_after : 0));
	rc |= buf_printf(b, "# TYPE postern_acme_certificate_failures gauge\n");
	for (size_t i = 0; i < ACME_MGR_MAX_CERTS; i++)
		if (m->certs[i].used)
			rc |= buf_printf(b, "postern_acme_certificate_failures{cert=\"%s\"} %u\n",
					 m->certs[i].id, m->certs[i].failures);
	return rc ? -ENOBUFS : 0;
}

/* Re-renders the metrics text the caller gave (control thread). */
void acme_mgr_metrics_refresh(struct acme_mgr *m)
{
	struct buf b;

	buf_init(&b, 1u << 20);
	if (mgr_metrics(m, &b) == 0)
		shtext_replace(m->metrics, &b);
	buf_free(&b);
}

int acme_mgr_prepare(const struct acme_mgr_cfg *cfg,
		     const struct acme_mgr_hooks *hooks, char *err, size_t errlen)
{
	struct acme_mgr m = { .cfg = *cfg };

	if (!cfg->enabled)
		return 0;
	if (hooks)
		m.hooks = *hooks;
	if (mkdir(cfg->state_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "[acme] state_dir %.300s: %s", cfg->state_dir,
			 strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < cfg->n_want; i++) {
		struct mgr_cert c = { .m = &m, .n_names = cfg->want[i].n_names };

		snprintf(c.id, sizeof(c.id), "%s", cfg->want[i].id);
		memcpy(c.names, cfg->want[i].names, sizeof(c.names));
		mgr_load_info(&m, &c);
		if (!c.have_file)
			mgr_selfsigned(&m, &c);
	}
	return 0;
}
