/* api_cert_expiry.c - "certificate.expiring": every stored certificate
 * (uploaded or ACME) is announced once per threshold of the
 * `certificate.expiring_before` setting it crosses, and the gauge
 * postern_certificate_expiry_timestamp_seconds{name} is kept for
 * /metrics. What was announced is read back from the audit log at the
 * first check, so a restart repeats nothing; a new certificate under the
 * same name (another not_after) starts over. Control thread. */
#define LOG_SUBSYS "api"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_int.h"
#include "core/log.h"
#include "core/clock.h"
#include "core/num.h"
#include "core/shtext.h"

#define EXPIRY_BEFORE_DEFAULT "30d,7d,1d"
#define EXPIRY_BEFORE_MAX 8
#define EXPIRY_BEFORE_LIMIT (3650ULL * 86400 * NSEC_PER_SEC)
#define EXPIRY_CERTS_MAX 1024

/* What has been announced: for certificate `id` valid until `not_after`
 * (ms), the smallest threshold (seconds before it) announced. */
struct expiry_mark {
	int64_t id, not_after, before;
};

struct api_expiry {
	bool loaded;
	size_t n;
	struct expiry_mark mark[EXPIRY_CERTS_MAX];
};

/* The thresholds in seconds. Returns the count or -1. */
static int expiry_before_parse(const char *s, int64_t *before)
{
	uint64_t ns[EXPIRY_BEFORE_MAX];
	int n = num_parse_duration_list(s, NSEC_PER_SEC, EXPIRY_BEFORE_LIMIT, ns,
					EXPIRY_BEFORE_MAX);

	for (int i = 0; i < n; i++)
		before[i] = (int64_t)(ns[i] / NSEC_PER_SEC);
	return n;
}

const char *api_check_expiring_before(const char *s)
{
	int64_t b[EXPIRY_BEFORE_MAX];

	return expiry_before_parse(s, b) < 0 ?
		"must be up to 8 durations (1s..3650d) separated by commas, e.g. 30d,7d,1d" : NULL;
}

static struct expiry_mark *expiry_find(struct api_expiry *x, int64_t id, int64_t not_after)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->mark[i].id == id && x->mark[i].not_after == not_after)
			return &x->mark[i];
	return NULL;
}

/* Records that threshold `before` was announced for (id, not_after). */
static void expiry_note(struct api_expiry *x, int64_t id, int64_t not_after, int64_t before)
{
	struct expiry_mark *m = expiry_find(x, id, not_after);

	if (!m && x->n < EXPIRY_CERTS_MAX) {
		m = &x->mark[x->n++];
		*m = (struct expiry_mark){ id, not_after, before };
	} else if (!m) {
		/* Full: forget the oldest (an announcement repeats, none is lost). */
		memmove(&x->mark[0], &x->mark[1], (x->n - 1) * sizeof(x->mark[0]));
		x->mark[x->n - 1] = (struct expiry_mark){ id, not_after, before };
	} else if (before < m->before) {
		m->before = before;
	}
}

/* One pass over the audit log's earlier announcements. */
static int expiry_load(struct api *api, struct api_expiry *x)
{
	sqlite3_stmt *st = store_prepare(&api->store, "SELECT object,"
		" json_extract(after_json, '$.not_after'), json_extract(after_json, '$.threshold_s')"
		" FROM audit_log WHERE action = 'certificate.expiring'"
		" AND json_valid(after_json) ORDER BY seq");
	uint64_t id;

	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *obj = (const char *)sqlite3_column_text(st, 0);
		if (obj && !strncmp(obj, "certificate:", 12) &&
		    sqlite3_column_type(st, 2) == SQLITE_INTEGER &&
		    num_parse_cstr(obj + 12, 1, INT64_MAX, &id) == 0)
			expiry_note(x, (int64_t)id, sqlite3_column_int64(st, 1),
				    sqlite3_column_int64(st, 2));
	}
	sqlite3_finalize(st);
	x->loaded = true;
	return 0;
}

/* The smallest threshold (seconds) that `left_s` has crossed, or 0. */
static int64_t expiry_crossed(const int64_t *before, int n, int64_t left_s)
{
	int64_t best = 0;

	for (int i = 0; i < n; i++)
		if (left_s <= before[i] && (!best || before[i] < best))
			best = before[i];
	return best;
}

