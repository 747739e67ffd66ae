/* fuzz_http_form.c - the urlencoded form and query reader (http/form.h)
 * the login portal runs on bodies and query strings from anyone: every
 * result must be NUL-terminated inside its buffer, with no control byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "username", "password", "rd", "code", "" };
	struct str in = str_make((const char *)data, size);
	char out[64];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		long n = http_form_get(in, names[i], out, sizeof(out));
		if (n >= 0 && ((size_t)n >= sizeof(out) || strlen(out) != (size_t)n))
			abort();
		for (long k = 0; k > -1 && k < n; k++)
			if ((unsigned char)out[k] < 0x20)
				abort();
	}
	return 0;
}
