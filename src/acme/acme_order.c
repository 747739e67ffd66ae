/* acme_order.c - one order from newOrder to the downloaded chain
 * (RFC 8555 s7.4, s7.5, s7.1.6 state machine). */
#define LOG_SUBSYS "acme"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "acme/acme_cert.h"
#include "acme/acme_client.h"
#include "acme/acme_client_int.h"
#include "acme/acme_name.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/secure.h"

#define POLL_MIN_S 1
#define POLL_MAX_S 30

/* Waits before the next poll: the CA's Retry-After when given (bounded),
 * else a gently growing interval. Fails once past the deadline. */
static int order_poll_wait(struct acme_client *c, const struct acme_http_resp *r,
			   unsigned *step, uint64_t deadline)
{
	uint64_t s = r->has_retry_after ? r->retry_after_s : POLL_MIN_S + *step / 3;

	if (s < POLL_MIN_S)
		s = POLL_MIN_S;
	if (s > POLL_MAX_S)
		s = POLL_MAX_S;
	(*step)++;
	if (clock_mono_ns() + s * NSEC_PER_SEC > deadline) {
		snprintf(c->err, sizeof(c->err), "timed out waiting for the CA");
		return -ETIMEDOUT;
	}
	return acme_client_sleep(c, s);
}

static uint64_t order_deadline(struct acme_client *c)
{
	return clock_mono_ns() + (uint64_t)c->poll_timeout_s * NSEC_PER_SEC;
}

/* Parsers of the answers an order reads, freeing what they filled when
 * the answer is malformed. Return 0 or -EINVAL. */
typedef int order_parse_fn(const char *p, size_t len, void *out);

static int order_parse_authz(const char *p, size_t len, void *out)
{
	int rc = acme_authz_parse(p, len, out);

	if (rc)
		acme_authz_free(out);
	return rc;
}

static int order_parse_order(const char *p, size_t len, void *out)
{
	int rc = acme_order_parse(p, len, out);

	if (rc)
		acme_order_free(out);
	return rc;
}

/* POSTs `payload` to `url` ("": a POST-as-GET) and parses the answer
 * into `out` with `parse`. On 0, `out` and `r` belong to the caller; on
 * failure both are freed and c->err says what went wrong (a malformed
 * answer names `what`). */
static int order_post_parse(struct acme_client *c, const char *url, const char *payload,
			    order_parse_fn *parse, void *out, const char *what,
			    struct acme_http_resp *r)
{
	int rc = acme_client_post(c, url, payload, false, NULL, r);

	if (rc)
		return rc;
	if (parse((const char *)buf_head(&r->body), r->body.len, out)) {
		acme_http_resp_free(r);
		snprintf(c->err, sizeof(c->err), "%s: malformed %s", url, what);
		return -EINVAL;
	}
	return 0;
}

/* POST-as-GET of an authorization. */
static int order_get_authz(struct acme_client *c, const char *url,
			   struct acme_authz *az, struct acme_http_resp *r)
{
	return order_post_parse(c, url, "", order_parse_authz, az, "authorization", r);
}

/* Polls the authorization until it leaves "pending". */
static int order_authz_settle(struct acme_client *c, const char *url,
			      const char *ctype)
{
	uint64_t deadline = order_deadline(c);
	unsigned step = 0;
	int rc;

	for (;;) {
		struct acme_authz az;
		struct acme_http_resp r;

		if ((rc = order_get_authz(c, url, &az, &r)))
			return rc;
		if (az.status == ACME_ST_VALID) {
			rc = 0;
		} else if (az.status != ACME_ST_PENDING) {
			const struct acme_problem *pr = NULL;

			for (size_t i = 0; i < az.n_chall; i++)
				if (!strcmp(az.chall[i].type, ctype) &&
				    az.chall[i].error.type)
					pr = &az.chall[i].error;
			snprintf(c->err, sizeof(c->err),
				 "%s for %s is %s: %s", ctype, az.ident.value,
				 acme_status_name(az.status),
				 pr && pr->detail ? pr->detail : "no detail");
			rc = -EPROTO;
		} else {
			rc = order_poll_wait(c, &r, &step, deadline);
			if (rc == 0)
				rc = 1;	/* poll again */
		}
		acme_authz_free(&az);
		acme_http_resp_free(&r);
		if (rc <= 0)
			return rc;
	}
}

static struct acme_solver *order_pick(const struct acme_issue_req *req,
				      const struct acme_authz *az,
				      const struct acme_challenge **ch)
{
	for (size_t s = 0; s < req->n_solvers; s++) {
		struct acme_solver *sv = &req->solvers[s];

		if (az->wildcard && strcmp(sv->ops->type, "dns-01"))
			continue;
		for (size_t i = 0; i < az->n_chall; i++)
			if (!strcmp(az->chall[i].type, sv->ops->type) &&
			    az->chall[i].token &&
			    acme_name_token_ok(az->chall[i].token)) {
				*ch = &az->chall[i];
				return sv;
			}
	}
	return NULL;
}

