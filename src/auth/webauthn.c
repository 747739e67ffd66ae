/* webauthn.c - the checks of the registration and authentication
 * ceremonies (WebAuthn Level 2, sections 7.1 and 7.2) that need no
 * store: the caller spends the challenge and looks up the credential. */
#include "auth/webauthn.h"

#include <string.h>

#include <openssl/evp.h>

/* Steps shared by both ceremonies: clientDataJSON's type, origin (the
 * hub's exact https origin), not cross-origin; then the RP ID hash and
 * the flags of authenticatorData. */
static int webauthn_common(const struct webauthn_expect *e, const uint8_t *cdj, size_t cdj_len,
			   struct webauthn_client *cd, const struct webauthn_authdata *ad)
{
	uint8_t h[WEBAUTHN_RPID_HASH];

	if (webauthn_client_parse(cdj, cdj_len, cd) < 0 || strcmp(cd->type, e->type) ||
	    strcmp(cd->origin, e->origin) || cd->cross_origin ||
	    cd->challenge_len != WEBAUTHN_CHALLENGE_LEN)
		return -1;
	if (!EVP_Digest(e->rp_id, strlen(e->rp_id), h, NULL, EVP_sha256(), NULL) ||
	    memcmp(h, ad->rp_id_hash, sizeof(h)))
		return -1;
	if (!(ad->flags & WEBAUTHN_F_UP) || (e->require_uv && !(ad->flags & WEBAUTHN_F_UV)))
		return -1;
	return 0;
}

int webauthn_register_check(const struct webauthn_expect *e, const uint8_t *cdj, size_t cdj_len,
			    struct webauthn_client *cd, const uint8_t *att, size_t att_len,
			    struct webauthn_cred *cred)
{
	struct webauthn_authdata ad;
	size_t adlen = 0;

	memset(cred, 0, sizeof(*cred));
	if (webauthn_attestation_parse(att, att_len, cred->ad, sizeof(cred->ad), &adlen) < 0 ||
	    webauthn_authdata_parse(cred->ad, adlen, &ad) < 0 || !(ad.flags & WEBAUTHN_F_AT) ||
	    webauthn_common(e, cdj, cdj_len, cd, &ad) < 0)
		return -1;
	cred->alg = webauthn_cose_check(ad.cose, ad.cose_len);
	if (!cred->alg)
		return -1;
	cred->id = ad.cred_id;
	cred->id_len = ad.cred_id_len;
	cred->cose = ad.cose;
	cred->cose_len = ad.cose_len;
	cred->counter = ad.counter;
	cred->flags = ad.flags;
	return 0;
}

int webauthn_assert_check(const struct webauthn_expect *e, const uint8_t *cdj, size_t cdj_len,
			  struct webauthn_client *cd, const uint8_t *ad, size_t ad_len,
			  const uint8_t *sig, size_t sig_len, const uint8_t *cose, size_t cose_len,
			  uint32_t stored, uint32_t *counter, uint8_t *flags)
{
	uint8_t msg[WEBAUTHN_AUTHDATA_MAX + 32];
	struct webauthn_authdata a;

	if (webauthn_authdata_parse(ad, ad_len, &a) < 0 || (a.flags & WEBAUTHN_F_AT) ||
	    webauthn_common(e, cdj, cdj_len, cd, &a) < 0)
		return -1;
	memcpy(msg, ad, ad_len);
	if (!EVP_Digest(cdj, cdj_len, msg + ad_len, NULL, EVP_sha256(), NULL) ||
	    webauthn_cose_verify(cose, cose_len, msg, ad_len + 32, sig, sig_len) < 0)
		return -1;
	/* A counter that did not grow: a cloned authenticator or a replay. */
	if ((stored || a.counter) && a.counter <= stored)
		return -1;
	*counter = a.counter;
	*flags = a.flags;
	return 0;
}
