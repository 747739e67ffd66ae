/* enc.h - strict hex and base64 encoders/decoders.
 *
 * Decoders are strict: no whitespace, canonical padding only (base64),
 * even length (hex). Encoders NUL-terminate; size the output with the
 * *_LEN macros. */
#ifndef POSTERN_CORE_ENC_H
#define POSTERN_CORE_ENC_H

#include <stddef.h>
#include <stdint.h>

#define HEX_LEN(n) ((n) * 2 + 1)
#define B64_LEN(n) ((((n) + 2) / 3) * 4 + 1)
#define B64URL_LEN(n) (((n) * 4 + 2) / 3 + 1)

/* Lower-case hex of `n` bytes into `out` (HEX_LEN(n) bytes). */
void hex_encode(char *out, const uint8_t *in, size_t n);
/* Decodes exactly `out_len` bytes from `in_len` hex chars (either case).
 * Returns 0, or -EINVAL if the length or a character is wrong. */
int hex_decode(uint8_t *out, size_t out_len, const char *in, size_t in_len);

/* Standard base64 with padding (RFC 4648 s4) into B64_LEN(n) bytes. */
void b64_encode(char *out, const uint8_t *in, size_t n);
/* Decodes padded standard base64. Returns the decoded length, or -EINVAL
 * (bad character, bad padding, non-canonical trailing bits) or -ENOBUFS. */
long b64_decode(uint8_t *out, size_t cap, const char *in, size_t in_len);

/* URL-safe base64 without padding (RFC 4648 s5; JOSE) into B64URL_LEN(n). */
void b64url_encode(char *out, const uint8_t *in, size_t n);
/* Decodes unpadded base64url. Returns length, -EINVAL or -ENOBUFS. */
long b64url_decode(uint8_t *out, size_t cap, const char *in, size_t in_len);

#endif
