/* acme_msg.c - parsers for the CA's JSON objects (untrusted; fuzzed by
 * fuzz/fuzz_acme_json.c). jansson does the JSON; this file checks shapes
 * and bounds and copies out what the client uses. */
#include "acme/acme_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/num.h"

#define ACME_ERR_PREFIX "urn:ietf:params:acme:error:"
#define ACME_STR_MAX 8192	/* longest string member copied out */

static const char *const status_names[ACME_ST_MAX] = {
	[ACME_ST_UNKNOWN] = "unknown",	   [ACME_ST_PENDING] = "pending",
	[ACME_ST_READY] = "ready",	   [ACME_ST_PROCESSING] = "processing",
	[ACME_ST_VALID] = "valid",	   [ACME_ST_INVALID] = "invalid",
	[ACME_ST_DEACTIVATED] = "deactivated", [ACME_ST_EXPIRED] = "expired",
	[ACME_ST_REVOKED] = "revoked",
};

const char *acme_status_name(enum acme_status st)
{
	return st < ACME_ST_MAX ? status_names[st] : "unknown";
}

enum acme_status acme_status_parse(const char *s)
{
	for (int i = 1; i < ACME_ST_MAX; i++)
		if (s && !strcmp(s, status_names[i]))
			return (enum acme_status)i;
	return ACME_ST_UNKNOWN;
}

