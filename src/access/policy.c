/* policy.c - route access rules (see policy.h). */
#include "access/policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

/* Reads the array `name` of CIDR strings into out. Returns 0 or -EINVAL. */
static int access_cidrs(json_t *obj, const char *name, struct cidr *out, unsigned *n,
			char *err, size_t errlen)
{
	json_t *arr = json_object_get(obj, name), *v;
	size_t i;

	*n = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > ACCESS_MAX_CIDRS) {
		snprintf(err, errlen, "access.%s: an array of at most %d CIDR strings", name,
			 ACCESS_MAX_CIDRS);
		return -EINVAL;
	}
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);
		if (!s || cidr_parse(s, strlen(s), &out[*n]) < 0) {
			snprintf(err, errlen, "access.%s[%zu]: not an address or CIDR", name, i);
			return -EINVAL;
		}
		(*n)++;
	}
	return 0;
}

static int access_only_keys(json_t *obj, const char *const *keys, const char *where,
			    char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], k))
			i++;
		if (!keys[i]) {
			snprintf(err, errlen, "%s: unknown key \"%.40s\"", where, k);
			return -EINVAL;
		}
	}
	return 0;
}

int access_policy_parse(const char *json, struct access_policy *p, char *err, size_t errlen)
{
	static const char *const top[] = { "access", NULL };
	static const char *const acc[] = { "allow", "deny", NULL };
	json_error_t je;
	json_t *root, *a;
	int r = -EINVAL;

	memset(p, 0, sizeof(*p));
	if (!json || !json[0])
		return 0;
	root = json_loads(json, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(root)) {
		snprintf(err, errlen, "policy: not a JSON object");
		goto out;
	}
	if (access_only_keys(root, top, "policy", err, errlen) < 0)
		goto out;
	a = json_object_get(root, "access");
	if (a && !json_is_object(a)) {
		snprintf(err, errlen, "policy.access: not an object");
		goto out;
	}
	if (a && (access_only_keys(a, acc, "policy.access", err, errlen) < 0 ||
		  access_cidrs(a, "allow", p->allow, &p->nallow, err, errlen) < 0 ||
		  access_cidrs(a, "deny", p->deny, &p->ndeny, err, errlen) < 0))
		goto out;
	r = 0;
out:
	json_decref(root);
	return r;
}

int access_policy_check(const struct access_policy *p, const struct addr *a)
{
	bool ok = p->nallow == 0;

	for (unsigned i = 0; i < p->ndeny; i++)
		if (cidr_match(&p->deny[i], a))
			return 403;
	for (unsigned i = 0; i < p->nallow && !ok; i++)
		ok = cidr_match(&p->allow[i], a);
	return ok ? 0 : 403;
}
