/* events_worker.c - the delivery thread: sends due outbox rows, records
 * each attempt, reschedules or finishes them.
 *
 * It owns a store connection of its own (WAL: it never blocks the control
 * thread's readers) and a copy of the secrets key ring, and writes only
 * outbox and attempt rows. A receiver's 410 is handed to the control loop
 * (loop_async), which disables the webhook with an audit entry: audit
 * entries are appended by the control thread only. A hub killed mid-send
 * finds the row still pending at the next start and sends it again with
 * the same webhook-id. */
#define LOG_SUBSYS "events"
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/http_client.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/num.h"
#include "core/secure.h"
#include "core/sync.h"
#include "events/events.h"
#include "store/secret.h"

#define EVENTS_BATCH 16
#define EVENTS_IDLE_MS 1000	/* longest sleep: catches entries queued by
				 * a transaction that did not kick us */
#define EVENTS_PRUNE_MS 60000
#define EVENTS_GONE_MAX 32

enum events_outcome {
	EVENTS_OUT_DELIVERED = 0,
	EVENTS_OUT_RETRY,
	EVENTS_OUT_FAILED,
	EVENTS_OUT_MAX
};

struct events_conf {
	int64_t sched[EVENTS_SCHEDULE_MAX];
	int nsched;
	int64_t horizon_ms, retention_ms;
	long timeout_ms;
	bool allow_loopback;
	char hub_url[320];
};

struct events_worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, kicked, started;
	struct store store;
	struct secret_keyring keys;
	struct http_client http;
	char *key_path;
	struct events_conf conf;
	int64_t last_prune;
	/* Metrics: written by this worker's thread, read by the thread that
	 * serves /metrics (events_worker_metrics_render), hence atomics. */
	_Atomic uint64_t attempts[EVENTS_OUT_MAX];
	_Atomic int64_t depth;
	/* 410s waiting for the control loop (mu). */
	struct loop *loop;
	struct loop_async async;
	bool async_on;
	int64_t gone[EVENTS_GONE_MAX];
	size_t ngone;
	events_disable_fn *disable;
	void *ctx;
};

static int64_t events_setting_int(struct store *s, const char *key, int64_t dflt)
{
	char raw[64];
	uint64_t v;

	if (store_setting_raw(s, key, raw, sizeof(raw)) < 0 ||
	    num_parse_cstr(raw, 0, INT64_MAX, &v) < 0)
		return dflt;
	return (int64_t)v;
}

/* Settings are read each round: a change through the API applies at once. */
static void events_conf_load(struct events_worker *w)
{
	struct events_conf *c = &w->conf;
	char raw[600];
	json_t *j;

	c->nsched = -1;
	if (store_setting_raw(&w->store, "webhooks.retry_schedule", raw, sizeof(raw)) == 0 &&
	    (j = json_loads(raw, JSON_DECODE_ANY, NULL))) {
		if (json_is_string(j))
			c->nsched = events_schedule_parse(json_string_value(j), c->sched,
							  EVENTS_SCHEDULE_MAX);
		json_decref(j);
	}
	if (c->nsched < 0)
		c->nsched = events_schedule_parse(EVENTS_SCHEDULE_DEFAULT, c->sched,
						  EVENTS_SCHEDULE_MAX);
	c->horizon_ms = events_setting_int(&w->store, "webhooks.retry_horizon",
					   EVENTS_HORIZON_DEFAULT_S) * 1000;
	c->retention_ms = events_setting_int(&w->store, "webhooks.attempt_retention",
					     EVENTS_RETENTION_DEFAULT_S) * 1000;
	c->timeout_ms = (long)events_setting_int(&w->store, "webhooks.timeout",
						 EVENTS_TIMEOUT_DEFAULT_S) * 1000;
	c->allow_loopback = events_setting_int(&w->store, "webhooks.allow_loopback", 0) != 0;
	c->hub_url[0] = 0;
	if (store_setting_raw(&w->store, "hub.public_url", raw, sizeof(raw)) == 0 &&
	    (j = json_loads(raw, JSON_DECODE_ANY, NULL))) {
		if (json_is_string(j))
			snprintf(c->hub_url, sizeof(c->hub_url), "%s", json_string_value(j));
		json_decref(j);
	}
}

