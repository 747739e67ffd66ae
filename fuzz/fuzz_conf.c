/* fuzz_conf.c - the config reader and the number parsers on any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/enc.h"
#include "core/num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	char err[256];
	uint64_t v;
	uint8_t out[256];

	if (conf_parse(&c, "fuzz", (const char *)data, size, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < c.n; i++) {
			conf_get_u64(&c, c.v[i].section, c.v[i].key, 0, 1000, &v,
				     err, sizeof(err));
			num_parse_duration(c.v[i].value, 0, UINT64_MAX, &v);
			num_parse_size(c.v[i].value, 0, UINT64_MAX, &v);
		}
		conf_check_unused(&c, err, sizeof(err));
		conf_free(&c);
	}
	num_parse_u64((const char *)data, size, 0, UINT64_MAX, &v);
	num_parse_hex_u64((const char *)data, size, 0, UINT64_MAX, &v);
	enc_b64std_decode(out, sizeof(out), (const char *)data, size);
	enc_b64url_decode(out, sizeof(out), (const char *)data, size);
	enc_hex_decode(out, size / 2 < sizeof(out) ? size / 2 : sizeof(out),
		   (const char *)data, size);
	return 0;
}
