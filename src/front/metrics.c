/* metrics.c - per-worker counter blocks and the Prometheus renderer. */
#include "front/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_BUCKETS 12
static const double metrics_le[METRICS_BUCKETS] = {
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
static const uint64_t metrics_le_ns[METRICS_BUCKETS] = {
	1000000ULL, 5000000ULL, 10000000ULL, 25000000ULL, 50000000ULL,
	100000000ULL, 250000000ULL, 500000000ULL, 1000000000ULL,
	2500000000ULL, 5000000000ULL, 10000000000ULL,
};

struct metrics_route {
	_Atomic uint64_t status[6];	/* 1xx..5xx, other */
	_Atomic uint64_t bucket[METRICS_BUCKETS + 1];
	_Atomic uint64_t sum_ns, bytes_in, bytes_out;
};

struct metrics_block {
	_Atomic uint64_t ctr[METRICS_CTR_MAX];
	_Atomic uint64_t deny[METRICS_DENY_MAX];
	_Atomic int64_t conns;
	struct metrics_route route[METRICS_ROUTES_MAX];
};

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	atomic_init(&m->nroutes, 1);	/* id 0 is METRICS_NO_ROUTE */
}

void metrics_fini(struct metrics *m)
{
	for (unsigned w = 0; w < METRICS_WORKERS_MAX; w++) {
		free(m->blocks[w]);
		m->blocks[w] = NULL;
	}
	pthread_mutex_destroy(&m->lock);
}

uint32_t metrics_route_register(struct metrics *m, const char *name)
{
	uint32_t id = METRICS_NO_ROUTE, n;

	if (!m)
		return id;
	pthread_mutex_lock(&m->lock);
	n = m->nroutes;
	for (uint32_t i = 1; i < n; i++)
		if (!strcmp(m->names[i], name)) {
			id = i;
			goto out;
		}
	if (n < METRICS_ROUTES_MAX) {
		snprintf(m->names[n], sizeof(m->names[n]), "%s", name);
		id = n;
		m->nroutes = n + 1;
	}
out:
	pthread_mutex_unlock(&m->lock);
	return id;
}

int metrics_worker_init(struct metrics *m, unsigned w, struct metrics_block **out)
{
	struct metrics_block *b;

	if (w >= METRICS_WORKERS_MAX)
		return -EINVAL;
	if (!m->blocks[w]) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return -ENOMEM;
		m->blocks[w] = b;
	}
	*out = m->blocks[w];
	return 0;
}

/* Single writer per block: a relaxed load+store, no locked instruction. */
static inline void metrics_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

void metrics_observe(struct metrics_block *b, uint32_t route, int status, uint64_t dur_ns,
		     uint64_t bytes_in, uint64_t bytes_out)
{
	struct metrics_route *r;
	unsigned cls = status >= 100 && status < 600 ? (unsigned)status / 100 - 1 : 5;
	unsigned k = 0;

	if (!b || route >= METRICS_ROUTES_MAX)
		return;
	r = &b->route[route];
	metrics_add(&r->status[cls], 1);
	while (k < METRICS_BUCKETS && dur_ns > metrics_le_ns[k])
		k++;
	metrics_add(&r->bucket[k], 1);
	metrics_add(&r->sum_ns, dur_ns);
	metrics_add(&r->bytes_in, bytes_in);
	metrics_add(&r->bytes_out, bytes_out);
}

void metrics_count(struct metrics_block *b, enum metrics_ctr c)
{
	if (b)
		metrics_add(&b->ctr[c], 1);
}

void metrics_deny(struct metrics_block *b, enum metrics_deny why)
{
	if (b && why < METRICS_DENY_MAX)
		metrics_add(&b->deny[why], 1);
}

void metrics_conns(struct metrics_block *b, int delta)
{
	if (b)
		atomic_store_explicit(&b->conns,
				      atomic_load_explicit(&b->conns, memory_order_relaxed) + delta,
				      memory_order_relaxed);
}

static uint64_t metrics_sum(struct metrics *m, size_t off)
{
	uint64_t s = 0;
	for (unsigned w = 0; w < METRICS_WORKERS_MAX; w++) {
		struct metrics_block *b = m->blocks[w];
		if (b)
			s += atomic_load_explicit((_Atomic uint64_t *)((char *)b + off),
						  memory_order_relaxed);
	}
	return s;
}

#define RSUM(id, field) \
	metrics_sum(m, offsetof(struct metrics_block, route) + \
		    (size_t)(id) * sizeof(struct metrics_route) + \
		    offsetof(struct metrics_route, field))

/* Requests a route has seen (every observation lands in one bucket). */
static uint64_t metrics_route_count(struct metrics *m, uint32_t id)
{
	uint64_t n = 0;
	for (int k = 0; k <= METRICS_BUCKETS; k++)
		n += RSUM(id, bucket[k]);
	return n;
}

/* Writes route `id`'s name as a label value into lab (escaped per the
 * exposition format: backslash, double quote, newline). Route names come
 * from the store, so they are not trusted to be plain. */
static void metrics_route_label(struct metrics *m, uint32_t id, char *lab, size_t cap)
{
	const char *name = id ? m->names[id] : "(none)";
	size_t o = 0;

	for (; *name && o + 3 < cap; name++) {
		char ch = *name;
		if (ch == '\\' || ch == '"' || ch == '\n') {
			lab[o++] = '\\';
			ch = ch == '\n' ? 'n' : ch;
		}
		lab[o++] = ch;
	}
	lab[o] = '\0';
}

