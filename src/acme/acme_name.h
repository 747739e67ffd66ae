/* acme_name.h - DNS names and tokens as ACME uses them. */
#ifndef POSTERN_ACME_ACME_NAME_H
#define POSTERN_ACME_ACME_NAME_H

#include <stdbool.h>
#include <stddef.h>

/* A lower-case LDH host name of 1..253 bytes with at least two labels of
 * 1..63 bytes; with `allow_wildcard`, "*." may lead. */
bool acme_name_valid(const char *name, bool allow_wildcard);
/* A challenge token: 1..256 base64url characters (it becomes a URL path
 * and a DNS/TLS lookup key, so nothing else is allowed). */
bool acme_name_token_ok(const char *token);
/* True when a certificate name `pattern` ("a.b" or "*.b") covers `host`:
 * equal, or a wildcard matching exactly one leading label (RFC 6125). */
bool acme_name_covers(const char *pattern, const char *host);

#endif
