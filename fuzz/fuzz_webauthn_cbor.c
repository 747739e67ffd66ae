/* fuzz_webauthn_cbor.c - the CBOR a browser sends for a passkey
 * (auth/webauthn.h): the first byte picks the attestationObject (and the
 * whole registration check behind it), a COSE public key alone, or the
 * bounded item walker. */
#include <stdint.h>
#include <string.h>

#include "auth/webauthn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char cdj[] = "{\"type\":\"webauthn.create\",\"challenge\":"
		"\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"origin\":\"https://hub.test\"}";
	struct webauthn_expect e = { "webauthn.create", "https://hub.test", "hub.test", false };
	static struct webauthn_cred cred;
	static uint8_t ad[WEBAUTHN_AUTHDATA_MAX];
	struct webauthn_client cd;
	size_t adlen, n;

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (webauthn_attestation_parse(data + 1, size - 1, ad, sizeof(ad), &adlen) == 0 &&
		    adlen > sizeof(ad))
			__builtin_trap();
		webauthn_register_check(&e, (const uint8_t *)cdj, sizeof(cdj) - 1, &cd, data + 1,
					size - 1, &cred);
		break;
	case 1:
		webauthn_cose_check(data + 1, size - 1);
		webauthn_cose_verify(data + 1, size - 1, data, size, data, size > 64 ? 64 : size);
		break;
	default:
		n = webauthn_cbor_item_len(data + 1, size - 1);
		if (n > size - 1)
			__builtin_trap();
		break;
	}
	return 0;
}
