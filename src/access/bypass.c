/* bypass.c - a login route's bypass rules (see bypass.h). */
#include "access/bypass.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "access/access_int.h"
#include "http/target.h"

/* A path prefix as the pipeline compares it: already in normal form, so
 * a rule never silently means something else than it reads. */
static const char *access_bypass_path_item(const char *s, unsigned i, void *out)
{
	struct access_bypass *b = out;
	char copy[ACCESS_BYPASS_PATH_MAX + 1];
	size_t n = strlen(s);

	if (s[0] != '/' || n > ACCESS_BYPASS_PATH_MAX)
		return "a path starting with '/' (at most 128 bytes)";
	for (size_t k = 0; k < n; k++)
		if ((unsigned char)s[k] <= ' ' || (unsigned char)s[k] >= 0x7f ||
		    strchr("%;?#\\", s[k]))
			return "not a plain path (no spaces, '%', ';', '?', '#' or '\\')";
	memcpy(copy, s, n + 1);
	if (http_target_normalize(copy, &n) < 0 || n != strlen(s) || memcmp(copy, s, n))
		return "not in normal form (no \"//\", \".\" or \"..\" segments)";
	if (n > 1 && s[n - 1] == '/')
		n--;		/* "/health/" covers what "/health" does */
	memcpy(b->paths[i], s, n);
	b->paths[i][n] = 0;
	b->plen[i] = n;
	return NULL;
}

/* A method token in upper case ("OPTIONS"). */
static const char *access_bypass_method_item(const char *s, unsigned i, void *out)
{
	struct access_bypass *b = out;
	size_t n = strlen(s);

	if (n == 0 || n > ACCESS_BYPASS_METHOD_MAX || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != n)
		return "a method name in upper case";
	memcpy(b->methods[i], s, n + 1);
	return NULL;
}

/* The ranges go through the policy's own CIDR reader. */
static const char *access_bypass_cidr_item(const char *s, unsigned i, void *out)
{
	return access_cidr_item(s, i, ((struct access_bypass *)out)->cidrs);
}

int access_bypass_parse(json_t *root, struct access_bypass *b, char *err, size_t errlen)
{
	static const char *const keys[] = { "paths", "methods", "cidrs", NULL };
	json_t *o = json_object_get(root, "bypass");

	memset(b, 0, sizeof(*b));
	if (!o)
		return 0;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "policy.bypass: not an object");
		return -EINVAL;
	}
	if (access_only_keys(o, keys, "policy.bypass", err, errlen) < 0 ||
	    access_array(o, "bypass", "paths", ACCESS_BYPASS_MAX, access_bypass_path_item, b,
			 &b->npaths, err, errlen) < 0 ||
	    access_array(o, "bypass", "methods", ACCESS_BYPASS_MAX, access_bypass_method_item, b,
			 &b->nmethods, err, errlen) < 0 ||
	    access_array(o, "bypass", "cidrs", ACCESS_BYPASS_MAX, access_bypass_cidr_item, b,
			 &b->ncidrs, err, errlen) < 0)
		return -EINVAL;
	return 0;
}

bool access_bypass_match(const struct access_bypass *b, struct str method, struct str path,
			 const struct addr *peer)
{
	for (unsigned i = 0; i < b->nmethods; i++)
		if (str_eq(method, str_cstr(b->methods[i])))
			return true;
	for (unsigned i = 0; i < b->npaths; i++)
		if (http_path_prefix_match(path, b->paths[i], b->plen[i]))
			return true;
	for (unsigned i = 0; i < b->ncidrs && peer; i++)
		if (addr_cidr_match(&b->cidrs[i], peer))
			return true;
	return false;
}
