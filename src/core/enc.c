/* enc.c - hex and base64 through libsodium, with the strict checks its
 * API leaves to the caller (whole input consumed, exact lengths). */
#include "core/enc.h"

#include <errno.h>

#include <sodium.h>

static const int enc_variant[ENC_B64_MAX] = {
	[ENC_B64_STD] = sodium_base64_VARIANT_ORIGINAL,
	[ENC_B64_STD_NOPAD] = sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
	[ENC_B64_URL] = sodium_base64_VARIANT_URLSAFE,
	[ENC_B64_URL_NOPAD] = sodium_base64_VARIANT_URLSAFE_NO_PADDING,
};

void enc_hex_encode(char *out, const uint8_t *in, size_t n)
{
	sodium_bin2hex(out, HEX_LEN(n), in, n);
}

int enc_hex_decode(uint8_t *out, size_t out_len, const char *in, size_t in_len)
{
	const char *end = NULL;
	size_t got = 0;

	if (in_len != out_len * 2 ||
	    sodium_hex2bin(out, out_len, in, in_len, NULL, &got, &end) != 0 ||
	    got != out_len || end != in + in_len)
		return -EINVAL;
	return 0;
}

void enc_b64_encode(enum enc_b64 v, char *out, const uint8_t *in, size_t n)
{
	sodium_bin2base64(out, sodium_base64_ENCODED_LEN(n, enc_variant[v]), in, n,
			  enc_variant[v]);
}

/* Bytes that `len` base64 characters (padding included) decode to, so
 * that a short buffer is told apart from bad input. */
static size_t enc_b64_need(const char *in, size_t len)
{
	while (len && in[len - 1] == '=')
		len--;
	return len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
}

bool enc_b64url_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

long enc_b64_decode(enum enc_b64 v, uint8_t *out, size_t cap, const char *in,
		    size_t in_len)
{
	const char *end = NULL;
	size_t got = 0;

	/* libsodium's decoder takes some bytes above 0x7f for alphabet
	 * characters ("\xf1" decodes as "/"): a second spelling of the same
	 * bytes. Base64 is ASCII; anything else is refused here. */
	for (size_t i = 0; i < in_len; i++)
		if ((unsigned char)in[i] > 0x7f)
			return -EINVAL;
	if (enc_b64_need(in, in_len) > cap)
		return -ENOBUFS;
	if (sodium_base642bin(out, cap, in, in_len, NULL, &got, &end,
			      enc_variant[v]) != 0 || end != in + in_len)
		return -EINVAL;
	return (long)got;
}
