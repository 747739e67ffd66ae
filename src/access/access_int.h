/* access_int.h - pieces the policy parsers of src/access share. */
#ifndef POSTERN_ACCESS_ACCESS_INT_H
#define POSTERN_ACCESS_ACCESS_INT_H

#include <stddef.h>

#include <jansson.h>

/* Stores string `s` (item i of an array) into `out`, or says why not
 * (NULL when it is fine). */
typedef const char *access_item_fn(const char *s, unsigned i, void *out);

/* Reads the array `where`.`name` of at most `max` strings through `fn`,
 * counting them in *n. Returns 0 or -EINVAL with the bad item named. */
int access_array(json_t *obj, const char *where, const char *name, unsigned max,
		 access_item_fn *fn, void *out, unsigned *n, char *err, size_t errlen);
/* -EINVAL naming the first key of `obj` not in `keys` (NULL-ended). */
int access_only_keys(json_t *obj, const char *const *keys, const char *where,
		     char *err, size_t errlen);
/* An address or CIDR into ((struct cidr *)out)[i]. */
const char *access_cidr_item(const char *s, unsigned i, void *out);

#endif
