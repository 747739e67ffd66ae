/* webauthn_parse.c - the WebAuthn byte formats a browser sends
 * (webauthn.h): clientDataJSON, authenticatorData and the CBOR
 * attestationObject. Untrusted input throughout; fuzzed. */
#include "auth/webauthn.h"

#include <string.h>

#include <cbor.h>
#include <jansson.h>

#include "core/enc.h"

#define WEBAUTHN_CBOR_DEPTH 4	/* COSE keys and attestation: 2 levels */

/* The argument of the CBOR head at p[*off] (major type into *major).
 * Returns 0 or -1 (short input, reserved or indefinite length). */
static int webauthn_cbor_head(const uint8_t *p, size_t n, size_t *off, int *major,
			      uint64_t *arg)
{
	uint8_t ib, info;
	size_t k;

	if (*off >= n)
		return -1;
	ib = p[(*off)++];
	*major = ib >> 5;
	info = ib & 31;
	if (info < 24) {
		*arg = info;
		return 0;
	}
	if (info > 27)		/* reserved, or indefinite: CTAP2 never sends it */
		return -1;
	k = (size_t)1 << (info - 24);
	if (n - *off < k)
		return -1;
	*arg = 0;
	for (size_t i = 0; i < k; i++)
		*arg = (*arg << 8) | p[(*off)++];
	return 0;
}

/* Walks one CBOR item at p[*off] with bounds: lengths and counts never
 * beyond the bytes left (so nothing huge is allocated for a small
 * input), nesting at most `depth`, no tags, no floats. Advances *off.
 * Returns 0 or -1. */
static int webauthn_cbor_walk(const uint8_t *p, size_t n, size_t *off, int depth)
{
	int major;
	uint64_t arg;

	if (depth <= 0 || webauthn_cbor_head(p, n, off, &major, &arg) < 0)
		return -1;
	switch (major) {
	case 0: case 1:		/* integers */
		return 0;
	case 2: case 3:		/* byte and text strings */
		if (arg > n - *off)
			return -1;
		*off += (size_t)arg;
		return 0;
	case 4: case 5:		/* arrays and maps */
		if (arg > n - *off)
			return -1;
		for (uint64_t i = 0; i < arg * (major == 5 ? 2 : 1); i++)
			if (webauthn_cbor_walk(p, n, off, depth - 1) < 0)
				return -1;
		return 0;
	case 7:			/* false, true, null only */
		return arg >= 20 && arg <= 22 ? 0 : -1;
	default:		/* tags */
		return -1;
	}
}

/* The length of the one bounded CBOR item at the start of p, or 0. */
static size_t webauthn_cbor_len(const uint8_t *p, size_t n)
{
	size_t off = 0;

	return webauthn_cbor_walk(p, n, &off, WEBAUTHN_CBOR_DEPTH) == 0 ? off : 0;
}

/* A JSON string member `k` of o, exactly (no embedded NUL), into out
 * (cap bytes with the NUL). Returns 0, or -1 when missing or too long. */
static int webauthn_json_str(json_t *o, const char *k, char *out, size_t cap)
{
	json_t *v = json_object_get(o, k);
	const char *s = json_string_value(v);
	size_t len = s ? json_string_length(v) : 0;

	if (!s || len == 0 || len >= cap || strlen(s) != len)
		return -1;
	memcpy(out, s, len + 1);
	return 0;
}