/* One family's samples for one route. A family's lines must form one
 * group in the exposition, so the renderer loops families outside and
 * routes inside. */
enum metrics_fam { METRICS_FAM_REQS, METRICS_FAM_DUR, METRICS_FAM_BIN, METRICS_FAM_BOUT };

static int metrics_render_fam(struct metrics *m, struct buf *out, enum metrics_fam f,
			      uint32_t id)
{
	static const char *const cls[6] = { "1xx", "2xx", "3xx", "4xx", "5xx", "other" };
	char lab[2 * sizeof(m->names[0]) + 1];
	uint64_t cum = 0;
	int r = 0;

	metrics_route_label(m, id, lab, sizeof(lab));
	switch (f) {
	case METRICS_FAM_REQS:
		for (int c = 0; c < 6 && r == 0; c++) {
			uint64_t v = RSUM(id, status[c]);
			if (v)
				r = buf_printf(out, "postern_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
					       lab, cls[c], (unsigned long long)v);
		}
		return r;
	case METRICS_FAM_DUR:
		for (int k = 0; k < METRICS_BUCKETS && r == 0; k++) {
			cum += RSUM(id, bucket[k]);
			r = buf_printf(out, "postern_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
				       lab, metrics_le[k], (unsigned long long)cum);
		}
		cum += RSUM(id, bucket[METRICS_BUCKETS]);
		return r ? r : buf_printf(out, "postern_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
					  "postern_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
					  "postern_request_duration_seconds_count{route=\"%s\"} %llu\n",
					  lab, (unsigned long long)cum, lab,
					  (double)RSUM(id, sum_ns) / 1e9, lab, (unsigned long long)cum);
	case METRICS_FAM_BIN:
		return buf_printf(out, "postern_request_bytes_total{route=\"%s\"} %llu\n", lab,
				  (unsigned long long)RSUM(id, bytes_in));
	case METRICS_FAM_BOUT:
		return buf_printf(out, "postern_response_bytes_total{route=\"%s\"} %llu\n", lab,
				  (unsigned long long)RSUM(id, bytes_out));
	}
	return 0;
}

/* The per-route families, each as one group, routes that saw requests
 * only. Returns 0 or -ENOBUFS/-ENOMEM. */
static int metrics_render_routes(struct metrics *m, struct buf *out)
{
	static const char *const head[4] = {
		"# TYPE postern_requests_total counter\n",
		"# TYPE postern_request_duration_seconds histogram\n",
		"# TYPE postern_request_bytes_total counter\n",
		"# TYPE postern_response_bytes_total counter\n",
	};
	uint32_t n = m->nroutes;
	bool seen[METRICS_ROUTES_MAX];
	int r = 0;

	for (uint32_t id = 0; id < n; id++)
		seen[id] = metrics_route_count(m, id) > 0;
	for (int f = METRICS_FAM_REQS; f <= METRICS_FAM_BOUT && r == 0; f++) {
		r = buf_printf(out, "%s", head[f]);
		for (uint32_t id = 0; id < n && r == 0; id++)
			if (seen[id])
				r = metrics_render_fam(m, out, (enum metrics_fam)f, id);
	}
	return r;
}

/* postern_access_denied_total{reason}: every reason, zeros included. */
static int metrics_render_deny(struct metrics *m, struct buf *out)
{
	static const char *const why[METRICS_DENY_MAX] = {
		[METRICS_DENY_CIDR] = "cidr_denied",
		[METRICS_DENY_NO_SESSION] = "no_session",
		[METRICS_DENY_FORBIDDEN] = "forbidden_user_or_group",
	};
	int r = buf_printf(out, "# TYPE postern_access_denied_total counter\n");

	for (int d = 0; d < METRICS_DENY_MAX && r == 0; d++)
		r = buf_printf(out, "postern_access_denied_total{reason=\"%s\"} %llu\n", why[d],
			       (unsigned long long)metrics_sum(m, offsetof(struct metrics_block, deny) +
							      (size_t)d * sizeof(uint64_t)));
	return r;
}

int metrics_render(struct metrics *m, struct buf *out)
{
	static const char *const ctr[METRICS_CTR_MAX] = {
		"postern_connections_accepted_total",
		"postern_connections_rejected_total",
		"postern_requests_malformed_total",
		"postern_requests_timeout_total",
		"postern_upstream_connect_failures_total",
		"postern_upstream_retries_total",
		"postern_upstream_reused_total",
		"postern_upstream_timeouts_total",
	};
	int64_t conns = 0;
	int r = 0;

	for (unsigned w = 0; w < METRICS_WORKERS_MAX; w++)
		if (m->blocks[w])
			conns += atomic_load_explicit(&m->blocks[w]->conns,
						      memory_order_relaxed);
	r = buf_printf(out, "# TYPE postern_connections_open gauge\npostern_connections_open %lld\n",
		       (long long)conns);
	for (int c = 0; c < METRICS_CTR_MAX && r == 0; c++)
		r = buf_printf(out, "# TYPE %s counter\n%s %llu\n", ctr[c], ctr[c],
			       (unsigned long long)metrics_sum(m, offsetof(struct metrics_block, ctr) +
							      (size_t)c * sizeof(uint64_t)));
	if (r == 0)
		r = metrics_render_deny(m, out);
	if (r == 0)
		r = metrics_render_routes(m, out);
	return r;
}
