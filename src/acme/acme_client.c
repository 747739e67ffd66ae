/* acme_client.c - directory, nonces, signed requests, problem documents,
 * account, revocation and renewalInfo. The order flow is acme_order.c. */
#define LOG_SUBSYS "acme"
#include "acme/acme_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "acme/acme_cert.h"
#include "acme/acme_client_int.h"
#include "core/log.h"

#define EBADNONCE_INTERNAL 1000	/* private: retry with a fresh nonce */

int acme_client_init(struct acme_client *c, const struct acme_client_cfg *cfg,
		     struct acme_key *key)
{
	int rc;

	memset(c, 0, sizeof(*c));
	rc = acme_http_init(&c->http, cfg->ca_file, cfg->request_timeout_ms);
	if (rc)
		return rc;
	c->directory_url = strdup(cfg->directory_url);
	if (!c->directory_url) {
		acme_http_free(&c->http);
		return -ENOMEM;
	}
	c->poll_timeout_s = cfg->poll_timeout_s ? cfg->poll_timeout_s : 300;
	c->key = key;
	atomic_init(&c->cancel, false);
	return 0;
}

void acme_client_free(struct acme_client *c)
{
	acme_http_free(&c->http);
	acme_directory_free(&c->dir);
	acme_problem_free(&c->problem);
	free(c->directory_url);
	free(c->kid);
	free(c->nonce);
	memset(c, 0, sizeof(*c));
}

void acme_client_cancel(struct acme_client *c)
{
	atomic_store(&c->cancel, true);
}

int acme_client_sleep(struct acme_client *c, uint64_t secs)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	for (uint64_t i = 0; i < secs * 10; i++) {
		if (atomic_load(&c->cancel))
			break;
		nanosleep(&ts, NULL);
	}
	if (atomic_load(&c->cancel)) {
		snprintf(c->err, sizeof(c->err), "cancelled");
		return -ECANCELED;
	}
	return 0;
}

/* Plain GET/HEAD (directory, newNonce). */
static int client_get(struct acme_client *c, const char *method,
		      const char *url, struct acme_http_resp *r)
{
	struct acme_http_req req = { .method = method, .url = url };
	int rc = acme_http_do(&c->http, &req, r, c->err, sizeof(c->err));

	if (rc)
		return rc;
	if (r->status >= 300) {
		long st = r->status;

		snprintf(c->err, sizeof(c->err), "%s %s: HTTP %ld", method, url,
			 st);
		c->retry_after_s = r->has_retry_after ? r->retry_after_s : 0;
		acme_http_resp_free(r);
		return st == 503 || st == 429 ? -EAGAIN : -EPROTO;
	}
	return 0;
}

int acme_client_directory(struct acme_client *c)
{
	struct acme_http_resp r;
	int rc;

	if (c->have_dir)
		return 0;
	rc = client_get(c, "GET", c->directory_url, &r);
	if (rc)
		return rc;
	rc = acme_directory_parse((const char *)buf_head(&r.body), r.body.len,
				  &c->dir);
	acme_http_resp_free(&r);
	if (rc) {
		acme_directory_free(&c->dir);
		snprintf(c->err, sizeof(c->err), "%s: not an ACME directory",
			 c->directory_url);
		return -EINVAL;
	}
	c->have_dir = true;
	return 0;
}

static int client_new_nonce(struct acme_client *c)
{
	struct acme_http_resp r;
	int rc = client_get(c, "HEAD", c->dir.new_nonce, &r);

	if (rc)
		return rc;
	free(c->nonce);
	c->nonce = r.nonce;
	r.nonce = NULL;
	acme_http_resp_free(&r);
	if (!c->nonce) {
		snprintf(c->err, sizeof(c->err), "newNonce gave no Replay-Nonce");
		return -EPROTO;
	}
	return 0;
}

/* Turns an error answer into a code and a message; keeps the problem. */
static int client_problem(struct acme_client *c, const char *url,
			  struct acme_http_resp *r)
{
	struct acme_problem *pr = &c->problem;
	const char *type;

