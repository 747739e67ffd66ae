/* test_threads.c - the hub's cross-thread hand-offs, for ThreadSanitizer
 * (make BUILD=tsan unit-tsan) as much as for their results:
 *   - snapshot publication: the control side posts snapshots to running
 *     worker loops (worker_post_snap -> the worker's mailbox) while each
 *     worker keeps requests holding older ones;
 *   - certificate swaps: sets installed while other threads handshake;
 *   - the ACME worker: jobs queued from the control loop, run on the
 *     worker thread, handed back through a loop_async.
 * Worker threads never call CHECK (its counters are not atomic): they
 * count what they saw, and the main thread checks after joining them.
 *
 * worker.c is included to reach its mailbox (worker_mail and
 * worker_install_snap are static); nothing else of worker.o is needed. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include <openssl/x509v3.h>

#include "unit.h"
#include "tls_test.h"

#include "../../src/front/worker.c"
#include "acme/acme_chall.h"
#include "acme/acme_key.h"
#include "acme/acme_worker.h"
#include "core/secure.h"

/* ---- snapshot publication ---- */

#define SNAP_WORKERS 2
#define SNAP_POSTS 3000
#define SNAP_HELD 8	/* requests in flight per worker */

static atomic_uint snaps_freed;

static void snap_count_free(void *tls)
{
	(void)tls;
	atomic_fetch_add(&snaps_freed, 1);
}

struct snap_worker {
	struct worker w;
	struct loop_async stop;
	pthread_t thread;
	struct snap_hold *held[SNAP_HELD];
	unsigned next;
	uint64_t last_version, mails;
	unsigned bad;		/* torn or out-of-order snapshots seen */
};

/* A mail: install what was posted (worker.c), then a "request" takes the
 * current snapshot and keeps it while the next ones come and go. */
static void snap_mail(struct loop_async *a)
{
	struct snap_worker *sw = a->data;
	struct snap_hold *h;

	worker_mail(a);
	h = sw->w.hold;
	/* What the publisher wrote before posting it, whole. */
	if (h->snap->set.header_timeout != h->snap->version * 7 ||
	    h->snap->set.body_timeout != h->snap->version * 11 ||
	    h->snap->version < sw->last_version)
		sw->bad++;
	sw->last_version = h->snap->version;
	sw->mails++;
	snap_hold_get(h);
	if (sw->held[sw->next])
		snap_hold_put(sw->held[sw->next]);
	sw->held[sw->next] = h;
	sw->next = (sw->next + 1) % SNAP_HELD;
}

static void snap_stop(struct loop_async *a)
{
	struct snap_worker *sw = a->data;

	loop_stop(sw->w.loop);
}

static void *snap_run(void *arg)
{
	struct snap_worker *sw = arg;

	loop_run(sw->w.loop);
	return NULL;
}

static _Atomic uint64_t snap_versions;	/* the publisher's counter */

static struct front_snap *snap_make(void)
{
	struct front_settings set = { 0 };
	struct front_snap *s = snap_new(&snap_versions, &set, NULL, NULL);

	if (!s)
		abort();
	s->set.header_timeout = s->version * 7;
	s->set.body_timeout = s->version * 11;
	s->tls = s;	/* only to have snap_count_free called when it goes */
	s->tls_free = snap_count_free;
	return s;
}

TEST(snapshots_posted_to_running_workers)
{
	static struct snap_worker sw[SNAP_WORKERS];
	unsigned made = 0;
	uint64_t last = 0;

	atomic_store(&snaps_freed, 0);
	for (int i = 0; i < SNAP_WORKERS; i++) {
		struct worker *w = &sw[i].w;

		w->idx = (unsigned)i;
		pthread_mutex_init(&w->admin_lock, NULL);
		w->loop = loop_new();
		CHECK(w->loop != NULL);
		CHECK_EQ_INT(loop_async_init(w->loop, &w->async, snap_mail, &sw[i]), 0);
		CHECK_EQ_INT(loop_async_init(w->loop, &sw[i].stop, snap_stop, &sw[i]), 0);
		w->hold = snap_hold_new(snap_make());
		made++;
	}
	for (int i = 0; i < SNAP_WORKERS; i++)
		CHECK_EQ_INT(pthread_create(&sw[i].thread, NULL, snap_run, &sw[i]), 0);
	/* The control side: every snapshot goes to every worker (one
	 * reference each), as hub.c publishes a reload. */
	for (int n = 0; n < SNAP_POSTS; n++) {
		struct front_snap *s = snap_make();

		made++;
		last = s->version;
		for (int i = 1; i < SNAP_WORKERS; i++)
			snap_ref(s);
		for (int i = 0; i < SNAP_WORKERS; i++)
			worker_post_snap(&sw[i].w, s);
	}
	for (int i = 0; i < SNAP_WORKERS; i++) {
		loop_async_send(&sw[i].stop);
		pthread_join(sw[i].thread, NULL);
	}
	for (int i = 0; i < SNAP_WORKERS; i++) {
		struct worker *w = &sw[i].w;

		CHECK_EQ_INT(sw[i].bad, 0);
		CHECK(sw[i].mails > 0);
		worker_install_snap(w);	/* a post the stop overtook */
		CHECK_EQ_U64(w->hold->snap->version, last);
		for (int j = 0; j < SNAP_HELD; j++)
			if (sw[i].held[j])
				snap_hold_put(sw[i].held[j]);
		snap_hold_put(w->hold);
		loop_async_close(w->loop, &w->async);
		loop_async_close(w->loop, &sw[i].stop);
		loop_free(w->loop);
		pthread_mutex_destroy(&w->admin_lock);
	}
	/* Every snapshot was freed once, by whichever thread let go last. */
	CHECK_EQ_INT(atomic_load(&snaps_freed), made);
}

