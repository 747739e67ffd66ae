/* alog.h - the JSON access log line: one object per request, for the
 * exchanges the hub proxies and for the answers it gives itself (no
 * route, redirect, malformed request). */
#ifndef POSTERN_FRONT_ALOG_H
#define POSTERN_FRONT_ALOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

struct worker;

#define ALOG_RID_LEN 32

/* One line's fields. Strings are already escaped (alog_copy) or plain
 * printable ASCII without '"' and '\\'; none may be NULL. */
struct alog_rec {
	const char *client, *host, *method, *path;
	int status;
	uint64_t bytes_in, bytes_out, dur_ns;
	const char *route, *upstream, *request_id;
	/* What cut the exchange short ("upstream_timeout", ...), or NULL. */
	const char *error;
};

/* Copies a view for the log: printable ASCII only (others become '?'),
 * '"' and '\\' escaped; cut to fit cap (NUL included). */
void alog_copy(char *dst, size_t cap, struct str s);

/* Writes a fresh request id: ALOG_RID_LEN random hex characters + NUL. */
void alog_request_id(char *out);

/* Formats the line (with its newline) into line. Returns its length,
 * cut to cap - 1. */
size_t alog_format(char *line, size_t cap, const struct alog_rec *r);

/* Logs an answer of the hub's own on worker w (its thread) when the
 * access log is on: client, the request's host, method and path as parsed
 * (empty views for a request that did not parse), status and response
 * body bytes. */
void alog_hub_reply(struct worker *w, const char *client, struct str host,
		    struct str method, struct str path, int status, uint64_t bytes);

#endif
