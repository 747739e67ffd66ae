/* auth_totp.c - RFC 6238 TOTP (see auth_totp.h). */
#include "auth/auth_totp.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/secure.h"

uint32_t auth_totp_hotp(const uint8_t *key, size_t klen, uint64_t step)
{
	uint8_t msg[8], mac[20];
	unsigned ml = sizeof(mac), off;
	uint32_t bin;

	for (int i = 7; i >= 0; i--, step >>= 8)
		msg[i] = (uint8_t)step;
	if (!HMAC(EVP_sha1(), key, (int)klen, msg, sizeof(msg), mac, &ml))
		return UINT32_MAX;	/* matches no 6-digit code */
	off = mac[19] & 15;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	      ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
	secure_wipe(mac, sizeof(mac));
	return bin % 1000000;
}

int auth_totp_check(const uint8_t *key, size_t klen, const char *code, int64_t now,
		    int64_t last_step, int64_t *step)
{
	uint32_t want = 0;
	int64_t t = now / AUTH_TOTP_STEP, hit = -1;

	if (strlen(code) != AUTH_TOTP_DIGITS || now < AUTH_TOTP_STEP)
		return -1;
	for (int i = 0; i < AUTH_TOTP_DIGITS; i++) {
		if (code[i] < '0' || code[i] > '9')
			return -1;
		want = want * 10 + (uint32_t)(code[i] - '0');
	}
	/* Every window step is computed, hit or miss. */
	for (int64_t s = t - 1; s <= t + 1; s++) {
		uint32_t c = auth_totp_hotp(key, klen, (uint64_t)s);
		bool same = secure_eq(&c, &want, sizeof(c));
		if (same && s > last_step && hit < 0)
			hit = s;
	}
	if (hit < 0)
		return -1;
	*step = hit;
	return 0;
}

void auth_totp_b32(char out[AUTH_TOTP_B32], const uint8_t key[AUTH_TOTP_SECRET])
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < AUTH_TOTP_SECRET; i++) {
		acc = (acc << 8) | key[i];
		bits += 8;
		while (bits >= 5) {
			out[n++] = a[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits)
		out[n++] = a[(acc << (5 - bits)) & 31];
	out[n] = 0;
}