/* The audit entry `seq`; its strings live in *st (finalize it). */
static int events_entry(struct events_worker *w, int64_t seq, struct audit_entry *e,
			sqlite3_stmt **st)
{
	*st = store_prepare(&w->store, "SELECT " AUDIT_ENTRY_COLUMNS
			    " FROM audit_log WHERE seq = ?");
	if (!*st)
		return -1;
	sqlite3_bind_int64(*st, 1, seq);
	if (sqlite3_step(*st) != SQLITE_ROW)
		return -ENOENT;
	return audit_entry_from_row(*st, e);
}

/* A secret of the webhook; reloads the key ring once when the key was
 * rotated under us. */
static int events_secret(struct events_worker *w, int64_t id, const char *name,
			 uint8_t **val, size_t *len)
{
	char err[256];
	int rc = secret_get(&w->store, &w->keys, "webhook", id, name, val, len);

	if (rc != -ENOKEY)
		return rc;
	secret_keyring_free(&w->keys);
	if (secret_keyring_load(&w->keys, w->key_path, false, err, sizeof(err)) < 0) {
		log_err("secrets key: %s", err);
		return -ENOKEY;
	}
	return secret_get(&w->store, &w->keys, "webhook", id, name, val, len);
}

/* "webhook-signature: v1,A[ v1,B]" with the current secret, and the
 * previous one during a rotation's overlap. Returns 0 or -1. */
static int events_signature(struct events_worker *w, const struct store_webhook *wh,
			    const char *id, int64_t ts, const char *body,
			    char *out, size_t outlen)
{
	static const char *const names[] = { "secret", "secret_prev" };
	size_t n = (size_t)snprintf(out, outlen, "webhook-signature: ");
	int signed_ = 0;

	for (size_t i = 0; i < 2; i++) {
		uint8_t *v = NULL;
		size_t vlen = 0;
		char sig[128] = "";
		if (i == 1 && wh->prev_secret_until <= store_now_ms())
			break;
		if (events_secret(w, wh->id, names[i], &v, &vlen) < 0)
			continue;
		if (events_sign((const char *)v, id, ts, body, strlen(body), sig,
				sizeof(sig)) == 0 && n + strlen(sig) + 2 < outlen) {
			n += (size_t)snprintf(out + n, outlen - n, "%s%s",
					      signed_ ? " " : "", sig);
			signed_++;
		}
		secure_free(v, vlen + 1);
	}
	return signed_ ? 0 : -1;
}

static const char *events_addr_ok(void *ctx, const struct sockaddr *sa, socklen_t len)
{
	return events_addr_refused(*(unsigned *)ctx, sa, len);
}

struct events_result {
	long status;
	int64_t retry_after_ms;	/* -1: none */
	char error[256];
};

/* One HTTP attempt. */
static void events_send(struct events_worker *w, const struct store_webhook *wh,
			const struct audit_entry *e, struct events_result *r)
{
	char id[64], idh[96], tsh[64], sigh[512], *url = NULL;
	char *body = events_body(wh, e, w->conf.hub_url, &url);
	const char *hdrs[] = { "Content-Type: application/json", idh, tsh, sigh, NULL };
	struct http_client_resp resp;
	unsigned flags = (wh->allow_private ? EVENTS_ADDR_F_PRIVATE : 0) |
			 (w->conf.allow_loopback ? EVENTS_ADDR_F_LOOPBACK : 0);
	int64_t ts = store_now_ms() / 1000;
	int rc;

	r->status = 0;
	r->retry_after_ms = -1;
	if (!body) {
		snprintf(r->error, sizeof(r->error), "cannot build the body");
		goto out;
	}
	events_msg_id(e, id);
	snprintf(idh, sizeof(idh), "webhook-id: %s", id);
	snprintf(tsh, sizeof(tsh), "webhook-timestamp: %lld", (long long)ts);
	if (events_signature(w, wh, id, ts, body, sigh, sizeof(sigh)) < 0) {
		snprintf(r->error, sizeof(r->error), "the webhook's secret cannot be opened");
		goto out;
	}
	w->http.timeout_ms = w->conf.timeout_ms;
	w->http.addr_ok = events_addr_ok;
	w->http.addr_ctx = &flags;
	rc = http_client_do(&w->http, &(struct http_client_req){ .method = "POST", .url = url,
			    .headers = hdrs, .body = body, .body_len = strlen(body) },
			    &resp, r->error, sizeof(r->error));
	w->http.addr_ctx = NULL;
	secure_wipe(sigh, sizeof(sigh));
	if (rc < 0)
		goto out;
	r->status = resp.status;
	r->error[0] = 0;
	if (resp.has_retry_after && (resp.status == 429 || resp.status == 503))
		r->retry_after_ms = (int64_t)resp.retry_after_s * 1000;
	if (resp.status >= 300 && resp.status < 400)
		snprintf(r->error, sizeof(r->error), "redirect (not followed)");
	else if (resp.status < 200 || resp.status >= 300)
		snprintf(r->error, sizeof(r->error), "HTTP %ld", resp.status);
	http_client_resp_free(&resp);
out:
	free(body);
	free(url);
}

