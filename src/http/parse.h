/* parse.h - the strict, incremental HTTP/1.1 head parser (RFC 9112).
 *
 * Both functions take the bytes received so far (`p`, `len`), which must
 * start at the first byte of the message, and a scan cursor `*scan` the
 * caller sets to 0 for each new message and keeps between calls, so bytes
 * already searched are not searched again. */
#ifndef POSTERN_HTTP_PARSE_H
#define POSTERN_HTTP_PARSE_H

#include <stdbool.h>

#include "http/http.h"

/* Parses a request head. Returns >0: the head is complete, `m` is filled
 * and the value is its length in bytes (leading empty lines included);
 * 0: need more bytes; <0: -enum http_err (the connection must answer
 * http_err_status() and close). Views in `m` point into `p`. */
int http_parse_request(struct http_msg *m, const char *p, size_t len,
		       const struct http_limits *lim, size_t *scan);

/* Parses a response head to a request made with method `req`. Returns as
 * http_parse_request. Sets m->body to how the body is delimited, applying
 * the HEAD/1xx/204/304 rules. */
int http_parse_response(struct http_msg *m, const char *p, size_t len,
			const struct http_limits *lim, size_t *scan,
			enum http_method req);

/* The status a server sends for a request parse error. */
int http_err_status(int err);
/* A short fixed name for logs and counters ("bare_cr", ...). */
const char *http_err_name(int err);

/* The method token's enum (HTTP_M_OTHER for one it does not know). */
enum http_method http_method_lookup(struct str m);

/* Finds a header by name (case-insensitive). Returns its index or -1. */
int http_msg_find(const struct http_msg *m, struct str name);

/* True when `name` is a hop-by-hop field a proxy must not forward
 * (Connection, Keep-Alive, Proxy-Connection, TE, Transfer-Encoding,
 * Upgrade, Proxy-Authorization, Proxy-Authenticate, Trailer), or one named
 * in a Connection field of `m`. */
bool http_msg_hop_by_hop(const struct http_msg *m, struct str name);

/* Parses one field line "name: value" (no CRLF), as in a head: token
 * name, no space before ':', no control bytes. Returns 0 or -err. */
int http_parse_field_line(struct http_header *h, const char *p, size_t n);

/* Token character per RFC 9110 5.6.2. */
bool http_tchar(unsigned char c);

#endif
