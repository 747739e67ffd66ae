/* ocsp_fetch.c - asking the responders, on the control thread (core/http_client).
 */
#define LOG_SUBSYS "tls"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "core/buf.h"
#include "core/compiler.h"
#include "core/http_client.h"
#include "core/log.h"
#include "tls/internal.h"
#include "tls/ocsp.h"

/* POSTs a DER request to `url` (RFC 6960 appendix A.1) through
 * core/http_client. On success returns 0 with the answer in `out` (the
 * caller frees it with http_client_resp_free); -1 with err otherwise. */
static int fetch_post(const char *url, const uint8_t *req, size_t req_len,
		      struct http_client_resp *out, char *err, size_t errlen)
{
	static const char *const hdrs[] = {
		"Content-Type: application/ocsp-request", NULL
	};
	struct http_client_req r = { .method = "POST", .url = url, .headers = hdrs,
				     .body = req, .body_len = req_len };
	struct http_client h;
	char why[256];
	int rc;

	if (http_client_init(&h, NULL, TLS_OCSP_TIMEOUT_S * 1000L,
			     TLS_OCSP_RESP_MAX) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = http_client_do(&h, &r, out, why, sizeof(why));
	http_client_free(&h);
	if (rc < 0 || out->status != 200) {
		snprintf(err, errlen, "%.200s: %.200s", url,
			 rc < 0 ? why : "HTTP status not 200");
		if (rc == 0)
			http_client_resp_free(out);
		return -1;
	}
	return 0;
}

/* The DER request for one certificate (no nonce: many responders, Let's
 * Encrypt's among them, answer from a cache and ignore it). */
static int fetch_request(struct tls_cert *c, uint8_t **der)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, c->leaf, c->issuer);
	int n = -1;

	if (req && id && OCSP_request_add0_id(req, id)) {
		id = NULL;	/* now the request's */
		*der = NULL;
		n = i2d_OCSP_REQUEST(req, der);
	}
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	return n;
}

/* Fetches and installs one certificate's staple. Returns 0 or -1. */
static int fetch_one(struct tls_cert *c, time_t now, char *err, size_t errlen)
{
	uint8_t *req = NULL;
	int req_len = fetch_request(c, &req), ret = -1;
	struct http_client_resp resp;

	if (req_len <= 0) {
		snprintf(err, errlen, "cannot encode the request");
		return -1;
	}
	if (fetch_post(c->ocsp_url, req, (size_t)req_len, &resp, err,
		       errlen) == 0) {
		ret = tls_ocsp_staple_set(c, buf_head(&resp.body), resp.body.len,
					  now, err, errlen);
		http_client_resp_free(&resp);
	}
	OPENSSL_free(req);
	return ret;
}

/* Refreshes one certificate if due. Returns seconds until it is due next,
 * and sets *valid when it has a current staple afterwards. */
static uint64_t fetch_cert(struct tls_cert *c, time_t now, bool *valid)
{
	struct tls_staple *s = &c->staple;
	char err[512];
	time_t at;

	pthread_mutex_lock(&s->lock);
	at = s->refresh_at;
	pthread_mutex_unlock(&s->lock);
	if (at <= now && fetch_one(c, now, err, sizeof(err)) < 0) {
		log_warn("OCSP for %s: %s", c->names[0], err);
		pthread_mutex_lock(&s->lock);
		s->refresh_at = now + TLS_OCSP_RETRY_S;
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_lock(&s->lock);
	at = s->refresh_at;
	*valid = s->der && s->expires > now;
	pthread_mutex_unlock(&s->lock);
	return at > now ? (uint64_t)(at - now) : 1;
}

int tls_ocsp_refresh(struct tls_server *srv, uint64_t *next_s)
{
	struct tls_certset *set = tls_server_certset_get(srv);
	time_t now = time(NULL);
	uint64_t next = TLS_OCSP_DEFAULT_S;
	int missing = 0;

	for (size_t i = 0; set && srv->opts.ocsp_stapling && i < set->n; i++) {
		struct tls_cert *c = set->certs[i];
		bool valid = false;

		if (!c->ocsp_url)
			continue;
		if (!c->issuer) {
			missing++;	/* the chain lacks the issuer */
			continue;
		}
		next = MIN(next, fetch_cert(c, now, &valid));
		missing += !valid;
	}
	tls_certset_put(set);
	*next_s = next ? next : 1;
	return missing;
}