static void events_gone(struct events_worker *w, int64_t webhook_id)
{
	pthread_mutex_lock(&w->mu);
	if (w->ngone < EVENTS_GONE_MAX)
		w->gone[w->ngone++] = webhook_id;
	pthread_mutex_unlock(&w->mu);
	if (w->async_on)
		loop_async_send(&w->async);
}

/* Sends one due row and records the outcome. */
static void events_deliver(struct events_worker *w, const struct store_delivery *d)
{
	static const char *const state[EVENTS_OUT_MAX] = { "delivered", "pending", "failed" };
	struct store_webhook wh;
	struct audit_entry e;
	struct events_result r = { 0 };
	sqlite3_stmt *st = NULL;
	enum events_outcome out = EVENTS_OUT_RETRY;
	int64_t start = store_now_ms(), now, next = 0, delay;
	int rc;

	if (store_webhook_get(&w->store, d->webhook_id, &wh) < 0 || !wh.enabled)
		return;
	rc = events_entry(w, d->seq, &e, &st);
	if (rc < 0) {
		snprintf(r.error, sizeof(r.error), "audit entry %lld is missing",
			 (long long)d->seq);
		out = EVENTS_OUT_FAILED;
	} else {
		events_send(w, &wh, &e, &r);
	}
	sqlite3_finalize(st);
	now = store_now_ms();
	if (rc == 0 && r.status >= 200 && r.status < 300) {
		out = EVENTS_OUT_DELIVERED;
	} else if (r.status == 410) {
		out = EVENTS_OUT_FAILED;
		events_gone(w, d->webhook_id);
	} else if (rc == 0) {
		delay = events_retry_delay(w->conf.sched, w->conf.nsched, d->attempts + 1,
					   r.retry_after_ms);
		if (delay < 0 || now + delay > d->created_at + w->conf.horizon_ms)
			out = EVENTS_OUT_FAILED;
		else
			next = now + delay;
	}
	atomic_fetch_add_explicit(&w->attempts[out], 1, memory_order_relaxed);
	if (out != EVENTS_OUT_DELIVERED)
		log_warn("webhook %s: event %lld: %s (%s)", wh.name, (long long)d->seq,
			 r.error[0] ? r.error : "failed", state[out]);
	if (store_outbox_attempt(&w->store, d, now, r.status, now - start,
				 r.error[0] ? r.error : NULL, state[out], next) < 0)
		log_err("cannot record a delivery attempt");
}

static void events_round(struct events_worker *w)
{
	struct store_delivery due[EVENTS_BATCH];
	int64_t now = store_now_ms();
	int n;

	events_conf_load(w);
	if (now - w->last_prune > EVENTS_PRUNE_MS) {
		store_outbox_prune(&w->store, now - w->conf.retention_ms);
		w->last_prune = now;
	}
	do {
		n = store_outbox_due(&w->store, store_now_ms(), due, EVENTS_BATCH);
		for (int i = 0; i < n && !w->stop; i++)
			events_deliver(w, &due[i]);
	} while (n == EVENTS_BATCH && !w->stop);
	atomic_store_explicit(&w->depth, store_outbox_depth(&w->store),
			      memory_order_relaxed);
}

