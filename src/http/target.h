/* target.h - the normal form of an origin-form request target.
 *
 * The front matches routes on, and forwards, the same normalised path, so
 * a backend that resolves dot segments or decodes more than we do cannot
 * be reached around a route's policy. docs/front.md, "Request targets",
 * lists the rules. */
#ifndef POSTERN_HTTP_TARGET_H
#define POSTERN_HTTP_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"

/* Normalises the origin-form target p[0..*len) ("/path?query") in place:
 * percent-encoded unreserved bytes are decoded (RFC 3986 s6.2.2.2),
 * other escapes get upper-case hex, "//" runs are merged, and "." and
 * ".." segments are removed (s5.2.4; ".." at the root stays at the root).
 * The query is kept as sent. The result is never longer than the input;
 * *len is updated.
 *
 * Returns 0, or -HTTP_E_TARGET (400) for: '#', a raw back-slash, an
 * escape that is not '%' + two hex digits, "%00", or a segment that would
 * still be a dot segment to a backend that splits at "%2F", "%5C" or ';'
 * ("..%2F", "..;x"). A target that does not start with '/' ("*") is left
 * alone. */
int http_target_normalize(char *p, size_t *len);

/* Whether normalised path `path` (query included) lies under `prefix`
 * (plen bytes, no trailing '/' unless it is "/"): case folded, and the
 * prefix ends on a boundary ('/', '?', ';' or the end), so "/health"
 * covers "/HEALTH", "/health/x" and "/health;v=1" but not "/healthz".
 * Case and ';' are folded because a backend that folds case or drops ';'
 * parameters would serve the same thing: route lookup and the bypass
 * rules (access/bypass.h) share this one rule. */
bool http_path_prefix_match(struct str path, const char *prefix, size_t plen);

/* http_path_prefix_match as a backend that decodes "%2F" and "%5C" into
 * separators sees `path` (Go's ServeMux, WSGI's PATH_INFO, nginx's $uri
 * decode "%2F"; nginx then merges slashes): each '/' of the prefix
 * matches a run of '/', "%2F" and "%5C", and either escape ends the
 * prefix as '/' does. Escapes in a normalised path are upper case. */
bool http_path_prefix_match_decoded(struct str path, const char *prefix, size_t plen);

/* Whether the path part of normalised `path` (before '?') holds "%2F" or
 * "%5C": the only paths the two matches above may tell apart. */
bool http_path_has_encoded_slash(struct str path);

#endif