	acme_problem_free(pr);
	c->retry_after_s = r->has_retry_after ? r->retry_after_s : 0;
	if (acme_problem_parse((const char *)buf_head(&r->body), r->body.len,
			       pr)) {
		acme_problem_free(pr);
		snprintf(c->err, sizeof(c->err), "%s: HTTP %ld", url, r->status);
		return r->status == 503 || r->status == 429 ? -EAGAIN : -EPROTO;
	}
	if (acme_problem_is(pr, "badNonce"))
		return -EBADNONCE_INTERNAL;
	type = strrchr(pr->type, ':') ? strrchr(pr->type, ':') + 1 : pr->type;
	snprintf(c->err, sizeof(c->err), "CA refused (%s, HTTP %ld): %s%s%s",
		 type, r->status, pr->detail ? pr->detail : "",
		 pr->sub ? "; " : "", pr->sub ? pr->sub : "");
	if (acme_problem_is(pr, "rateLimited") || r->status == 503)
		return -EAGAIN;
	return -EPROTO;
}

int acme_client_post(struct acme_client *c, const char *url, const char *payload,
		bool use_jwk, const char *accept, struct acme_http_resp *r)
{
	const char *hdrs[] = { "Content-Type: application/jose+json", accept,
			       NULL };
	int rc;

	for (unsigned attempt = 0;; attempt++) {
		if (!c->nonce && (rc = client_new_nonce(c)))
			return rc;
		char *jws = acme_jws_sign(c->key, use_jwk ? NULL : c->kid,
					  c->nonce, url, payload);
		free(c->nonce);
		c->nonce = NULL;
		if (!jws) {
			snprintf(c->err, sizeof(c->err), "cannot sign request");
			return -EINVAL;
		}
		struct acme_http_req req = { .method = "POST", .url = url,
					     .headers = hdrs, .body = jws,
					     .body_len = strlen(jws) };
		rc = acme_http_do(&c->http, &req, r, c->err, sizeof(c->err));
		free(jws);
		if (rc)
			return rc;
		c->nonce = r->nonce;	/* the next request's nonce */
		r->nonce = NULL;
		if (r->status < 400)
			return 0;
		rc = client_problem(c, url, r);
		acme_http_resp_free(r);
		if (rc != -EBADNONCE_INTERNAL)
			return rc;
		c->bad_nonces++;
		log_info("badNonce from %s; retrying with a fresh nonce", url);
		if (attempt + 1 >= ACME_BADNONCE_RETRIES) {
			snprintf(c->err, sizeof(c->err),
				 "CA rejected %u nonces in a row", attempt + 1);
			return -EPROTO;
		}
	}
}

/* Builds the newAccount payload; NULL on failure. */
static char *account_payload(struct acme_client *c,
			     const struct acme_account_req *r)
{
	json_t *o = json_object(), *ct = json_array();
	char *s = NULL, *eab = NULL;

	for (const char *const *p = r->contact; p && *p; p++)
		json_array_append_new(ct, json_string(*p));
	json_object_set_new(o, "contact", ct);
	json_object_set_new(o, "termsOfServiceAgreed", json_boolean(r->agree_tos));
	if (r->eab_kid) {
		eab = acme_jws_eab(c->key, r->eab_kid, r->eab_mac,
				   c->dir.new_account);
		if (!eab)
			goto out;
		json_object_set_new(o, "externalAccountBinding",
				    json_loads(eab, 0, NULL));
	}
	s = json_dumps(o, JSON_COMPACT);
out:
	free(eab);
	json_decref(o);
	return s;
}

