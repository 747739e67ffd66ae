/* fuzz_conf.c - the config reader and the number parsers on any bytes.
 * Round trips abort when broken: a decimal number that parses prints back
 * as its digits (leading zeros aside), strict base64 and base64url that
 * decode encode back to the same text, hex decodes to bytes that encode
 * back to it (in lower case); a parsed config has no newline inside a
 * section, key or value (a bare CR may stay in a value), and no empty key. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/enc.h"
#include "core/num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_round_trips(const char *s, size_t size)
{
	uint8_t out[256];
	char enc[HEX_LEN(256)], num[32];	/* HEX_LEN(256) > B64_LEN(256) */
	uint64_t v;
	long n;
	size_t z = 0;

	if (num_parse_u64(s, size, 0, UINT64_MAX, &v) == 0) {
		while (z + 1 < size && s[z] == '0')
			z++;
		snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
		if (strlen(num) != size - z || memcmp(num, s + z, size - z))
			abort();
	}
	num_parse_hex_u64(s, size, 0, UINT64_MAX, &v);
	if ((n = enc_b64std_decode(out, sizeof(out), s, size)) >= 0) {
		enc_b64std_encode(enc, out, (size_t)n);
		if (strlen(enc) != size || memcmp(enc, s, size))
			abort();
	}
	if ((n = enc_b64url_decode(out, sizeof(out), s, size)) >= 0) {
		enc_b64url_encode(enc, out, (size_t)n);
		if (strlen(enc) != size || memcmp(enc, s, size))
			abort();
	}
	if (size % 2 == 0 && size / 2 <= sizeof(out) &&
	    enc_hex_decode(out, size / 2, s, size) == 0) {
		enc_hex_encode(enc, out, size / 2);
		for (size_t i = 0; i < size; i++)
			if (enc[i] != (s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]))
				abort();
	}
}

static bool conf_text_ok(const char *t)
{
	return !strchr(t, '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	char err[256];
	uint64_t v;

	if (conf_parse(&c, "fuzz", (const char *)data, size, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < c.n; i++) {
			if (!c.v[i].key[0] || !conf_text_ok(c.v[i].key) ||
			    !conf_text_ok(c.v[i].value) || !conf_text_ok(c.v[i].section))
				abort();
			conf_get_u64(&c, c.v[i].section, c.v[i].key, 0, 1000, &v,
				     err, sizeof(err));
			num_parse_duration(c.v[i].value, 0, UINT64_MAX, &v);
			num_parse_size(c.v[i].value, 0, UINT64_MAX, &v);
		}
		conf_check_unused(&c, err, sizeof(err));
		conf_free(&c);
	}
	fuzz_round_trips((const char *)data, size);
	return 0;
}