/* Loads an object; NULL when the bytes are not a JSON object in bounds. */
static json_t *msg_load(const char *p, size_t len)
{
	json_t *j;

	if (!p || len == 0 || len > ACME_JSON_MAX)
		return NULL;
	j = json_loadb(p, len, JSON_REJECT_DUPLICATES, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* Fills one kind of message from its JSON object (`out` is that kind's
 * struct). Returns 0 or -EINVAL. */
typedef int msg_from_fn(json_t *o, void *out);

/* The body of every acme_*_parse: zeroes `out` (`size` bytes), loads the
 * bytes as a JSON object and lets `from` fill `out`. Returns 0 or -EINVAL;
 * on failure `out` may hold part of the message, which the kind's
 * acme_*_free frees as it frees a whole one. */
static int msg_parse(const char *p, size_t len, void *out, size_t size,
		     msg_from_fn *from)
{
	json_t *o = msg_load(p, len);
	int rc;

	memset(out, 0, size);
	if (!o)
		return -EINVAL;
	rc = from(o, out);
	json_decref(o);
	return rc;
}

/* Defines acme_<kind>_parse (declared in acme_msg.h) as msg_parse over
 * struct acme_<kind> with <kind>_from. */
#define MSG_PARSER(kind)                                                       \
	int acme_##kind##_parse(const char *p, size_t len,                     \
				struct acme_##kind *out)                       \
	{                                                                      \
		return msg_parse(p, len, out, sizeof(*out), kind##_from);      \
	}

/* Copies string member `key` into *out. Returns 0 (absent is fine unless
 * `required`), or -EINVAL for a wrong type, an oversize or NUL-bearing
 * string, a missing required member, or no memory. */
static int msg_str(json_t *o, const char *key, bool required, char **out)
{
	json_t *v = json_object_get(o, key);
	size_t n;

	if (!v)
		return required ? -EINVAL : 0;
	if (!json_is_string(v))
		return -EINVAL;
	n = json_string_length(v);
	if (n > ACME_STR_MAX || memchr(json_string_value(v), 0, n))
		return -EINVAL;
	free(*out);
	*out = strndup(json_string_value(v), n);
	return *out ? 0 : -EINVAL;
}

static int msg_status(json_t *o, bool required, enum acme_status *st)
{
	char *s = NULL;
	int rc = msg_str(o, "status", required, &s);

	if (rc == 0 && s) {
		*st = acme_status_parse(s);
		if (*st == ACME_ST_UNKNOWN)
			rc = -EINVAL;
	}
	free(s);
	return rc;
}

static int msg_ident(json_t *v, struct acme_ident *id)
{
	if (!json_is_object(v))
		return -EINVAL;
	if (msg_str(v, "type", true, &id->type) ||
	    msg_str(v, "value", true, &id->value))
		return -EINVAL;
	return 0;
}

static void msg_ident_free(struct acme_ident *id)
{
	free(id->type);
	free(id->value);
	id->type = id->value = NULL;
}

bool acme_problem_is(const struct acme_problem *pr, const char *name)
{
	size_t n = strlen(ACME_ERR_PREFIX);

	return pr->type && !strncmp(pr->type, ACME_ERR_PREFIX, n) &&
	       !strcmp(pr->type + n, name);
}

/* Summarizes the first subproblem as "type:value: detail". */
static int problem_sub(json_t *o, struct acme_problem *pr)
{
	json_t *subs = json_object_get(o, "subproblems"), *s;
	struct acme_ident id = { 0 };
	char *detail = NULL;
	int rc = -EINVAL;

	if (!subs)
		return 0;
	if (!json_is_array(subs))
		return -EINVAL;
	if (json_array_size(subs) == 0)
		return 0;
	s = json_array_get(subs, 0);
	if (!json_is_object(s) || msg_str(s, "detail", false, &detail))
		goto out;
	if (json_object_get(s, "identifier") &&
	    msg_ident(json_object_get(s, "identifier"), &id))
		goto out;
	if (asprintf(&pr->sub, "%s:%s: %s", id.type ? id.type : "?",
		     id.value ? id.value : "?", detail ? detail : "") < 0) {
		pr->sub = NULL;
		goto out;
	}
	rc = 0;
out:
	msg_ident_free(&id);
	free(detail);
	return rc;
}

static int problem_from(json_t *o, void *out)
{
	struct acme_problem *pr = out;
	json_t *st;

	if (!json_is_object(o))
		return -EINVAL;
	if (msg_str(o, "type", false, &pr->type) ||
	    msg_str(o, "detail", false, &pr->detail))
		return -EINVAL;
	st = json_object_get(o, "status");
	if (st) {
		if (!json_is_integer(st) || json_integer_value(st) < 0 ||
		    json_integer_value(st) > 999)
			return -EINVAL;
		pr->status = (int)json_integer_value(st);
	}
	if (!pr->type)	/* RFC 7807: absent type means "about:blank" */
		pr->type = strdup("about:blank");
	return pr->type ? problem_sub(o, pr) : -EINVAL;
}

MSG_PARSER(problem)

void acme_problem_free(struct acme_problem *pr)
{
	free(pr->type);
	free(pr->detail);
	free(pr->sub);
	memset(pr, 0, sizeof(*pr));
}

static int directory_from(json_t *o, void *out)
{
	struct acme_directory *d = out;
	json_t *meta = json_object_get(o, "meta"), *eab;

	if (msg_str(o, "newNonce", true, &d->new_nonce) ||
	    msg_str(o, "newAccount", true, &d->new_account) ||
	    msg_str(o, "newOrder", true, &d->new_order) ||
	    msg_str(o, "revokeCert", false, &d->revoke_cert) ||
	    msg_str(o, "keyChange", false, &d->key_change) ||
	    msg_str(o, "renewalInfo", false, &d->renewal_info))
		return -EINVAL;
	if (!meta)
		return 0;
	if (!json_is_object(meta) ||
	    msg_str(meta, "termsOfService", false, &d->terms_of_service))
		return -EINVAL;
	eab = json_object_get(meta, "externalAccountRequired");
	if (eab && !json_is_boolean(eab))
		return -EINVAL;
	d->eab_required = eab && json_is_true(eab);
	return 0;
}

MSG_PARSER(directory)

void acme_directory_free(struct acme_directory *d)
{
	free(d->new_nonce);
	free(d->new_account);
	free(d->new_order);
	free(d->revoke_cert);
	free(d->key_change);
	free(d->renewal_info);
	free(d->terms_of_service);
	memset(d, 0, sizeof(*d));
}

static int account_from(json_t *o, void *out)
{
	struct acme_account *a = out;

	if (msg_status(o, true, &a->status) ||
	    msg_str(o, "orders", false, &a->orders))
		return -EINVAL;
	return 0;
}

MSG_PARSER(account)

void acme_account_free(struct acme_account *a)
{
	free(a->orders);
	memset(a, 0, sizeof(*a));
}

static int order_lists(json_t *o, struct acme_order *ord)
{
	json_t *ids = json_object_get(o, "identifiers");
	json_t *az = json_object_get(o, "authorizations");
	size_t i;

	if (!json_is_array(ids) || !json_is_array(az) ||
	    json_array_size(ids) == 0 ||
	    json_array_size(ids) > ACME_MAX_IDENTS ||
	    json_array_size(az) > ACME_MAX_IDENTS)
		return -EINVAL;
	/* Count each slot before filling it, so a half-filled one is freed. */
	for (i = 0; i < json_array_size(ids); i++) {
		ord->n_idents = i + 1;
		if (msg_ident(json_array_get(ids, i), &ord->idents[i]))
			return -EINVAL;
	}
	for (i = 0; i < json_array_size(az); i++) {
		json_t *u = json_array_get(az, i);

		if (!json_is_string(u) || json_string_length(u) > ACME_STR_MAX ||
		    memchr(json_string_value(u), 0, json_string_length(u)))
			return -EINVAL;
		ord->authz[i] = strdup(json_string_value(u));
		if (!ord->authz[i])
			return -EINVAL;
		ord->n_authz++;
	}
	return 0;
}

static int order_from(json_t *o, void *out)
{
	struct acme_order *ord = out;
	json_t *err = json_object_get(o, "error");

	if (msg_status(o, true, &ord->status) || order_lists(o, ord) ||
	    msg_str(o, "finalize", true, &ord->finalize) ||
	    msg_str(o, "certificate", false, &ord->certificate))
		return -EINVAL;
	if (err && problem_from(err, &ord->error))
		return -EINVAL;
	return 0;
}

MSG_PARSER(order)

void acme_order_free(struct acme_order *ord)
{
	for (size_t i = 0; i < ord->n_idents; i++)
		msg_ident_free(&ord->idents[i]);
	for (size_t i = 0; i < ord->n_authz; i++)
		free(ord->authz[i]);
	free(ord->finalize);
	free(ord->certificate);
	acme_problem_free(&ord->error);
	memset(ord, 0, sizeof(*ord));
}

static int challenge_from(json_t *o, void *out)
{
	struct acme_challenge *c = out;
	json_t *err;

	if (!json_is_object(o))
		return -EINVAL;
	err = json_object_get(o, "error");
	if (msg_str(o, "type", true, &c->type) ||
	    msg_str(o, "url", true, &c->url) ||
	    msg_str(o, "token", false, &c->token) ||
	    msg_status(o, true, &c->status))
		return -EINVAL;
	if (err && problem_from(err, &c->error))
		return -EINVAL;
	return 0;
}

MSG_PARSER(challenge)

void acme_challenge_free(struct acme_challenge *c)
{
	free(c->type);
	free(c->url);
	free(c->token);
	acme_problem_free(&c->error);
	memset(c, 0, sizeof(*c));
}

static int authz_from(json_t *o, void *out)
{
	struct acme_authz *a = out;
	json_t *ch = json_object_get(o, "challenges");
	json_t *wc = json_object_get(o, "wildcard");

	if (msg_status(o, true, &a->status) ||
	    msg_ident(json_object_get(o, "identifier"), &a->ident))
		return -EINVAL;
	if (wc && !json_is_boolean(wc))
		return -EINVAL;
	a->wildcard = wc && json_is_true(wc);
	if (!json_is_array(ch) || json_array_size(ch) > ACME_MAX_CHALLENGES)
		return -EINVAL;
	for (size_t i = 0; i < json_array_size(ch); i++) {
		a->n_chall = i + 1;	/* a half-filled slot is freed too */
		if (challenge_from(json_array_get(ch, i), &a->chall[i]))
			return -EINVAL;
	}
	return 0;
}

MSG_PARSER(authz)

void acme_authz_free(struct acme_authz *a)
{
	msg_ident_free(&a->ident);
	for (size_t i = 0; i < a->n_chall; i++)
		acme_challenge_free(&a->chall[i]);
	memset(a, 0, sizeof(*a));
}

static int renewal_info_from(json_t *o, void *out)
{
	struct acme_renewal_info *ri = out;
	json_t *w = json_object_get(o, "suggestedWindow");
	char *s = NULL, *e = NULL;
	int rc = -EINVAL;

	if (!json_is_object(w) || msg_str(w, "start", true, &s) ||
	    msg_str(w, "end", true, &e) ||
	    msg_str(o, "explanationURL", false, &ri->explanation_url))
		goto out;
	if (acme_time_parse(s, strlen(s), &ri->start) ||
	    acme_time_parse(e, strlen(e), &ri->end) || ri->end <= ri->start)
		goto out;
	rc = 0;
out:
	free(s);
	free(e);
	return rc;
}

MSG_PARSER(renewal_info)

void acme_renewal_info_free(struct acme_renewal_info *ri)
{
	free(ri->explanation_url);
	memset(ri, 0, sizeof(*ri));
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant). */
static int64_t time_days(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static int time_field(const char *s, size_t at, size_t n, uint64_t max,
		      uint64_t *out)
{
	return num_parse_u64(s + at, n, 0, max, out);
}

int acme_time_parse(const char *s, size_t len, int64_t *out)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31 };
	uint64_t y, mo, d, h, mi, se, oh = 0, om = 0;
	size_t i = 19;
	int64_t off = 0;

	if (len < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
		return -EINVAL;
	if (time_field(s, 0, 4, 9999, &y) || time_field(s, 5, 2, 12, &mo) ||
	    time_field(s, 8, 2, 31, &d) || time_field(s, 11, 2, 23, &h) ||
	    time_field(s, 14, 2, 59, &mi) || time_field(s, 17, 2, 60, &se) ||
	    mo == 0 || d == 0 || d > mdays[mo - 1])
		return -EINVAL;
	if (s[i] == '.') {
		size_t j = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == j || i - j > 9)
			return -EINVAL;
	}
	if (len - i == 1 && (s[i] == 'Z' || s[i] == 'z')) {
		off = 0;
	} else if (len - i == 6 && (s[i] == '+' || s[i] == '-') &&
		   s[i + 3] == ':') {
		if (time_field(s, i + 1, 2, 23, &oh) ||
		    time_field(s, i + 4, 2, 59, &om))
			return -EINVAL;
		off = (int64_t)(oh * 3600 + om * 60);
		if (s[i] == '-')
			off = -off;
	} else {
		return -EINVAL;
	}
	*out = time_days((int64_t)y, (unsigned)mo, (unsigned)d) * 86400 +
	       (int64_t)(h * 3600 + mi * 60 + se) - off;
	return 0;
}
