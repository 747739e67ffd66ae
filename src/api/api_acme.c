/* api_acme.c - certificates the hub orders from its ACME CA: request,
 * renew and revoke (docs/acme.md, "The API"). Listing, import and delete
 * are the generic certificate resource (api_cert.c). */
#define LOG_SUBSYS "api"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_key.h"
#include "acme/acme_mgr.h"
#include "acme/acme_name.h"
#include "acme/dns_provider.h"
#include "api/api_acme.h"
#include "api/api_handlers.h"
#include "api/api_resource.h"
#include "core/secure.h"
#include "tls/cert.h"
#include "tls/cert_facts.h"

#define API_ACME_STANDIN_DAYS 7

/* 409 when the hub has no [acme] section. Returns 0 or -1. */
static int api_acme_enabled(struct api_ctx *c)
{
	if (c->api->acme)
		return 0;
	api_reply_error(c, 409, "acme_disabled", NULL, "the hub has no [acme] section: "
			"it cannot order certificates");
	return -1;
}

/* A string member that must be one of `allowed` (or absent). Returns 0
 * (*out NULL when absent) or -1 after replying. */
static int api_acme_enum(struct api_ctx *c, const char *field,
			 const char *const *allowed, const char **out)
{
	json_t *v = json_object_get(c->body, field);

	*out = NULL;
	if (!v)
		return 0;
	for (size_t i = 0; json_is_string(v) && allowed[i]; i++)
		if (!strcmp(json_string_value(v), allowed[i])) {
			*out = allowed[i];
			return 0;
		}
	api_reply_error(c, 400, "invalid", field, "%s: must be one of the documented "
			"values", field);
	return -1;
}

/* names: 1..16 distinct DNS names (wildcards allowed). Returns the count
 * or -1 after replying. */
static int api_acme_names(struct api_ctx *c, const char **names)
{
	json_t *arr = json_object_get(c->body, "names"), *v;
	size_t i, n = json_array_size(arr);

	if (!json_is_array(arr) || n == 0 || n > ACME_MGR_MAX_NAMES) {
		api_reply_error(c, 400, "invalid", "names", "names: must be an array of "
				"1 to %d DNS names", ACME_MGR_MAX_NAMES);
		return -1;
	}
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);
		if (!s || strlen(s) > 253 || !acme_name_valid(s, true) ||
		    api_check_host(s)) {
			api_reply_error(c, 400, "invalid", "names", "names: item %zu must "
					"be a lower-case DNS name or *.domain", i);
			return -1;
		}
		for (size_t k = 0; k < i; k++)
			if (!strcmp(names[k], s)) {
				api_reply_error(c, 400, "invalid", "names", "names: %s is "
						"given twice", s);
				return -1;
			}
		names[i] = s;
	}
	return (int)n;
}

/* "www-example-com" from "www.example.com", "wildcard-example-com" from
 * "*.example.com": the default name (63 characters at most). */
static void api_acme_default_name(const char *first, char *out, size_t len)
{
	size_t o = 0;

	if (!strncmp(first, "*.", 2)) {
		o = (size_t)snprintf(out, len, "wildcard-");
		first += 2;
	}
	for (; *first && o + 1 < len && o < 63; first++)
		out[o++] = *first == '.' ? '-' : *first;
	out[o] = 0;
}

/* Wildcards need dns-01: the request's challenge, else the configured
 * list must offer it. Returns 0 or -1 after replying. */