int events_worker_metrics_render(const struct events_worker *w, struct buf *out)
{
	static const char *const name[EVENTS_OUT_MAX] = { "delivered", "retry", "failed" };
	int r = buf_printf(out, "# TYPE postern_webhook_attempts_total counter\n");

	for (int i = 0; i < EVENTS_OUT_MAX && r == 0; i++)
		r = buf_printf(out, "postern_webhook_attempts_total{outcome=\"%s\"} %llu\n",
			       name[i], (unsigned long long)(w ? atomic_load_explicit(
				       &w->attempts[i], memory_order_relaxed) : 0));
	if (r == 0)
		r = buf_printf(out, "# TYPE postern_webhook_outbox_depth gauge\n"
			       "postern_webhook_outbox_depth %lld\n", (long long)(w ?
			       atomic_load_explicit(&w->depth, memory_order_relaxed) : 0));
	return r < 0 ? -ENOBUFS : 0;
}

static void *events_main(void *arg)
{
	struct events_worker *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		int64_t next, wait_ms;
		struct timespec ts;
		w->kicked = false;
		pthread_mutex_unlock(&w->mu);
		events_round(w);
		next = store_outbox_next_due(&w->store);
		pthread_mutex_lock(&w->mu);
		if (w->stop || w->kicked)
			continue;
		wait_ms = next - store_now_ms();
		if (wait_ms > EVENTS_IDLE_MS)
			wait_ms = EVENTS_IDLE_MS;
		if (wait_ms <= 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += wait_ms / 1000;
		ts.tv_nsec += (wait_ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* On the control loop: disable the webhooks whose receivers said 410. */
static void events_async_cb(struct loop_async *a)
{
	struct events_worker *w = a->data;
	int64_t gone[EVENTS_GONE_MAX];
	size_t n;

	pthread_mutex_lock(&w->mu);
	n = w->ngone;
	memcpy(gone, w->gone, n * sizeof(gone[0]));
	w->ngone = 0;
	pthread_mutex_unlock(&w->mu);
	for (size_t i = 0; i < n; i++)
		if (w->disable)
			w->disable(w->ctx, gone[i], "the receiver answered 410 Gone");
}

static int events_worker_open(struct events_worker *w, const struct events_worker_cfg *cfg,
			      char *err, size_t errlen)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	w->key_path = strdup(cfg->key_path);
	if (!w->key_path || store_open(&w->store, cfg->db_path, 0, err, errlen) < 0 ||
	    secret_keyring_load(&w->keys, cfg->key_path, false, err, errlen) < 0)
		return -1;
	if (http_client_init(&w->http, cfg->ca_file, EVENTS_TIMEOUT_DEFAULT_S * 1000,
			     EVENTS_BODY_MAX) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* A fresh connection each time: the address check runs per attempt.
	 * Only the status matters: a long answer is cut, not a failure. */
	w->http.flags |= HTTP_CLIENT_F_FRESH | HTTP_CLIENT_F_TRUNCATE;
	if (cfg->loop) {
		if (loop_async_init(cfg->loop, &w->async, events_async_cb, w) < 0) {
			snprintf(err, errlen, "cannot create the worker's wake-up");
			return -1;
		}
		w->loop = cfg->loop;
		w->async_on = true;
	}
	return 0;
}

struct events_worker *events_worker_start(const struct events_worker_cfg *cfg,
					  char *err, size_t errlen)
{
	struct events_worker *w = calloc(1, sizeof(*w));
	sigset_t all, old;
	int rc;

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->disable = cfg->disable;
	w->ctx = cfg->ctx;
	if (events_worker_open(w, cfg, err, errlen) < 0) {
		events_worker_stop(w);
		return NULL;
	}
	/* The thread takes no process signals (the hub reads SIGTERM from a
	 * signalfd; a thread started before it blocks them would die of it). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&w->thread, NULL, events_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		if (!err[0])
			snprintf(err, errlen, "cannot start the delivery thread");
		events_worker_stop(w);
		return NULL;
	}
	w->started = true;
	return w;
}

void events_worker_kick(struct events_worker *w)
{
	if (!w)
		return;
	sync_flag_raise(&w->mu, &w->cv, &w->kicked);
}

void events_worker_stop(struct events_worker *w)
{
	if (!w)
		return;
	if (w->started) {
		sync_flag_raise(&w->mu, &w->cv, &w->stop);
		pthread_join(w->thread, NULL);
	}
	if (w->async_on)
		loop_async_close(w->loop, &w->async);
	http_client_free(&w->http);
	if (w->keys.path)
		secret_keyring_free(&w->keys);
	if (w->store.db)
		store_close(&w->store);
	free(w->key_path);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}
