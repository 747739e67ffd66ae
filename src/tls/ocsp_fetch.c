/* ocsp_fetch.c - asking the responders, on the control thread (libcurl).
 */
#define LOG_SUBSYS "tls"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "core/buf.h"
#include "core/compiler.h"
#include "core/log.h"
#include "tls/internal.h"
#include "tls/ocsp.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void fetch_curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t fetch_write(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	/* Over TLS_OCSP_RESP_MAX: a short count aborts the transfer. */
	return buf_append(b, p, size * n) == 0 ? size * n : 0;
}

/* POSTs a DER request to `url` (RFC 6960 appendix A.1). On success returns
 * 0 with the body in `out`; -1 with err otherwise. */
static int fetch_post(const char *url, const uint8_t *req, size_t req_len,
		      struct buf *out, char *err, size_t errlen)
{
	CURL *h;
	struct curl_slist *hdr = NULL;
	CURLcode rc;
	long code = 0;

	pthread_once(&curl_once, fetch_curl_init);
	h = curl_easy_init();
	hdr = curl_slist_append(hdr, "Content-Type: application/ocsp-request");
	if (!h || !hdr) {
		curl_slist_free_all(hdr);
		curl_easy_cleanup(h);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)TLS_OCSP_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)req_len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK || code != 200) {
		snprintf(err, errlen, "%s: %s", url, rc != CURLE_OK ?
			 curl_easy_strerror(rc) : "HTTP status not 200");
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
	struct buf resp;

	if (req_len <= 0) {
		snprintf(err, errlen, "cannot encode the request");
		return -1;
	}
	buf_init(&resp, TLS_OCSP_RESP_MAX);
	if (fetch_post(c->ocsp_url, req, (size_t)req_len, &resp, err,
		       errlen) == 0)
		ret = tls_ocsp_staple_set(c, buf_head(&resp), resp.len, now,
					  err, errlen);
	OPENSSL_free(req);
	buf_free(&resp);
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
