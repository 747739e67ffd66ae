/* aws_sigv4.c - canonical request, string to sign, HMAC key chain. */
#include "acme/aws_sigv4.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/enc.h"
#include "core/secure.h"

#define SIGV4_QUERY_MAX 2048

static void sha256_hex(const void *p, size_t n, char out[HEX_LEN(32)])
{
	uint8_t h[32];

	SHA256(p, n, h);
	hex_encode(out, h, sizeof(h));
}

static void hmac(const void *key, size_t klen, const char *msg, uint8_t out[32])
{
	unsigned len = 32;

	HMAC(EVP_sha256(), key, (int)klen, (const uint8_t *)msg, strlen(msg), out,
	     &len);
}

static bool unreserved(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

/* URI-encodes `s[0..n)` (RFC 3986 unreserved kept) onto out. */
static int enc(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (*o + 4 > cap)
			return -EINVAL;
		if (unreserved(s[i]))
			out[(*o)++] = s[i];
		else
			*o += (size_t)snprintf(out + *o, 4, "%%%02X", (uint8_t)s[i]);
	}
	out[*o] = 0;
	return 0;
}

struct qparam {
	const char *k, *v;
	size_t kl, vl;
};

static int qcmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	size_t n = x->kl < y->kl ? x->kl : y->kl;
	int c = memcmp(x->k, y->k, n);

	return c ? c : (x->kl > y->kl) - (x->kl < y->kl);
}

/* Sorted, re-encoded query string (s3 of the SigV4 canonical request). */
static int canon_query(const char *q, char *out, size_t cap)
{
	struct qparam ps[32];
	size_t n = 0, o = 0;

	out[0] = 0;
	while (q && *q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);
		const char *eq = memchr(q, '=', (size_t)(end - q));

		if (n == 32)
			return -EINVAL;
		ps[n].k = q;
		ps[n].kl = (size_t)((eq ? eq : end) - q);
		ps[n].v = eq ? eq + 1 : end;
		ps[n].vl = (size_t)(end - ps[n].v);
		n++;
		q = amp ? amp + 1 : end;
	}
	qsort(ps, n, sizeof(ps[0]), qcmp);
	for (size_t i = 0; i < n; i++) {
		if (o + 2 > cap)
			return -EINVAL;
		if (i)
			out[o++] = '&';
		if (enc(out, cap, &o, ps[i].k, ps[i].kl) || o + 2 > cap)
			return -EINVAL;
		out[o++] = '=';
		if (enc(out, cap, &o, ps[i].v, ps[i].vl))
			return -EINVAL;
	}
	return 0;
}

/* Splits scheme://authority/path?query. */
static int split_url(const char *url, char *host, size_t hcap, char *path,
		     size_t pcap, const char **query)
{
	const char *a = strstr(url, "://"), *slash, *qm;

	if (!a)
		return -EINVAL;
	a += 3;
	slash = strchr(a, '/');
	if (!slash || (size_t)(slash - a) >= hcap)
		return -EINVAL;
	snprintf(host, hcap, "%.*s", (int)(slash - a), a);
	qm = strchr(slash, '?');
	if ((size_t)((qm ? qm : slash + strlen(slash)) - slash) >= pcap)
		return -EINVAL;
	snprintf(path, pcap, "%.*s", (int)((qm ? qm : slash + strlen(slash)) - slash),
		 slash);
	*query = qm ? qm + 1 : NULL;
	return 0;
}

static void signing_key(const struct aws_sigv4_key *k, const char *day,
			uint8_t key[32])
{
	char *secret;
	size_t n = strlen(k->secret_access_key) + 5;

	secret = malloc(n);
	if (!secret) {
		memset(key, 0, 32);
		return;
	}
	snprintf(secret, n, "AWS4%s", k->secret_access_key);
	hmac(secret, n - 1, day, key);
	secure_free(secret, n);
	hmac(key, 32, k->region, key);
	hmac(key, 32, k->service, key);
	hmac(key, 32, "aws4_request", key);
}

int aws_sigv4_sign(const struct aws_sigv4_key *k, const char *method,
		   const char *url, const void *body, size_t body_len,
		   time_t now, struct aws_sigv4_out *out)
{
	char host[256], path[1024], query[SIGV4_QUERY_MAX], amzdate[17], day[9];
	char payload_hash[HEX_LEN(32)], creq_hash[HEX_LEN(32)], sig[HEX_LEN(32)];
	char *creq = NULL, *sts = NULL;
	const char *q, *signed_hdrs;
	uint8_t key[32], mac[32];
	struct tm tm;
	int rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (split_url(url, host, sizeof(host), path, sizeof(path), &q) ||
	    canon_query(q, query, sizeof(query)) ||
	    (k->session_token && strlen(k->session_token) > 2048))
		return -EINVAL;
	gmtime_r(&now, &tm);
	strftime(amzdate, sizeof(amzdate), "%Y%m%dT%H%M%SZ", &tm);
	memcpy(day, amzdate, 8);
	day[8] = 0;
	sha256_hex(body ? body : "", body ? body_len : 0, payload_hash);
	signed_hdrs = k->session_token ? "host;x-amz-date;x-amz-security-token"
				       : "host;x-amz-date";
	if (asprintf(&creq, "%s\n%s\n%s\nhost:%s\nx-amz-date:%s\n%s%s%s\n%s\n%s",
		     method, path, query, host, amzdate,
		     k->session_token ? "x-amz-security-token:" : "",
		     k->session_token ? k->session_token : "",
		     k->session_token ? "\n" : "", signed_hdrs, payload_hash) < 0)
		return -ENOMEM;
	sha256_hex(creq, strlen(creq), creq_hash);
	if (asprintf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
		     amzdate, day, k->region, k->service, creq_hash) < 0) {
		sts = NULL;
		rc = -ENOMEM;
		goto out;
	}
	signing_key(k, day, key);
	hmac(key, sizeof(key), sts, mac);
	secure_wipe(key, sizeof(key));
	hex_encode(sig, mac, sizeof(mac));
	snprintf(out->host, sizeof(out->host), "Host: %s", host);
	snprintf(out->date, sizeof(out->date), "X-Amz-Date: %s", amzdate);
	if (k->session_token)
		snprintf(out->token, sizeof(out->token), "X-Amz-Security-Token: %s",
			 k->session_token);
	snprintf(out->auth, sizeof(out->auth),
		 "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, "
		 "SignedHeaders=%s, Signature=%s",
		 k->access_key_id, day, k->region, k->service, signed_hdrs, sig);
	rc = 0;
out:
	free(creq);
	free(sts);
	return rc;
}
