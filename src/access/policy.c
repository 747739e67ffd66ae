/* policy.c - route access rules (see policy.h). */
#include "access/policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "access/access_int.h"
#include "auth/auth_users.h"

int access_array(json_t *obj, const char *where, const char *name, unsigned max,
		 access_item_fn *fn, void *out, unsigned *n, char *err, size_t errlen)
{
	json_t *arr = json_object_get(obj, name), *v;
	const char *why;
	size_t i;

	*n = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > max) {
		snprintf(err, errlen, "%s.%s: an array of at most %u strings", where, name, max);
		return -EINVAL;
	}
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);
		if ((why = s ? fn(s, *n, out) : "not a string")) {
			snprintf(err, errlen, "%s.%s[%zu]: %s", where, name, i, why);
			return -EINVAL;
		}
		(*n)++;
	}
	return 0;
}

const char *access_cidr_item(const char *s, unsigned i, void *out)
{
	return addr_cidr_parse(s, strlen(s), &((struct cidr *)out)[i]) < 0
		? "not an address or CIDR" : NULL;
}

/* A user name as the store allows them (lower-case letters, digits, '.',
 * '_', '-', starting with a letter or digit). */
static const char *access_user_item(const char *s, unsigned i, void *out)
{
	for (const char *p = s; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
		if (!alnum && (p == s || !strchr("._-", *p)))
			return "not a user name";
	}
	if (!*s || strlen(s) > ACCESS_NAME_MAX)
		return "not a user name";
	snprintf(((char (*)[ACCESS_NAME_MAX + 1])out)[i], ACCESS_NAME_MAX + 1, "%s", s);
	return NULL;
}

static const char *access_group_item(const char *s, unsigned i, void *out)
{
	const char *why = auth_group_name_check(s);

	if (!why)
		snprintf(((char (*)[ACCESS_NAME_MAX + 1])out)[i], ACCESS_NAME_MAX + 1, "%s", s);
	return why;
}

/* "require" ("passkey") and "first" ("passkey" or "password"). Returns
 * 0 or -EINVAL. */
static int access_login_method(json_t *root, struct access_policy *p, char *err,
			       size_t errlen)
{
	json_t *rq = json_object_get(root, "require"), *f = json_object_get(root, "first");
	const char *r = json_string_value(rq), *fs = json_string_value(f);

	if (rq && (!r || strcmp(r, "passkey"))) {
		snprintf(err, errlen, "policy.require: \"passkey\"");
		return -EINVAL;
	}
	if (f && (!fs || (strcmp(fs, "passkey") && strcmp(fs, "password")))) {
		snprintf(err, errlen, "policy.first: \"passkey\" or \"password\"");
		return -EINVAL;
	}
	p->require_passkey = rq != NULL;
	p->passkey_first = p->require_passkey || (fs && !strcmp(fs, "passkey"));
	return 0;
}

/* "auth", "groups" and "users". Returns 0 or -EINVAL. */
static int access_login(json_t *root, struct access_policy *p, char *err, size_t errlen)
{
	json_t *a = json_object_get(root, "auth");
	const char *s = json_string_value(a);

	if (a && (!s || (strcmp(s, "public") && strcmp(s, "login")))) {
		snprintf(err, errlen, "policy.auth: \"public\" or \"login\"");
		return -EINVAL;
	}
	p->login = s && !strcmp(s, "login");
	if (access_array(root, "policy", "groups", ACCESS_MAX_NAMES, access_group_item,
			 p->groups, &p->ngroups, err, errlen) < 0 ||
	    access_array(root, "policy", "users", ACCESS_MAX_NAMES, access_user_item,
			 p->users, &p->nusers, err, errlen) < 0)
		return -EINVAL;
	if (!p->login && (json_object_get(root, "groups") || json_object_get(root, "users") ||
			  json_object_get(root, "bypass") || json_object_get(root, "require") ||
			  json_object_get(root, "first"))) {
		snprintf(err, errlen, "policy: groups, users, bypass, require and first need"
			 " \"auth\": \"login\"");
		return -EINVAL;
	}
	return access_login_method(root, p, err, errlen);
}

int access_only_keys(json_t *obj, const char *const *keys, const char *where,
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
	static const char *const top[] = { "access", "auth", "groups", "users", "headers",
					   "bypass", "require", "first", NULL };
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
		  access_array(a, "access", "allow", ACCESS_MAX_CIDRS, access_cidr_item,
			       p->allow, &p->nallow, err, errlen) < 0 ||
		  access_array(a, "access", "deny", ACCESS_MAX_CIDRS, access_cidr_item,
			       p->deny, &p->ndeny, err, errlen) < 0))
		goto out;
	if (access_login(root, p, err, errlen) < 0 ||
	    access_headers_parse(root, p, err, errlen) < 0 ||
	    access_bypass_parse(root, &p->bypass, err, errlen) < 0)
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
		if (addr_cidr_match(&p->deny[i], a))
			return 403;
	for (unsigned i = 0; i < p->nallow && !ok; i++)
		ok = addr_cidr_match(&p->allow[i], a);
	return ok ? 0 : 403;
}

bool access_policy_user_ok(const struct access_policy *p, const struct auth_user *u)
{
	if (!p->ngroups && !p->nusers)
		return true;
	for (unsigned i = 0; i < p->nusers; i++)
		if (!strcmp(p->users[i], u->name))
			return true;
	for (unsigned i = 0; i < p->ngroups; i++)
		if (auth_user_in_group(u, p->groups[i]))
			return true;
	return false;
}
