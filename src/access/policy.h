/* policy.h - a route's access rules, compiled from its policy JSON.
 *
 *   {"access": {"allow": ["192.0.2.0/24", "2001:db8::/32"],
 *               "deny":  ["192.0.2.66"]},
 *    "auth": "login", "groups": ["family"], "users": ["alice"]}
 *
 * A client address in any "deny" range is refused; when "allow" is not
 * empty, an address outside every "allow" range is refused too.
 * "auth" is "public" (the default) or "login": a logged-in user only
 * (auth_users.h), who, when "groups" or "users" is given, must be in one
 * of the groups or be one of the users. "groups" and "users" without
 * "auth": "login" are an error (they would protect nothing).
 * "require": "passkey" (with "login") admits only sessions made by a
 * passkey login; "first": "passkey" or "password" (with "login") says
 * which way in the portal offers first for this route. Keys
 * that are not known are an error, so a typo never leaves a route open.
 * "headers" (with "login") renames the identity fields the upstream gets:
 * {"user": "Remote-User", "groups": "Remote-Groups", "email":
 * "Remote-Email", "assertion": "X-Auth-Jwt"}; a key left out keeps its
 * default (X-Postern-User, -Groups, -Email, -Assertion).
 * The same parser validates the API's input and builds the route table
 * (one validator for both). Later rules (login policy, GeoIP, CrowdSec,
 * rate limits) add keys here. */
#ifndef POSTERN_ACCESS_POLICY_H
#define POSTERN_ACCESS_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "access/bypass.h"
#include "core/addr.h"

#define ACCESS_MAX_CIDRS 32
#define ACCESS_MAX_NAMES 16
#define ACCESS_NAME_MAX 64
#define ACCESS_HDR_MAX 64

/* The identity fields a login route's upstream receives. */
enum access_id {
	ACCESS_ID_USER = 0,
	ACCESS_ID_GROUPS,
	ACCESS_ID_EMAIL,
	ACCESS_ID_ASSERTION,
	ACCESS_ID_MAX
};

struct access_policy {
	unsigned nallow, ndeny;
	struct cidr allow[ACCESS_MAX_CIDRS];
	struct cidr deny[ACCESS_MAX_CIDRS];
	bool login;		/* "auth": "login" */
	bool require_passkey;	/* "require": "passkey": password sessions refused */
	bool passkey_first;	/* "first": "passkey": the portal offers it first */
	unsigned ngroups, nusers;
	char groups[ACCESS_MAX_NAMES][ACCESS_NAME_MAX + 1];
	char users[ACCESS_MAX_NAMES][ACCESS_NAME_MAX + 1];
	char idhdr[ACCESS_ID_MAX][ACCESS_HDR_MAX + 1];	/* "" = the default */
	struct access_bypass bypass;	/* with "login": access/bypass.h */
};

/* Parses `json` (NULL or "" = no rules) into *p. Returns 0, or -EINVAL
 * with a message for the operator in err (which names the bad key or
 * entry, never echoes more than it). */
int access_policy_parse(const char *json, struct access_policy *p, char *err, size_t errlen);

/* "headers" of the policy object `root` (jansson) into p->idhdr (policy_hdr.c).
 * Returns 0 or -EINVAL with the bad key named. */
struct json_t;
int access_headers_parse(struct json_t *root, struct access_policy *p, char *err, size_t errlen);
/* The field name for identity `k` on a route with policy p. */
const char *access_id_header(const struct access_policy *p, enum access_id k);

/* 0 when `a` may pass, else the status to answer (403). */
int access_policy_check(const struct access_policy *p, const struct addr *a);

struct auth_user;
/* Whether logged-in user `u` satisfies the policy's groups and users
 * (true when it names neither). */
bool access_policy_user_ok(const struct access_policy *p, const struct auth_user *u);

#endif