static int api_acme_challenge_ok(struct api_ctx *c, const char *const *names,
				 int n, const char *challenge, const char *provider)
{
	const char *list = challenge ? challenge : c->api->acme->challenges;

	if (challenge && !strcmp(challenge, "dns-01") && !provider &&
	    !c->api->acme->dns_provider[0]) {
		api_reply_error(c, 400, "invalid", "dns_provider", "dns_provider: is "
				"required for dns-01 (the hub's [acme] names none)");
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (names[i][0] == '*' && !strstr(list, "dns-01")) {
			api_reply_error(c, 400, "invalid", "challenge", "challenge: %s "
					"needs dns-01", names[i]);
			return -1;
		}
	return 0;
}

/* 409 when a certificate is called `name` already. */
static bool api_acme_cert_exists_any(struct api_ctx *c, const char *name)
{
	int64_t id = store_cert_id(&c->api->store, name);

	if (id < 0)
		return true;
	if (id > 0)
		api_reply_error(c, 409, "conflict", "name", "name: a certificate called "
				"%s exists", name);
	return id > 0;
}

/* Inserts the stand-in row and its key. Returns the id or -1. */
static int64_t api_acme_insert(struct api_ctx *c, int64_t seq, const char *name,
			       const char *chain, const char *key, const char *opts)
{
	struct acme_records rec = api_acme_records(c->api);
	json_t *facts = json_object();
	int64_t id = -1;

	if (!api_acme_cert_exists_any(c, name) && facts && tls_cert_facts(chain, facts) == 0)
		id = acme_records_cert_put(&rec, 0, seq, name, facts, "self-signed", chain, opts,
					   key);
	json_decref(facts);
	if (id < 0 && c->resp->status < 400)
		api_reply_error(c, 500, "internal", NULL, "internal error");
	return id;
}

/* Commits a change to certificate `id` with its audit entry and replies
 * with the row (status `status`). */
static void api_acme_finish(struct api_ctx *c, int64_t seq, int64_t id,
			    const char *action, int status)
{
	json_t *row = api_res_load(c, &api_cert_res, id);
	char object[64], *after = row ? api_res_summary(c, &api_cert_res, row) : NULL;

	snprintf(object, sizeof(object), "certificate:%lld", (long long)id);
	c->changed |= API_CHANGED_CERTS;
	if (!row || !after) {
		api_tx_abort(c);
		api_reply_error(c, 500, "internal", NULL, "internal error");
	} else if (api_tx_commit(c, seq, action, object, NULL, after) == 0) {
		api_reply_etag(c, seq);
		api_reply_header(c, "Location: /api/v1/certificates/%lld", (long long)id);
		api_reply_json(c, status, api_res_public(c, &api_cert_res, row));
	}
	json_decref(row);
	free(after);
}

static const char *const api_acme_challenges[] = { "http-01", "tls-alpn-01", "dns-01", NULL };
static const char *const api_acme_key_types[] = { "ec256", "rsa2048", "rsa3072", NULL };
static const char *const api_acme_request_fields[] = {
	"names", "name", "challenge", "key_type", "dns_provider", NULL
};

/* Validates a request body into its parts. Returns the number of names,
 * or -1 after replying. */
static int api_acme_request_parse(struct api_ctx *c, const char **names,
				  struct store_cert_acme *o, char *name, size_t len)
{
	const char *given = api_body_str(c, "name");
	int n;

	if (api_body_only(c, api_acme_request_fields) < 0 ||
	    (n = api_acme_names(c, names)) < 0 ||
	    api_acme_enum(c, "challenge", api_acme_challenges, &o->challenge) < 0 ||
	    api_acme_enum(c, "key_type", api_acme_key_types, &o->key_type) < 0 ||
	    api_acme_enum(c, "dns_provider", dns_provider_names, &o->dns_provider) < 0)
		return -1;
	if (c->api->acme && api_acme_challenge_ok(c, names, n, o->challenge,
						  o->dns_provider) < 0)
		return -1;
	if (json_object_get(c->body, "name") &&
	    (!given || !given[0] || strlen(given) > 63 || api_check_name(given))) {
		api_reply_error(c, 400, "invalid", "name", "name: 1 to 63 lower-case "
				"letters, digits and '-'");
		return -1;
	}
	if (given)
		snprintf(name, len, "%s", given);
	else
		api_acme_default_name(names[0], name, len);
	return n;
}

/* POST /certificates/request: a self-signed stand-in now (it serves the
 * names at once), the CA's certificate when the order completes. The
 * hub's publisher hands the new row to the ACME manager. */
void api_cert_request(struct api_ctx *c)
{
	const char *names[ACME_MGR_MAX_NAMES];
	struct store_cert_acme o = { 0 };
	char name[64], *cert = NULL, *key = NULL, *opts = NULL, why[256];
	size_t cl = 0, kl = 0;
	int64_t seq, id;
	int n;

	if ((n = api_acme_request_parse(c, names, &o, name, sizeof(name))) < 0 ||
	    api_acme_enabled(c) < 0)
		return;
	if (tls_selfsigned_make(names, (size_t)n, API_ACME_STANDIN_DAYS, &cert, &cl, &key,
				&kl, why, sizeof(why)) < 0) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return;
	}
	json_t *oj = json_object();
	if (o.challenge)
		json_object_set_new(oj, "challenge", json_string(o.challenge));
	if (o.key_type)
		json_object_set_new(oj, "key_type", json_string(o.key_type));
	if (o.dns_provider)
		json_object_set_new(oj, "dns_provider", json_string(o.dns_provider));
	opts = json_dumps(oj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(oj);
	if (opts && (seq = api_tx_begin(c)) >= 0) {
		if ((id = api_acme_insert(c, seq, name, cert, key, opts)) < 0)
			api_tx_abort(c);
		else
			api_acme_finish(c, seq, id, "certificate.request", 202);
	}
	free(opts);
	free(cert);
	secure_free(key, kl);
}

/* The certificate {id} as a row, or NULL after replying 404. */
static json_t *api_acme_row(struct api_ctx *c)
{
	json_t *row = api_res_load(c, &api_cert_res, c->id);

	if (!row)
		api_reply_error(c, 404, "not_found", NULL, "no certificate %lld",
				(long long)c->id);
	return row;
}

/* POST /certificates/{id}/renew: order now (a revoked certificate is
 * ordered again). */
void api_cert_renew(struct api_ctx *c)
{
	json_t *row = api_acme_row(c);
	const char *name;
	int64_t seq;

	if (!row || api_acme_enabled(c) < 0)
		goto out;
	name = json_string_value(json_object_get(row, "name"));
	if (!json_is_string(json_object_get(row, "acme"))) {
		api_reply_error(c, 409, "not_acme", NULL, "certificate %s was imported: "
				"import its successor instead", name);
		goto out;
	}
	if ((seq = api_tx_begin(c)) < 0)
		goto out;
	store_cert_set_revoked(&c->api->store, c->id, seq, false, 0);
	/* The commit publishes, which (re)adds the certificate to the
	 * manager; then the order starts. */
	api_acme_finish(c, seq, c->id, "certificate.renew", 202);
	if (c->resp->status == 202)
		c->api->acme->renew(c->api->acme->ctx, name);
out:
	json_decref(row);
}

/* POST /certificates/{id}/revoke {"reason": 0..10}: revokeCert at the CA,
 * asynchronously; "certificate.revoked" is recorded when the CA agrees. */
void api_cert_revoke(struct api_ctx *c)
{
	static const char *const allowed[] = { "reason", NULL };
	json_t *row = NULL, *reason = json_object_get(c->body, "reason");
	const char *name, *src;
	char after[160], object[64];

	if (api_body_only(c, allowed) < 0)
		return;
	if (reason && (!json_is_integer(reason) || json_integer_value(reason) < 0 ||
		       json_integer_value(reason) > 10 || json_integer_value(reason) == 7)) {
		api_reply_error(c, 400, "invalid", "reason", "reason: an RFC 5280 reason "
				"code (0-6, 8-10)");
		return;
	}
	if (!(row = api_acme_row(c)) || api_acme_enabled(c) < 0)
		goto out;
	name = json_string_value(json_object_get(row, "name"));
	src = json_string_value(json_object_get(row, "source"));
	if (!src || strcmp(src, "acme") || json_is_integer(json_object_get(row, "revoked_at"))) {
		api_reply_error(c, 409, "not_revocable", NULL, "certificate %s is not a "
				"valid certificate from the CA", name);
		goto out;
	}
	if (c->api->acme->revoke(c->api->acme->ctx, name,
				 json_string_value(json_object_get(row, "cert_pem")),
				 (int)json_integer_value(reason)) < 0) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		goto out;
	}
	snprintf(after, sizeof(after), "{\"name\":\"%s\",\"reason\":%d}", name,
		 (int)json_integer_value(reason));
	snprintf(object, sizeof(object), "certificate:%lld", (long long)c->id);
	api_audit_event(c, "certificate.revoke", object, after);
	api_reply_json(c, 202, api_res_public(c, &api_cert_res, row));
out:
	json_decref(row);
}