static void expiry_announce(struct api *api, int64_t id, const char *name,
			    int64_t not_after, int64_t before, int64_t left_s)
{
	json_t *o = json_pack("{s:s,s:I,s:I,s:I}", "name", name, "not_after",
			      (json_int_t)not_after, "threshold_s", (json_int_t)before,
			      "seconds_left", (json_int_t)(left_s > 0 ? left_s : 0));
	char *after = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char object[64];
	int64_t seq;

	json_decref(o);
	snprintf(object, sizeof(object), "certificate:%lld", (long long)id);
	if (after && (seq = api_sys_tx_begin(api)) >= 0 &&
	    api_sys_tx_commit(api, seq, "certificate.expiring", object, NULL, after) == 0) {
		expiry_note(api->expiry, id, not_after, before);
		log_warn("certificate %s expires in %llds (threshold %llds)", name,
			 (long long)left_s, (long long)before);
	}
	free(after);
}

/* A certificate due for an announcement (collected while reading, sent
 * after: each announcement is a transaction of its own). */
struct expiry_due {
	int64_t id, not_after, before;
	char name[64];
};

/* Renders the gauge into b and collects what is due. Returns how many
 * are due (at most `max`) or -1. */
static int expiry_scan(struct api *api, int64_t now_s, const int64_t *before, int nb,
		       struct buf *b, struct expiry_due *due, int max)
{
	/* Self-signed stand-ins are replaced, not renewed: not announced. */
	sqlite3_stmt *st = store_prepare(&api->store, "SELECT id, name, not_after, source"
		" FROM certificates WHERE revoked_at IS NULL ORDER BY name");
	int n = 0;

	if (!st)
		return -1;
	buf_printf(b, "# TYPE postern_certificate_expiry_timestamp_seconds gauge\n");
	while (sqlite3_step(st) == SQLITE_ROW) {
		/* not_after in ms, as the certificates API shows it */
		int64_t id = sqlite3_column_int64(st, 0), na = sqlite3_column_int64(st, 2);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *src = (const char *)sqlite3_column_text(st, 3);
		struct expiry_mark *m = expiry_find(api->expiry, id, na);
		int64_t d = expiry_crossed(before, nb, na / 1000 - now_s);

		if (!name || !src)
			continue;
		buf_printf(b, "postern_certificate_expiry_timestamp_seconds{name=\"%s\","
			   "source=\"%s\"} %lld\n", name, src, (long long)(na / 1000));
		if (d && strcmp(src, "self-signed") && (!m || d < m->before) && n < max) {
			due[n] = (struct expiry_due){ id, na, d, "" };
			snprintf(due[n++].name, sizeof(due[0].name), "%s", name);
		}
	}
	sqlite3_finalize(st);
	return n;
}

void api_cert_expiry_check(struct api *api, int64_t now_s)
{
	enum { DUE_MAX = 64 };	/* per check; the rest come 5 s later */
	struct expiry_due *due;
	char spec[128];
	int64_t before[EXPIRY_BEFORE_MAX];
	int nb, n;
	struct buf b;

	if (!api->expiry && !(api->expiry = calloc(1, sizeof(*api->expiry))))
		return;
	if (!api->expiry->loaded && expiry_load(api, api->expiry) < 0)
		return;
	if (api_setting_str(api, "certificate.expiring_before", spec, sizeof(spec)) < 0 ||
	    (nb = expiry_before_parse(spec, before)) < 0)
		nb = expiry_before_parse(EXPIRY_BEFORE_DEFAULT, before);
	if (!(due = calloc(DUE_MAX, sizeof(*due))))
		return;
	buf_init(&b, 1u << 20);
	n = expiry_scan(api, now_s, before, nb, &b, due, DUE_MAX);
	if (n >= 0)
		shtext_replace(&api->cert_metrics, &b);
	buf_free(&b);
	for (int i = 0; i < n; i++)
		expiry_announce(api, due[i].id, due[i].name, due[i].not_after, due[i].before,
				due[i].not_after / 1000 - now_s);
	free(due);
}

void api_cert_expiry_free(struct api *api)
{
	free(api->expiry);
	api->expiry = NULL;
}
