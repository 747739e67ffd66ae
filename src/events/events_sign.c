/* events_sign.c - Standard Webhooks signatures: HMAC-SHA256 over
 * "id.timestamp.body" keyed with the secret's bytes, base64, as "v1,SIG". */
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "core/enc.h"
#include "core/secure.h"
#include "events/events.h"

int events_secret_new(char out[EVENTS_SECRET_LEN])
{
	uint8_t key[EVENTS_SECRET_BYTES];

	if (secure_random(key, sizeof(key)) < 0)
		return -1;
	memcpy(out, EVENTS_SECRET_PREFIX, 6);
	enc_b64std_encode(out + 6, key, sizeof(key));
	secure_wipe(key, sizeof(key));
	return 0;
}

/* HMAC-SHA256(key, a || b) into mac. Returns 0 or -1. */
static int events_hmac(const uint8_t *key, size_t klen, const void *a, size_t alen,
		       const void *b, size_t blen, uint8_t mac[32])
{
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	size_t ml = 0;
	int rc = c && EVP_MAC_init(c, key, klen, params) && EVP_MAC_update(c, a, alen) &&
		 EVP_MAC_update(c, b, blen) && EVP_MAC_final(c, mac, &ml, 32) &&
		 ml == 32 ? 0 : -1;

	EVP_MAC_CTX_free(c);
	EVP_MAC_free(m);
	return rc;
}

int events_sign(const char *whsec, const char *msg_id, int64_t ts,
		const void *body, size_t len, char *out, size_t outlen)
{
	uint8_t key[64], mac[32];
	char head[160], sig[B64_LEN(32)];
	size_t used = strlen(out);
	long klen;
	int hlen, rc = -1;

	if (strncmp(whsec, EVENTS_SECRET_PREFIX, 6))
		return -1;
	klen = enc_b64std_decode(key, sizeof(key), whsec + 6, strlen(whsec + 6));
	hlen = snprintf(head, sizeof(head), "%s.%lld.", msg_id, (long long)ts);
	if (klen > 0 && hlen > 0 && (size_t)hlen < sizeof(head) &&
	    events_hmac(key, (size_t)klen, head, (size_t)hlen, body, len, mac) == 0) {
		enc_b64std_encode(sig, mac, sizeof(mac));
		if (used + 1 + 3 + strlen(sig) + 1 <= outlen) {
			snprintf(out + used, outlen - used, "%sv1,%s", used ? " " : "", sig);
			rc = 0;
		}
	}
	secure_wipe(key, sizeof(key));
	secure_wipe(mac, sizeof(mac));
	return rc;
}
