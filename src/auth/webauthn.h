/* webauthn.h - passkeys: the WebAuthn Level 2 registration and
 * authentication ceremonies' checks (no store, no state).
 *
 * Every input here is untrusted bytes from a browser: clientDataJSON,
 * authenticatorData, the CBOR attestationObject and the COSE public key
 * inside it. Each parser takes (ptr, len), bounds its input before
 * allocating, and is fuzzed (fuzz/fuzz_webauthn_*.c). Signatures are
 * checked with OpenSSL (ES256 -7, EdDSA -8, RS256 -257); attestation
 * format "none" only (the hub asks for none: it trusts the user who
 * holds a session, not a device make). */
#ifndef POSTERN_AUTH_WEBAUTHN_H
#define POSTERN_AUTH_WEBAUTHN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEBAUTHN_CHALLENGE_LEN 32
#define WEBAUTHN_CLIENT_MAX 4096	/* clientDataJSON bytes */
#define WEBAUTHN_ATT_MAX 8192		/* attestationObject bytes */
#define WEBAUTHN_AUTHDATA_MAX 4096
#define WEBAUTHN_SIG_MAX 1024
#define WEBAUTHN_CRED_ID_MAX 1023	/* the spec's bound */
#define WEBAUTHN_COSE_MAX 1100		/* an RSA-4096 key fits */
#define WEBAUTHN_ORIGIN_MAX 300
#define WEBAUTHN_RPID_HASH 32
#define WEBAUTHN_AD_MIN 37		/* rpIdHash, flags, counter */

enum webauthn_alg {
	WEBAUTHN_ES256 = -7,
	WEBAUTHN_EDDSA = -8,
	WEBAUTHN_RS256 = -257,
};

#define WEBAUTHN_F_UP 0x01	/* user present */
#define WEBAUTHN_F_UV 0x04	/* user verified */
#define WEBAUTHN_F_AT 0x40	/* attested credential data follows */
#define WEBAUTHN_F_ED 0x80	/* extensions follow */

/* clientDataJSON, parsed. */
struct webauthn_client {
	char type[24];				/* "webauthn.create" | ".get" */
	uint8_t challenge[64];
	size_t challenge_len;
	char origin[WEBAUTHN_ORIGIN_MAX + 1];
	bool cross_origin;
};

/* Parses clientDataJSON (at most WEBAUTHN_CLIENT_MAX bytes, a JSON
 * object with string "type", base64url "challenge", string "origin",
 * optional boolean "crossOrigin"). Returns 0 or -1. */
int webauthn_client_parse(const uint8_t *p, size_t n, struct webauthn_client *out);

/* authenticatorData, parsed: views into the caller's bytes. */
struct webauthn_authdata {
	const uint8_t *rp_id_hash;	/* 32 bytes */
	uint8_t flags;
	uint32_t counter;
	const uint8_t *cred_id;		/* with WEBAUTHN_F_AT */
	size_t cred_id_len;
	const uint8_t *cose;		/* the credential's COSE key */
	size_t cose_len;
};

/* Parses authenticatorData: 37 bytes, then (flag AT) the AAGUID, a
 * credential ID and one CBOR COSE key, then (flag ED) one CBOR map of
 * extensions, then nothing. Returns 0 or -1. */
int webauthn_authdata_parse(const uint8_t *p, size_t n, struct webauthn_authdata *out);

/* The authenticatorData inside an attestationObject (CBOR map of "fmt",
 * "attStmt", "authData"; fmt must be "none" with an empty attStmt),
 * copied into ad (cap bytes). Returns 0 with *adlen set, or -1. */
int webauthn_attestation_parse(const uint8_t *p, size_t n, uint8_t *ad, size_t cap,
			       size_t *adlen);

/* The length of the one CBOR item at the start of p (definite lengths,
 * nesting bounded, no tags or floats, nothing longer than the input),
 * or 0 when there is none. */
size_t webauthn_cbor_item_len(const uint8_t *p, size_t n);

/* Checks a COSE_Key (CBOR map, exactly `n` bytes) for an algorithm the
 * hub takes and a key it can use (P-256 point on the curve, Ed25519,
 * RSA of 2048..4096 bits). Returns the algorithm or 0. */
int webauthn_cose_check(const uint8_t *p, size_t n);

/* Verifies `sig` over msg with the COSE key (checked as above).
 * Returns 0 or -1. */
int webauthn_cose_verify(const uint8_t *cose, size_t cose_len, const uint8_t *msg,
			 size_t mlen, const uint8_t *sig, size_t slen);

/* What the hub expects of a ceremony. */
struct webauthn_expect {
	const char *type;		/* "webauthn.create" or "webauthn.get" */
	const char *origin;		/* "https://hub.example[:port]" */
	const char *rp_id;		/* "hub.example" */
	bool require_uv;
};

/* A registered credential, out of a registration ceremony: views into
 * the attestationObject's bytes. */
struct webauthn_cred {
	uint8_t ad[WEBAUTHN_AUTHDATA_MAX];	/* the views below point here */
	const uint8_t *id;
	size_t id_len;
	const uint8_t *cose;
	size_t cose_len;
	int alg;
	uint32_t counter;
	uint8_t flags;
};

/* Registration: clientDataJSON (type, origin, not cross-origin; its
 * challenge into cd->challenge for the caller to spend), then the
 * attestationObject: fmt none, RP ID hash, UP (and UV when asked), an
 * attested credential with a key webauthn_cose_check takes. Returns 0
 * with *cred set, or -1. The caller must still check that the challenge
 * is one it issued (single use) to this user. */
int webauthn_register_check(const struct webauthn_expect *e, const uint8_t *cdj, size_t cdj_len,
			    struct webauthn_client *cd, const uint8_t *att, size_t att_len,
			    struct webauthn_cred *cred);

/* Authentication: clientDataJSON as above, authenticatorData (RP ID
 * hash, UP, UV when asked), the signature by the stored COSE key over
 * authenticatorData || SHA-256(clientDataJSON), and the counter: when
 * either the stored or the new one is non-zero, the new one must be
 * larger (a clone or a replay otherwise). Returns 0 with *counter and
 * *flags set, or -1. The challenge is the caller's to spend. */
int webauthn_assert_check(const struct webauthn_expect *e, const uint8_t *cdj, size_t cdj_len,
			  struct webauthn_client *cd, const uint8_t *ad, size_t ad_len,
			  const uint8_t *sig, size_t sig_len, const uint8_t *cose, size_t cose_len,
			  uint32_t stored, uint32_t *counter, uint8_t *flags);

#endif
