/* auth_basic.h - the machine credential in an Authorization field.
 *
 * A route token (auth_creds.h) travels as
 *
 *   Authorization: Bearer prt_...
 *   Authorization: Basic base64(NAME ":" prt_...)   (RFC 7617; NAME free)
 *
 * The scheme is case-insensitive, one or more spaces follow it, and the
 * credential is a token68 (RFC 9110 s11.4). Only a credential that
 * starts with the route token prefix is the hub's: any other
 * Authorization (an app's own Basic login, a foreign bearer token) is
 * none of its business and goes to the upstream untouched. */
#ifndef POSTERN_AUTH_AUTH_BASIC_H
#define POSTERN_AUTH_AUTH_BASIC_H

#include <stddef.h>

#include "core/str.h"

#define AUTH_ROUTE_TOKEN_PREFIX "prt_"
/* The longest decoded Basic credential looked at ("name:token"). */
#define AUTH_BASIC_MAX 512

/* Finds the hub's route token in Authorization value `v` (untrusted).
 * Returns 1 with *tok set (a view into `v`, or into buf for Basic: buf
 * must hold AUTH_BASIC_MAX bytes and be wiped by the caller), 0 when
 * the field holds no route token (another scheme, or a Basic password
 * that is not one, or a Basic field that does not decode: the app's),
 * -1 when a credential with the prefix is malformed. */
int auth_basic_token(struct str v, char *buf, struct str *tok);

#endif
