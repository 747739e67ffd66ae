/* auth_totp.h - time-based one-time passwords (RFC 6238 over RFC 4226):
 * HMAC-SHA1, 30-second steps, 6 digits, the shape every authenticator
 * app uses. A code is accepted for the step before, the current and the
 * next (clock drift), and each step only once: the caller keeps the last
 * step it accepted and passes it back, so a code seen once (shoulder,
 * proxy log, phishing relay) cannot be replayed. */
#ifndef POSTERN_AUTH_AUTH_TOTP_H
#define POSTERN_AUTH_AUTH_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_TOTP_SECRET 20	/* bytes (160 bits, RFC 4226's advice) */
#define AUTH_TOTP_STEP 30
#define AUTH_TOTP_DIGITS 6
/* Base32 text of a secret, NUL included. */
#define AUTH_TOTP_B32 (((AUTH_TOTP_SECRET * 8) + 4) / 5 + 1)

/* The code for counter `step` (RFC 4226 HOTP, 6 digits). */
uint32_t auth_totp_hotp(const uint8_t *key, size_t klen, uint64_t step);

/* Checks `code` (untrusted: exactly 6 ASCII digits) at unix time `now`
 * against steps now-1..now+1 that are later than `last_step`. Returns 0
 * with the matched step in *step, or -1. Constant time in the code. */
int auth_totp_check(const uint8_t *key, size_t klen, const char *code, int64_t now,
		    int64_t last_step, int64_t *step);

/* RFC 4648 base32 without padding (what authenticator apps take). */
void auth_totp_b32(char out[AUTH_TOTP_B32], const uint8_t key[AUTH_TOTP_SECRET]);

#endif
