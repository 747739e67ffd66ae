/* enc.h - strict hex and base64: a thin layer over libsodium's codecs
 * (sodium_bin2hex/hex2bin, sodium_bin2base64/base642bin) that gives the
 * call sites one contract: strict decoding (no ignored characters, no
 * whitespace, canonical padding and trailing bits, even-length hex) and
 * negative errno returns. Encoders NUL-terminate; size the output with
 * the *_LEN macros. */
#ifndef POSTERN_CORE_ENC_H
#define POSTERN_CORE_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEX_LEN(n) ((n) * 2 + 1)
#define B64_LEN(n) ((((n) + 2) / 3) * 4 + 1)
#define B64URL_LEN(n) (((n) * 4 + 2) / 3 + 1)

/* The four RFC 4648 base64 forms (libsodium's variants). Output sizes:
 * B64_LEN for the padded ones, B64URL_LEN for the unpadded ones. */
enum enc_b64 {
	ENC_B64_STD,		/* s4, padded */
	ENC_B64_STD_NOPAD,	/* s4, no padding */
	ENC_B64_URL,		/* s5, padded */
	ENC_B64_URL_NOPAD,	/* s5, no padding (JOSE) */
	ENC_B64_MAX
};

/* Lower-case hex of `n` bytes into `out` (HEX_LEN(n) bytes). */
void enc_hex_encode(char *out, const uint8_t *in, size_t n);
/* Decodes exactly `out_len` bytes from `in_len` hex chars (either case).
 * Returns 0, or -EINVAL if the length or a character is wrong. */
int enc_hex_decode(uint8_t *out, size_t out_len, const char *in, size_t in_len);

/* Base64 of `n` bytes in form `v` into `out`, NUL-terminated. */
void enc_b64_encode(enum enc_b64 v, char *out, const uint8_t *in, size_t n);
/* Decodes form `v` strictly. Returns the decoded length, or -EINVAL (bad
 * character, bad or missing padding, non-canonical trailing bits) or
 * -ENOBUFS (more than `cap` bytes). */
long enc_b64_decode(enum enc_b64 v, uint8_t *out, size_t cap, const char *in,
		    size_t in_len);

/* Standard base64 with padding (RFC 4648 s4) into B64_LEN(n) bytes. */
static inline void enc_b64std_encode(char *out, const uint8_t *in, size_t n)
{
	enc_b64_encode(ENC_B64_STD, out, in, n);
}

static inline long enc_b64std_decode(uint8_t *out, size_t cap, const char *in,
			      size_t in_len)
{
	return enc_b64_decode(ENC_B64_STD, out, cap, in, in_len);
}

/* URL-safe base64 without padding (RFC 4648 s5; JOSE) into B64URL_LEN(n). */
static inline void enc_b64url_encode(char *out, const uint8_t *in, size_t n)
{
	enc_b64_encode(ENC_B64_URL_NOPAD, out, in, n);
}

static inline long enc_b64url_decode(uint8_t *out, size_t cap, const char *in,
				 size_t in_len)
{
	return enc_b64_decode(ENC_B64_URL_NOPAD, out, cap, in, in_len);
}

/* True when each of the `n` bytes of `s` is in the base64url alphabet
 * (A-Z a-z 0-9 - _): the one check for tokens that are only passed on
 * or compared (ACME tokens, provider ids, login state), never decoded. */
bool enc_b64url_chars(const char *s, size_t n);

#endif
