/* wg_test_util.h - helpers shared by the WireGuard unit tests. */
#ifndef POSTERN_TESTS_WG_TEST_UTIL_H
#define POSTERN_TESTS_WG_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/enc.h"

/* Decodes a hex literal of exactly n bytes (aborts the test binary on a
 * typo in the test itself). */
static inline void unhex(uint8_t *out, size_t n, const char *hex)
{
	if (enc_hex_decode(out, n, hex, strlen(hex)) != 0) {
		fprintf(stderr, "bad hex literal in test: %s\n", hex);
		abort();
	}
}

/* 32 bytes start, start+1, ... (the keys tests/vectors/wg_handshake.py uses). */
static inline void seq32(uint8_t out[32], uint8_t start)
{
	for (int i = 0; i < 32; i++)
		out[i] = (uint8_t)(start + i);
}

#endif
