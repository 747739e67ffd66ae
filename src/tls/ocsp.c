/* ocsp.c - OCSP stapling: fetch (control thread), verify, cache, staple.
 */
#define LOG_SUBSYS "tls"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "core/compiler.h"
#include "core/log.h"
#include "tls/internal.h"
#include "tls/ocsp.h"

#define OCSP_SKEW_S 300		/* clock skew tolerated on thisUpdate */

void tls_staple_init(struct tls_staple *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
}

void tls_staple_destroy(struct tls_staple *s)
{
	free(s->der);
	s->der = NULL;
	pthread_mutex_destroy(&s->lock);
}

size_t tls_ocsp_staple_dup(struct tls_cert *cert, time_t now,
			   unsigned char **out)
{
	struct tls_staple *s = &cert->staple;
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	if (s->der && s->expires > now) {
		*out = OPENSSL_malloc(s->len);
		if (*out) {
			memcpy(*out, s->der, s->len);
			n = s->len;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* OpenSSL's status callback, set on certificates with a responder: staples
 * the cached response, or nothing. Never waits for the network. */
int tls_ocsp_status_cb(SSL *ssl, void *arg)
{
	struct tls_cert *cert = arg;
	unsigned char *der = NULL;
	size_t n = tls_ocsp_staple_dup(cert, time(NULL), &der);

	if (n == 0)
		return SSL_TLSEXT_ERR_NOACK;
	if (!SSL_set_tlsext_status_ocsp_resp(ssl, der, (long)n)) {
		OPENSSL_free(der);
		return SSL_TLSEXT_ERR_NOACK;
	}
	return SSL_TLSEXT_ERR_OK;
}

static time_t ocsp_time(const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/* Checks the responder's signature: the certificate's issuer itself, or a
 * responder certificate it issued for OCSP signing. Returns 1 or 0. */
static int ocsp_verify_sig(struct tls_cert *c, OCSP_BASICRESP *bs)
{
	X509_STORE *st = X509_STORE_new();
	STACK_OF(X509) *certs = sk_X509_new_null();
	int ok;

	/* The issuer is usually an intermediate: trust it as an anchor. */
	ok = st && certs && X509_STORE_add_cert(st, c->issuer) &&
	     X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN) &&
	     sk_X509_push(certs, c->issuer) > 0 &&
	     OCSP_basic_verify(bs, certs, st, 0) > 0;
	sk_X509_free(certs);
	X509_STORE_free(st);
	return ok;
}

/* Verifies a response about `c`; fills the times. Returns 0 or -1. */
static int ocsp_check(struct tls_cert *c, OCSP_RESPONSE *resp, time_t now,
		      time_t *this_upd, time_t *expires, char *err,
		      size_t errlen)
{
	OCSP_BASICRESP *bs = NULL;
	OCSP_CERTID *id = NULL;
	ASN1_GENERALIZEDTIME *thisupd = NULL, *nextupd = NULL;
	int status = -1, reason, ret = -1;

	if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(err, errlen, "responder said: %s",
			 OCSP_response_status_str(OCSP_response_status(resp)));
		return -1;
	}
	bs = OCSP_response_get1_basic(resp);
	id = OCSP_cert_to_id(NULL, c->leaf, c->issuer);
	if (!bs || !id)
		tls_err(err, errlen, "unreadable basic response");
	else if (!ocsp_verify_sig(c, bs))
		tls_err(err, errlen, "signature not from the issuer");
	else if (!OCSP_resp_find_status(bs, id, &status, &reason, NULL,
					&thisupd, &nextupd) ||
		 status == V_OCSP_CERTSTATUS_UNKNOWN)
		tls_err(err, errlen, "no status for this certificate");
	else if (!OCSP_check_validity(thisupd, nextupd, OCSP_SKEW_S, -1))
		tls_err(err, errlen, "response not current");
	else
		ret = 0;
	if (ret == 0) {
		*this_upd = ocsp_time(thisupd);
		*expires = nextupd ? ocsp_time(nextupd) :
			   now + TLS_OCSP_DEFAULT_S;
		if (status == V_OCSP_CERTSTATUS_REVOKED)
			log_err("OCSP: certificate for %s is REVOKED",
				c->names[0]);
	}
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	return ret;
}

int tls_ocsp_staple_set(struct tls_cert *cert, const uint8_t *der, size_t len,
			time_t now, char *err, size_t errlen)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp;
	time_t this_upd = 0, expires = 0;
	unsigned char *copy;
	struct tls_staple *s = &cert->staple;

	if (!cert->issuer) {
		snprintf(err, errlen, "the chain has no issuer certificate");
		return -1;
	}
	if (len == 0 || len > TLS_OCSP_RESP_MAX) {
		snprintf(err, errlen, "response size %zu out of bounds", len);
		return -1;
	}
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (!resp || p != der + len) {
		OCSP_RESPONSE_free(resp);
		return tls_err(err, errlen, "not a DER OCSP response");
	}
	if (ocsp_check(cert, resp, now, &this_upd, &expires, err,
		       errlen) < 0) {
		OCSP_RESPONSE_free(resp);
		return -1;
	}
	OCSP_RESPONSE_free(resp);
	copy = malloc(len);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(copy, der, len);
	pthread_mutex_lock(&s->lock);
	free(s->der);
	s->der = copy;
	s->len = len;
	s->expires = expires;
	/* Fetch again halfway through the validity, at least a minute on. */
	s->refresh_at = MAX(this_upd + (expires - this_upd) / 2, now + 60);
	pthread_mutex_unlock(&s->lock);
	return 0;
}