int acme_client_account(struct acme_client *c, const struct acme_account_req *r)
{
	struct acme_http_resp resp;
	struct acme_account acct;
	char *payload;
	int rc = acme_client_directory(c);

	if (rc)
		return rc;
	if (c->dir.eab_required && !r->eab_kid) {
		snprintf(c->err, sizeof(c->err),
			 "the CA requires External Account Binding (eab_kid, eab_hmac_key)");
		return -EINVAL;
	}
	payload = account_payload(c, r);
	if (!payload) {
		snprintf(c->err, sizeof(c->err), "bad EAB MAC key encoding (want base64url)");
		return -EINVAL;
	}
	rc = acme_client_post(c, c->dir.new_account, payload, true, NULL, &resp);
	free(payload);
	if (rc)
		return rc;
	rc = acme_account_parse((const char *)buf_head(&resp.body),
				resp.body.len, &acct);
	if (rc || !resp.location || acct.status != ACME_ST_VALID) {
		snprintf(c->err, sizeof(c->err), "account not usable (status %s)",
			 rc ? "unparsable" : acme_status_name(acct.status));
		rc = -EPROTO;
	} else {
		free(c->kid);
		c->kid = resp.location;
		resp.location = NULL;
		/* RFC 8555 s7.3: 201 for a new account, 200 for this key's
		 * existing one (the tests tell a reused key by this). */
		log_info("ACME account %s (%s)", c->kid,
			 resp.status == 201 ? "created" : "existing");
	}
	acme_account_free(&acct);
	acme_http_resp_free(&resp);
	return rc;
}

int acme_client_deactivate_account(struct acme_client *c)
{
	struct acme_http_resp r;
	int rc;

	if (!c->kid)
		return -EINVAL;
	rc = acme_client_post(c, c->kid, "{\"status\":\"deactivated\"}", false, NULL,
			 &r);
	if (rc == 0)
		acme_http_resp_free(&r);
	return rc;
}

int acme_client_revoke(struct acme_client *c, const char *cert_pem, int reason)
{
	struct acme_http_resp r;
	char *der64 = acme_cert_der_b64url(cert_pem), *payload = NULL;
	int rc = -EINVAL;

	if (!der64) {
		snprintf(c->err, sizeof(c->err), "not a PEM certificate");
		return -EINVAL;
	}
	if ((rc = acme_client_directory(c)))
		goto out;
	if (!c->dir.revoke_cert || !c->kid) {
		snprintf(c->err, sizeof(c->err), "no revokeCert or no account");
		rc = -EINVAL;
		goto out;
	}
	if (asprintf(&payload, "{\"certificate\":\"%s\",\"reason\":%d}", der64,
		     reason) < 0) {
		payload = NULL;
		rc = -ENOMEM;
		goto out;
	}
	rc = acme_client_post(c, c->dir.revoke_cert, payload, false, NULL, &r);
	if (rc == 0)
		acme_http_resp_free(&r);
out:
	free(der64);
	free(payload);
	return rc;
}

int acme_client_renewal_info(struct acme_client *c, const char *cert_id,
			     struct acme_renewal_info *ri)
{
	struct acme_http_resp r;
	char *url;
	int rc = acme_client_directory(c);

	if (rc)
		return rc;
	if (!c->dir.renewal_info) {
		snprintf(c->err, sizeof(c->err), "the CA offers no renewalInfo");
		return -ENOTSUP;
	}
	if (asprintf(&url, "%s%s%s", c->dir.renewal_info,
		     c->dir.renewal_info[strlen(c->dir.renewal_info) - 1] == '/'
			     ? "" : "/", cert_id) < 0)
		return -ENOMEM;
	rc = client_get(c, "GET", url, &r);
	free(url);
	if (rc)
		return rc;
	c->retry_after_s = r.has_retry_after ? r.retry_after_s : 0;
	rc = acme_renewal_info_parse((const char *)buf_head(&r.body), r.body.len,
				     ri);
	acme_http_resp_free(&r);
	if (rc) {
		acme_renewal_info_free(ri);
		snprintf(c->err, sizeof(c->err), "malformed renewalInfo");
		return -EINVAL;
	}
	return 0;
}
