/* alog.c - the JSON access log line. */
#include "front/alog.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/secure.h"
#include "front/snap.h"
#include "front/worker.h"

void alog_copy(char *dst, size_t cap, struct str s)
{
	size_t o = 0;

	for (size_t i = 0; i < s.len && o + 3 < cap; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '"' || c == '\\')
			dst[o++] = '\\';
		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[o] = '\0';
}

/* Random bytes for request ids, drawn from the kernel a page at a time
 * per thread (a getrandom per request was one syscall in thirty of a
 * short HTTPS connection). Ids need to be unique and unguessable, not
 * secret: a consumed slice is not reused and no wipe is needed. */
#define ALOG_RID_POOL 4096
static _Thread_local uint8_t rid_pool[ALOG_RID_POOL];
static _Thread_local size_t rid_used = ALOG_RID_POOL;

static void alog_rid_bytes(uint8_t *r, size_t len)
{
	if (rid_used + len > ALOG_RID_POOL) {
		if (secure_random(rid_pool, sizeof(rid_pool)) < 0) {
			memset(r, 0, len);
			return;
		}
		rid_used = 0;
	}
	memcpy(r, rid_pool + rid_used, len);
	rid_used += len;
}

void alog_request_id(char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[ALOG_RID_LEN / 2];

	alog_rid_bytes(r, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[ALOG_RID_LEN] = '\0';
}

size_t alog_format(char *line, size_t cap, const struct alog_rec *r)
{
	uint64_t wall = clock_wall_ns();
	time_t secs = (time_t)(wall / NSEC_PER_SEC);
	struct tm tm;
	char ts[32];
	int n;

	gmtime_r(&secs, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, cap,
		     "{\"time\":\"%s.%03uZ\",\"client\":\"%s\",\"host\":\"%s\","
		     "\"method\":\"%s\",\"path\":\"%s\",\"status\":%d,"
		     "\"bytes_in\":%llu,\"bytes\":%llu,\"duration_ms\":%.3f,"
		     "\"route\":\"%s\",\"upstream\":\"%s\",\"request_id\":\"%s\","
		     "\"error\":\"%s\"}\n",
		     ts, (unsigned)((wall / NSEC_PER_MSEC) % 1000), r->client, r->host,
		     r->method, r->path, r->status, (unsigned long long)r->bytes_in,
		     (unsigned long long)r->bytes_out, (double)r->dur_ns / 1e6, r->route,
		     r->upstream, r->request_id, r->error ? r->error : "");
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

void alog_hub_reply(struct worker *w, const char *client, struct str host_v,
		    struct str method_v, struct str path_v, int status, uint64_t bytes)
{
	char host[128], method[16], path[512], rid[ALOG_RID_LEN + 1];
	char line[1536];
	struct alog_rec r;

	if (!w->hold->snap->set.access_log)
		return;
	alog_copy(host, sizeof(host), host_v);
	alog_copy(method, sizeof(method), method_v);
	alog_copy(path, sizeof(path), path_v);
	alog_request_id(rid);
	r = (struct alog_rec){
		.client = client, .host = host, .method = method, .path = path,
		.status = status, .bytes_out = bytes, .route = "", .upstream = "",
		.request_id = rid,
	};
	worker_access_log(w, line, alog_format(line, sizeof(line), &r));
}