/* ---- certificate swaps under handshakes ---- */

#define SWAP_READERS 2
#define SWAP_HANDSHAKES 12
#define SWAP_SETS 40

struct swap_reader {
	struct tls_server *srv;
	SSL_CTX *ctx;
	pthread_t thread;
	unsigned ok, bad;
};

static void *swap_read(void *arg)
{
	struct swap_reader *r = arg;

	for (int i = 0; i < SWAP_HANDSHAKES; i++) {
		struct tt_conn c = tt_conn_new(r->srv, r->ctx, "a.example.com", NULL);
		X509 *peer;

		if (tt_handshake(&c) && (peer = SSL_get1_peer_certificate(c.c))) {
			/* Whichever set served it, the name is a.example.com. */
			if (X509_check_host(peer, "a.example.com", 0, 0, NULL) == 1)
				r->ok++;
			else
				r->bad++;
			X509_free(peer);
		} else {
			r->bad++;
		}
		tt_conn_free(&c);
	}
	return NULL;
}

TEST(certificate_sets_swapped_under_handshakes)
{
	struct tls_server *srv = tt_server(NULL);
	struct tt_pem p[2] = { tt_selfsigned("a.example.com", NULL),
			       tt_selfsigned("a.example.com", NULL) };
	struct swap_reader r[SWAP_READERS];
	struct tls_certset *set = tls_certset_new(srv);

	tt_add(set, &p[0]);
	CHECK_EQ_INT(tls_server_certset_install(srv, set), 0);
	for (int i = 0; i < SWAP_READERS; i++) {
		r[i] = (struct swap_reader){ .srv = srv };
		r[i].ctx = tt_client_ctx(TLS1_2_VERSION, TLS1_3_VERSION, NULL, 0, NULL);
		CHECK_EQ_INT(pthread_create(&r[i].thread, NULL, swap_read, &r[i]), 0);
	}
	for (int n = 0; n < SWAP_SETS; n++) {
		set = tls_certset_new(srv);
		tt_add(set, &p[n % 2]);
		CHECK_EQ_INT(tls_server_certset_install(srv, set), 0);
		set = tls_server_certset_get(srv);
		CHECK(set != NULL);
		tls_certset_put(set);
	}
	for (int i = 0; i < SWAP_READERS; i++) {
		pthread_join(r[i].thread, NULL);
		CHECK_EQ_INT(r[i].ok, SWAP_HANDSHAKES);
		CHECK_EQ_INT(r[i].bad, 0);
		SSL_CTX_free(r[i].ctx);
	}
	tls_server_free(srv);
	tt_pem_free(&p[0]);
	tt_pem_free(&p[1]);
}

/* ---- the ACME worker's queues ---- */

#define ACME_JOBS 24

struct acme_fx {
	struct loop *loop;
	struct acme_worker *w;
	unsigned submitted, done, failed;
};

static struct acme_job *acme_fx_job(unsigned i)
{
	struct acme_job *job = calloc(1, sizeof(*job));

	if (!job)
		abort();
	job->kind = ACME_JOB_ARI;
	job->slot = i;
	snprintf(job->ari_id, sizeof(job->ari_id), "aaaa.%u", i);
	return job;
}

/* On the control loop: each finished job (the CA is unreachable, so each
 * one fails) queues another until ACME_JOBS ran, so submissions overlap
 * the worker's runs. */
static void acme_fx_done(void *arg, struct acme_job *job)
{
	struct acme_fx *fx = arg;

	fx->done++;
	fx->failed += job->rc < 0 && job->err[0];
	acme_job_free(job);
	if (fx->submitted < ACME_JOBS)
		acme_worker_submit(fx->w, acme_fx_job(fx->submitted++));
	if (fx->done == ACME_JOBS)
		loop_stop(fx->loop);
}

TEST(acme_worker_jobs_round_trip)
{
	struct acme_mgr_cfg cfg = { 0 };
	struct acme_chall chall;
	struct acme_fx fx = { 0 };
	struct acme_key k;
	char err[256] = "", *pem;

	CHECK_EQ_INT(acme_key_generate(ACME_KEY_EC256, &k), 0);
	pem = acme_pkey_to_pem(k.pkey);
	/* Port 1 on loopback: refused at once, no network involved. */
	snprintf(cfg.directory, sizeof(cfg.directory), "http://127.0.0.1:1/directory");
	snprintf(cfg.challenges, sizeof(cfg.challenges), "http-01");
	cfg.enabled = true;
	fx.loop = loop_new();
	CHECK(fx.loop != NULL);
	acme_chall_init(&chall);
	fx.w = acme_worker_new(fx.loop, &cfg, pem, &chall, acme_fx_done, &fx, err,
			       sizeof(err));
	if (!fx.w)
		UNIT_FAIL("acme_worker_new: %s", err);
	for (int i = 0; fx.w && i < 4; i++)
		acme_worker_submit(fx.w, acme_fx_job(fx.submitted++));
	if (fx.w)
		CHECK_EQ_INT(loop_run(fx.loop), 0);
	CHECK_EQ_INT(fx.done, ACME_JOBS);
	CHECK_EQ_INT(fx.failed, ACME_JOBS);
	acme_worker_free(fx.w);
	acme_chall_fini(&chall);
	loop_free(fx.loop);
	secure_free(pem, strlen(pem));
	acme_key_free(&k);
}

int main(void)
{
	log_set_level(LOG_LEVEL_MAX);
	RUN(snapshots_posted_to_running_workers);
	RUN(certificate_sets_swapped_under_handshakes);
	RUN(acme_worker_jobs_round_trip);
	return unit_done();
}
