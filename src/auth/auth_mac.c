/* auth_mac.c - HMAC-SHA256 under a key kept ready (see auth_mac.h). */
#include "auth/auth_mac.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "core/secure.h"

/* Keys m's context with `key` (a new context). Returns 0 or -1. */
static int auth_mac_key(struct auth_mac *m, const uint8_t key[AUTH_MAC_KEY_LEN])
{
	char digest[] = "SHA256";
	OSSL_PARAM p[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;

	EVP_MAC_free(mac);		/* the context holds its own reference */
	auth_mac_clear(m);
	if (!ctx || !EVP_MAC_init(ctx, key, AUTH_MAC_KEY_LEN, p)) {
		EVP_MAC_CTX_free(ctx);
		return -1;
	}
	m->ctx = ctx;
	memcpy(m->key, key, AUTH_MAC_KEY_LEN);
	return 0;
}

int auth_mac_sha256(struct auth_mac *m, const uint8_t key[AUTH_MAC_KEY_LEN], const void *msg,
		    size_t len, uint8_t out[AUTH_MAC_SHA256_LEN])
{
	struct auth_mac once = AUTH_MAC_INIT;
	struct auth_mac *u = m ? m : &once;
	size_t n = 0;
	int rc = -1;

	/* The key is ours, not the caller's guess: a plain comparison. */
	if ((u->ctx && memcmp(u->key, key, AUTH_MAC_KEY_LEN) == 0) || auth_mac_key(u, key) == 0) {
		if (EVP_MAC_init(u->ctx, NULL, 0, NULL) && EVP_MAC_update(u->ctx, msg, len) &&
		    EVP_MAC_final(u->ctx, out, &n, AUTH_MAC_SHA256_LEN) &&
		    n == AUTH_MAC_SHA256_LEN)
			rc = 0;
	}
	if (rc < 0) {
		memset(out, 0, AUTH_MAC_SHA256_LEN);
		auth_mac_clear(u);	/* a failed context is not reused */
	}
	if (!m)
		auth_mac_clear(&once);
	return rc;
}

void auth_mac_clear(struct auth_mac *m)
{
	EVP_MAC_CTX_free(m->ctx);
	m->ctx = NULL;
	secure_wipe(m->key, sizeof(m->key));
}
