/* The passkey parsers' refusals (auth/webauthn.h) on hand-made bytes:
 * the bounded CBOR walk, authenticatorData's framing, COSE keys the hub
 * must not take, clientDataJSON. The accepting paths and the signatures
 * are driven end to end by tests/integration/test_auth_passkey.py. */
#include <string.h>

#include "unit.h"

#include "auth/webauthn.h"

#define B(...) ((const uint8_t[]){ __VA_ARGS__ })
#define LEN(...) sizeof((const uint8_t[]){ __VA_ARGS__ })
#define WALK(...) webauthn_cbor_item_len(B(__VA_ARGS__), LEN(__VA_ARGS__))

TEST(cbor_walk_is_bounded)
{
	CHECK_EQ_INT(WALK(0x01), 1);
	CHECK_EQ_INT(WALK(0x38, 0x18, 0xff), 2);		/* -25, then a stray byte */
	CHECK_EQ_INT(WALK(0x82, 0x01, 0x62, 'h', 'i'), 5);
	CHECK_EQ_INT(WALK(0x81, 0x81, 0x81, 0x81, 0x01), 0);	/* nesting 5 > 4 */
	CHECK_EQ_INT(WALK(0x81, 0x81, 0x81, 0x01), 4);		/* nesting 4 */
	CHECK_EQ_INT(WALK(0x9f, 0x01, 0xff), 0);		/* indefinite array */
	CHECK_EQ_INT(WALK(0x5f, 0x41, 0x00, 0xff), 0);		/* indefinite bytes */
	CHECK_EQ_INT(WALK(0xc0, 0x01), 0);			/* a tag */
	CHECK_EQ_INT(WALK(0xfa, 0, 0, 0, 0), 0);		/* a float */
	CHECK_EQ_INT(WALK(0x85, 0x01, 0x01), 0);		/* 5 items, 2 bytes */
	CHECK_EQ_INT(WALK(0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 0);
	CHECK_EQ_INT(WALK(0x5a, 0x00, 0x01, 0x00, 0x00, 0x01), 0);	/* 65536 bytes claimed */
	CHECK_EQ_INT(WALK(0x1c), 0);				/* reserved */
	CHECK_EQ_INT(webauthn_cbor_item_len(NULL, 0), 0);
}

TEST(authdata_framing)
{
	uint8_t ad[64] = { 0 };
	struct webauthn_authdata a;

	ad[32] = WEBAUTHN_F_UP | WEBAUTHN_F_UV;
	ad[36] = 9;
	CHECK_EQ_INT(webauthn_authdata_parse(ad, 37, &a), 0);
	CHECK_EQ_INT(a.counter, 9);
	CHECK_EQ_INT(a.flags, 5);
	CHECK(a.cred_id == NULL && a.cose == NULL);
	CHECK_EQ_INT(webauthn_authdata_parse(ad, 36, &a), -1);	/* short */
	CHECK_EQ_INT(webauthn_authdata_parse(ad, 38, &a), -1);	/* trailing byte */
	ad[32] |= WEBAUTHN_F_ED;				/* extensions: a map */
	ad[37] = 0xa0;
	CHECK_EQ_INT(webauthn_authdata_parse(ad, 38, &a), 0);
	ad[37] = 0x80;						/* not a map */
	CHECK_EQ_INT(webauthn_authdata_parse(ad, 38, &a), -1);
	ad[32] = WEBAUTHN_F_UP | WEBAUTHN_F_AT;			/* credential cut short */
	ad[37 + 16] = 0;
	ad[37 + 17] = 16;
	CHECK_EQ_INT(webauthn_authdata_parse(ad, 64, &a), -1);
	ad[37 + 17] = 0;					/* an empty credential ID */
	CHECK_EQ_INT(webauthn_authdata_parse(ad, 64, &a), -1);
}

/* A COSE EC2 key {1: 2, 3: alg, -1: crv, -2: x(32), -3: y(32)}. */
static size_t cose_ec2(uint8_t *out, int alg_minus1, uint8_t crv, uint8_t fill)
{
	size_t n = 0;

	out[n++] = 0xa5;
	out[n++] = 0x01; out[n++] = 0x02;
	out[n++] = 0x03; out[n++] = (uint8_t)(0x20 | alg_minus1);	/* -1 - v */
	out[n++] = 0x20; out[n++] = crv;
	out[n++] = 0x21; out[n++] = 0x58; out[n++] = 32;
	memset(out + n, fill, 32);
	n += 32;
	out[n++] = 0x22; out[n++] = 0x58; out[n++] = 32;
	memset(out + n, fill, 32);
	return n + 32;
}

TEST(cose_keys_refused)
{
	uint8_t k[128];
	size_t n;
	/* {1: 1, 3: -8, -1: 6, -2: 32 bytes}: an Ed25519 key. */
	uint8_t okp[] = { 0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20,
			  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
			  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

	CHECK_EQ_INT(webauthn_cose_check(okp, sizeof(okp)), WEBAUTHN_EDDSA);
	CHECK_EQ_INT(webauthn_cose_check(okp, sizeof(okp) - 1), 0);	/* cut */
	okp[6] = 0x04;							/* crv 4: X25519, no signing */
	CHECK_EQ_INT(webauthn_cose_check(okp, sizeof(okp)), 0);
	okp[6] = 0x06;
	okp[4] = 0x26;							/* alg -7 on OKP */
	CHECK_EQ_INT(webauthn_cose_check(okp, sizeof(okp)), 0);
	/* P-256 with x = y = 0x01..: not a point on the curve. */
	n = cose_ec2(k, 6, 1, 1);
	CHECK_EQ_INT(webauthn_cose_check(k, n), 0);
	/* A duplicate label. */
	okp[4] = 0x27;
	okp[2] = 0x01;
	okp[3] = 0x01;
	CHECK_EQ_INT(webauthn_cose_check(okp, sizeof(okp)), 0);
	/* Not a map; nothing. */
	CHECK_EQ_INT(webauthn_cose_check(B(0x80), 1), 0);
	CHECK_EQ_INT(webauthn_cose_check(NULL, 0), 0);
}

TEST(client_data)
{
	struct webauthn_client cd;
#define CD(s) webauthn_client_parse((const uint8_t *)(s), sizeof(s) - 1, &cd)

	CHECK_EQ_INT(CD("{\"type\":\"webauthn.get\",\"challenge\":\"AAEC\","
			"\"origin\":\"https://hub.test\"}"), 0);
	CHECK_EQ_INT(cd.challenge_len, 3);
	CHECK(!strcmp(cd.origin, "https://hub.test") && !cd.cross_origin);
	CHECK_EQ_INT(CD("{\"type\":\"webauthn.get\",\"challenge\":\"AAEC\"}"), -1);
	CHECK_EQ_INT(CD("{\"type\":\"webauthn.get\",\"challenge\":\"AA+C\","
			"\"origin\":\"https://hub.test\"}"), -1);	/* not base64url */
	CHECK_EQ_INT(CD("{\"type\":\"webauthn.get\\u0000x\",\"challenge\":\"AAEC\","
			"\"origin\":\"https://hub.test\"}"), -1);	/* embedded NUL */
	CHECK_EQ_INT(CD("{\"type\":\"webauthn.get\",\"challenge\":\"AAEC\","
			"\"origin\":\"https://hub.test\",\"crossOrigin\":\"no\"}"), -1);
	CHECK_EQ_INT(CD("{\"type\":\"webauthn.get\",\"type\":\"webauthn.create\","
			"\"challenge\":\"AAEC\",\"origin\":\"https://hub.test\"}"), -1);
	CHECK_EQ_INT(CD("[]"), -1);
#undef CD
}

int main(void)
{
	RUN(cbor_walk_is_bounded);
	RUN(authdata_framing);
	RUN(cose_keys_refused);
	RUN(client_data);
	return unit_done();
}