/* Tells the CA the answer is in place (s7.5.1: POST {} to the challenge). */
static int order_respond(struct acme_client *c, const char *url)
{
	struct acme_http_resp r;
	int rc = acme_client_post(c, url, "{}", false, NULL, &r);

	if (rc == 0)
		acme_http_resp_free(&r);
	return rc;
}

/* Gives a failed authorization back so it does not linger (s7.5.2). */
static void order_deactivate(struct acme_client *c, const char *url)
{
	struct acme_http_resp r;
	char keep[sizeof(c->err)];

	memcpy(keep, c->err, sizeof(keep));
	if (acme_client_post(c, url, "{\"status\":\"deactivated\"}", false, NULL,
			&r) == 0)
		acme_http_resp_free(&r);
	memcpy(c->err, keep, sizeof(keep));
}

static int order_do_authz(struct acme_client *c, const struct acme_issue_req *req,
			  const char *url)
{
	struct acme_authz az;
	struct acme_http_resp r;
	const struct acme_challenge *ch = NULL;
	struct acme_solver *sv;
	char *ka = NULL, *ctype = NULL;
	int rc = order_get_authz(c, url, &az, &r);

	if (rc)
		return rc;
	acme_http_resp_free(&r);
	if (az.status == ACME_ST_VALID)
		goto out;
	rc = -EPROTO;
	if (az.status != ACME_ST_PENDING) {
		snprintf(c->err, sizeof(c->err), "authorization for %s is %s",
			 az.ident.value, acme_status_name(az.status));
		goto out;
	}
	if (!(sv = order_pick(req, &az, &ch))) {
		snprintf(c->err, sizeof(c->err),
			 "no configured challenge type fits %s%s (wildcards need dns-01)",
			 az.wildcard ? "*." : "", az.ident.value);
		goto out;
	}
	ka = acme_key_authz(c->key, ch->token);
	ctype = strdup(ch->type);
	if (!ka || !ctype) {
		rc = -ENOMEM;
		goto out;
	}
	log_info("%s: answering %s", az.ident.value, ch->type);
	rc = sv->ops->present(sv, az.ident.value, ch->token, ka, c->err,
			      sizeof(c->err));
	if (rc == 0 && (rc = order_respond(c, ch->url)) == 0)
		rc = order_authz_settle(c, url, ctype);
	sv->ops->cleanup(sv, az.ident.value, ch->token, ka);
	if (rc && rc != -ECANCELED)
		order_deactivate(c, url);
out:
	free(ka);
	free(ctype);
	acme_authz_free(&az);
	return rc;
}

/* POST-as-GET (or the finalize POST) returning the parsed order. */
static int order_fetch(struct acme_client *c, const char *url,
		       const char *payload, struct acme_order *o,
		       struct acme_http_resp *r)
{
	return order_post_parse(c, url, payload, order_parse_order, o, "order", r);
}

/* Polls until the order reaches `want` (ready or valid). On 0, `o` holds
 * the final order (caller frees). */
static int order_settle(struct acme_client *c, const char *url,
			enum acme_status want, struct acme_order *o)
{
	uint64_t deadline = order_deadline(c);
	unsigned step = 0;
	int rc;

	for (;;) {
		struct acme_http_resp r;

		if ((rc = order_fetch(c, url, "", o, &r)))
			return rc;
		if (o->status == want) {
			acme_http_resp_free(&r);
			return 0;
		}
		if (o->status == ACME_ST_INVALID || o->status == ACME_ST_EXPIRED ||
		    (want == ACME_ST_READY && o->status != ACME_ST_PENDING) ||
		    (want == ACME_ST_VALID && o->status != ACME_ST_PROCESSING &&
		     o->status != ACME_ST_READY)) {
			snprintf(c->err, sizeof(c->err), "order is %s: %s",
				 acme_status_name(o->status),
				 o->error.detail ? o->error.detail : "no detail");
			acme_order_free(o);
			acme_http_resp_free(&r);
			return -EPROTO;
		}
		acme_order_free(o);
		rc = order_poll_wait(c, &r, &step, deadline);
		acme_http_resp_free(&r);
		if (rc)
			return rc;
	}
}