int webauthn_client_parse(const uint8_t *p, size_t n, struct webauthn_client *out)
{
	char ch[100];
	json_t *root, *co;
	long cl;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n > WEBAUTHN_CLIENT_MAX)
		return -1;
	root = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root) ||
	    webauthn_json_str(root, "type", out->type, sizeof(out->type)) < 0 ||
	    webauthn_json_str(root, "challenge", ch, sizeof(ch)) < 0 ||
	    webauthn_json_str(root, "origin", out->origin, sizeof(out->origin)) < 0)
		goto out;
	co = json_object_get(root, "crossOrigin");
	if (co && !json_is_boolean(co))
		goto out;
	out->cross_origin = json_is_true(co);
	cl = enc_b64url_decode(out->challenge, sizeof(out->challenge), ch, strlen(ch));
	if (cl <= 0)
		goto out;
	out->challenge_len = (size_t)cl;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int webauthn_authdata_parse(const uint8_t *p, size_t n, struct webauthn_authdata *out)
{
	size_t off = WEBAUTHN_AD_MIN, k;

	memset(out, 0, sizeof(*out));
	if (n < WEBAUTHN_AD_MIN || n > WEBAUTHN_AUTHDATA_MAX)
		return -1;
	out->rp_id_hash = p;
	out->flags = p[32];
	out->counter = (uint32_t)p[33] << 24 | (uint32_t)p[34] << 16 | (uint32_t)p[35] << 8 | p[36];
	if (out->flags & WEBAUTHN_F_AT) {
		if (n - off < 18)
			return -1;
		off += 16;	/* AAGUID: "none" attestation says nothing with it */
		out->cred_id_len = (size_t)p[off] << 8 | p[off + 1];
		off += 2;
		if (out->cred_id_len == 0 || out->cred_id_len > WEBAUTHN_CRED_ID_MAX ||
		    n - off < out->cred_id_len)
			return -1;
		out->cred_id = p + off;
		off += out->cred_id_len;
		if (!(k = webauthn_cbor_len(p + off, n - off)) || k > WEBAUTHN_COSE_MAX)
			return -1;
		out->cose = p + off;
		out->cose_len = k;
		off += k;
	}
	if (out->flags & WEBAUTHN_F_ED) {
		if (off >= n || (p[off] >> 5) != 5 || !(k = webauthn_cbor_len(p + off, n - off)))
			return -1;
		off += k;
	}
	return off == n ? 0 : -1;
}

/* Whether CBOR text item `t` is exactly `s`. */
static bool webauthn_cbor_is(cbor_item_t *t, const char *s)
{
	size_t n = strlen(s);

	return cbor_isa_string(t) && cbor_string_is_definite(t) &&
	       cbor_string_length(t) == n && !memcmp(cbor_string_handle(t), s, n);
}

int webauthn_attestation_parse(const uint8_t *p, size_t n, uint8_t *ad, size_t cap,
			       size_t *adlen)
{
	struct cbor_load_result res;
	cbor_item_t *root;
	struct cbor_pair *kv;
	bool fmt = false, stmt = false, data = false;
	int rc = -1;

	if (n == 0 || n > WEBAUTHN_ATT_MAX || webauthn_cbor_len(p, n) != n)
		return -1;
	root = cbor_load(p, n, &res);
	if (!root || res.error.code != CBOR_ERR_NONE || res.read != n || !cbor_isa_map(root) ||
	    !cbor_map_is_definite(root) || cbor_map_size(root) != 3)
		goto out;
	kv = cbor_map_handle(root);
	for (size_t i = 0; i < 3; i++) {
		cbor_item_t *v = kv[i].value;
		if (webauthn_cbor_is(kv[i].key, "fmt") && !fmt)
			fmt = webauthn_cbor_is(v, "none");
		else if (webauthn_cbor_is(kv[i].key, "attStmt") && !stmt)
			stmt = cbor_isa_map(v) && cbor_map_size(v) == 0;
		else if (webauthn_cbor_is(kv[i].key, "authData") && !data &&
			 cbor_isa_bytestring(v) && cbor_bytestring_is_definite(v) &&
			 cbor_bytestring_length(v) <= cap) {
			*adlen = cbor_bytestring_length(v);
			memcpy(ad, cbor_bytestring_handle(v), *adlen);
			data = true;
		} else
			goto out;
	}
	rc = fmt && stmt && data ? 0 : -1;
out:
	if (root)
		cbor_decref(&root);
	return rc;
}

size_t webauthn_cbor_item_len(const uint8_t *p, size_t n)
{
	return webauthn_cbor_len(p, n);
}
