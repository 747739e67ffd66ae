/* fuzz_webauthn_authdata.c - authenticatorData (auth/webauthn.h): the
 * fixed part, the attested credential with its CBOR COSE key, the CBOR
 * extensions; what it finds must lie inside the input. */
#include <stdint.h>
#include <string.h>

#include "auth/webauthn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_inside(const uint8_t *data, size_t size, const uint8_t *p, size_t n)
{
	if (p && (p < data || p + n > data + size))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct webauthn_authdata a;

	if (webauthn_authdata_parse(data, size, &a) < 0)
		return 0;
	fuzz_inside(data, size, a.rp_id_hash, WEBAUTHN_RPID_HASH);
	fuzz_inside(data, size, a.cred_id, a.cred_id_len);
	fuzz_inside(data, size, a.cose, a.cose_len);
	if (a.cose)
		webauthn_cose_check(a.cose, a.cose_len);
	return 0;
}
