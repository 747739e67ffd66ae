/* form.h - reading application/x-www-form-urlencoded bodies and query
 * strings (the login portal's forms, its ?rd= and ?code= parameters).
 *
 * Untrusted bytes: every value is decoded into a caller's bounded
 * buffer; '+' is a space, "%XX" a byte; a malformed escape, a NUL or
 * another control byte (but none in values the caller allows) is an
 * error, never silently passed on. */
#ifndef POSTERN_HTTP_FORM_H
#define POSTERN_HTTP_FORM_H

#include <stddef.h>

#include "core/str.h"

/* Finds the first "name=value" pair of `in` ("a=1&b=2") whose decoded
 * name is `name` and decodes its value into out (NUL-terminated, at most
 * cap - 1 bytes). Returns the value's length, -1 when there is no such
 * pair, or -2 when it is malformed (bad escape, a control byte, longer
 * than cap - 1, or `name` given twice: ambiguity is refused). */
long http_form_get(struct str in, const char *name, char *out, size_t cap);

#endif
