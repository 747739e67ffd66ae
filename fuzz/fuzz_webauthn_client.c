/* fuzz_webauthn_client.c - clientDataJSON as a browser sends it
 * (auth/webauthn.h): the parser, then the ceremonies' checks that read
 * it first. */
#include <stdint.h>
#include <string.h>

#include "auth/webauthn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t ad[WEBAUTHN_AD_MIN] = { [32] = 0x05 };
	struct webauthn_expect e = { "webauthn.get", "https://hub.test", "hub.test", true };
	struct webauthn_client cd;
	uint32_t counter;
	uint8_t flags;

	if (webauthn_client_parse(data, size, &cd) == 0 && cd.challenge_len > sizeof(cd.challenge))
		__builtin_trap();
	webauthn_assert_check(&e, data, size, &cd, ad, sizeof(ad), (const uint8_t *)"x", 1,
			      NULL, 0, 0, &counter, &flags);
	return 0;
}