static char *order_payload(const struct acme_issue_req *req, bool with_replaces)
{
	json_t *o = json_object(), *ids = json_array();
	char *s;

	for (size_t i = 0; i < req->n_names; i++) {
		json_t *id = json_object();

		json_object_set_new(id, "type", json_string("dns"));
		json_object_set_new(id, "value", json_string(req->names[i]));
		json_array_append_new(ids, id);
	}
	json_object_set_new(o, "identifiers", ids);
	if (with_replaces && req->replaces)
		json_object_set_new(o, "replaces", json_string(req->replaces));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int order_new(struct acme_client *c, const struct acme_issue_req *req,
		     char **url)
{
	struct acme_http_resp r;
	bool ari = req->replaces && c->dir.renewal_info;
	char *payload = order_payload(req, ari);
	int rc;

	if (!payload)
		return -ENOMEM;
	rc = acme_client_post(c, c->dir.new_order, payload, false, NULL, &r);
	free(payload);
	if (rc)
		return rc;
	*url = r.location;
	r.location = NULL;
	acme_http_resp_free(&r);
	if (!*url) {
		snprintf(c->err, sizeof(c->err), "newOrder answer has no Location");
		return -EPROTO;
	}
	return 0;
}

static int order_finalize(struct acme_client *c, const struct acme_issue_req *req,
			  const char *finalize_url, EVP_PKEY *key)
{
	struct acme_http_resp r;
	struct acme_order o;
	char *csr = acme_csr_b64url(key, req->names, req->n_names), *payload;
	int rc;

	if (!csr || asprintf(&payload, "{\"csr\":\"%s\"}", csr) < 0) {
		free(csr);
		snprintf(c->err, sizeof(c->err), "cannot build the CSR");
		return -EINVAL;
	}
	free(csr);
	rc = order_fetch(c, finalize_url, payload, &o, &r);
	free(payload);
	if (rc == 0) {
		acme_order_free(&o);
		acme_http_resp_free(&r);
	}
	return rc;
}

static int order_download(struct acme_client *c, const char *url,
			  struct acme_issue_result *out)
{
	struct acme_http_resp r;
	int rc = acme_client_post(c, url, "", false,
			     "Accept: application/pem-certificate-chain", &r);

	if (rc)
		return rc;
	out->cert_pem = strndup((const char *)buf_head(&r.body), r.body.len);
	out->cert_url = strdup(url);
	acme_http_resp_free(&r);
	if (!out->cert_pem || !out->cert_url ||
	    !strstr(out->cert_pem, "-----BEGIN CERTIFICATE-----")) {
		snprintf(c->err, sizeof(c->err), "%s: not a PEM chain", url);
		return -EPROTO;
	}
	return 0;
}

static int order_check_req(struct acme_client *c, const struct acme_issue_req *req)
{
	if (req->n_names == 0 || req->n_names > ACME_MAX_IDENTS) {
		snprintf(c->err, sizeof(c->err), "an order needs 1..%d names",
			 ACME_MAX_IDENTS);
		return -EINVAL;
	}
	for (size_t i = 0; i < req->n_names; i++)
		if (!acme_name_valid(req->names[i], true)) {
			snprintf(c->err, sizeof(c->err), "not a DNS name: %.100s",
				 req->names[i]);
			return -EINVAL;
		}
	return 0;
}

/* Authorizations, then finalize and download; `key` is the new cert key. */
static int order_run(struct acme_client *c, const struct acme_issue_req *req,
		     const char *url, EVP_PKEY *key, struct acme_issue_result *out)
{
	struct acme_order o;
	struct acme_http_resp r;
	char *finalize = NULL;
	int rc = order_fetch(c, url, "", &o, &r);

	if (rc)
		return rc;
	acme_http_resp_free(&r);
	for (size_t i = 0; rc == 0 && i < o.n_authz; i++)
		rc = order_do_authz(c, req, o.authz[i]);
	acme_order_free(&o);
	if (rc || (rc = order_settle(c, url, ACME_ST_READY, &o)))
		return rc;
	finalize = strdup(o.finalize);
	acme_order_free(&o);
	if (!finalize)
		return -ENOMEM;
	rc = order_finalize(c, req, finalize, key);
	free(finalize);
	if (rc || (rc = order_settle(c, url, ACME_ST_VALID, &o)))
		return rc;
	if (!o.certificate) {
		snprintf(c->err, sizeof(c->err), "valid order without a certificate URL");
		rc = -EPROTO;
	} else {
		rc = order_download(c, o.certificate, out);
	}
	acme_order_free(&o);
	return rc;
}

int acme_client_issue(struct acme_client *c, const struct acme_issue_req *req,
		      struct acme_issue_result *out)
{
	EVP_PKEY *key = NULL;
	char *url = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = order_check_req(c, req)) || (rc = acme_client_directory(c)))
		return rc;
	if (!c->kid) {
		snprintf(c->err, sizeof(c->err), "no ACME account");
		return -EINVAL;
	}
	if (!(key = acme_pkey_generate(req->key_type))) {
		snprintf(c->err, sizeof(c->err), "cannot generate a %s key",
			 acme_key_type_name(req->key_type));
		return -EINVAL;
	}
	if ((rc = order_new(c, req, &url)) == 0)
		rc = order_run(c, req, url, key, out);
	if (rc == 0 && !(out->key_pem = acme_pkey_to_pem(key)))
		rc = -ENOMEM;
	if (rc == 0)
		log_info("certificate issued for %s (%zu names)", req->names[0],
			 req->n_names);
	else
		acme_issue_result_free(out);
	EVP_PKEY_free(key);
	free(url);
	return rc;
}

void acme_issue_result_free(struct acme_issue_result *r)
{
	free(r->cert_pem);
	if (r->key_pem)
		secure_free(r->key_pem, strlen(r->key_pem));
	free(r->cert_url);
	memset(r, 0, sizeof(*r));
}
