/* enc.c - strict hex and base64. */
#include "core/enc.h"

#include <errno.h>

static const char hexdig[] = "0123456789abcdef";
static const char b64std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void hex_encode(char *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[in[i] >> 4];
		out[2 * i + 1] = hexdig[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(uint8_t *out, size_t out_len, const char *in, size_t in_len)
{
	if (in_len != out_len * 2)
		return -EINVAL;
	for (size_t i = 0; i < out_len; i++) {
		int hi = hex_nibble(in[2 * i]), lo = hex_nibble(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void b64_encode_alpha(char *out, const uint8_t *in, size_t n,
			     const char *alpha, int pad)
{
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		out[o++] = alpha[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = alpha[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

void b64_encode(char *out, const uint8_t *in, size_t n)
{
	b64_encode_alpha(out, in, n, b64std, 1);
}

void b64url_encode(char *out, const uint8_t *in, size_t n)
{
	b64_encode_alpha(out, in, n, b64url, 0);
}

static int b64_val(char c, const char *alpha)
{
	for (int i = 0; i < 64; i++)
		if (alpha[i] == c)
			return i;
	return -1;
}

/* Decodes `len` symbols (no padding) from `alpha`. */
static long b64_decode_alpha(uint8_t *out, size_t cap, const char *in,
			     size_t len, const char *alpha)
{
	size_t o = 0, need;
	uint32_t acc = 0;
	int bits = 0;

	if (len % 4 == 1)
		return -EINVAL;
	need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	if (need > cap)
		return -ENOBUFS;
	for (size_t i = 0; i < len; i++) {
		int v = b64_val(in[i], alpha);
		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero, or two encodings decode alike. */
	if (acc & ((1u << bits) - 1))
		return -EINVAL;
	return (long)o;
}

long b64_decode(uint8_t *out, size_t cap, const char *in, size_t in_len)
{
	size_t len = in_len;

	if (in_len % 4)
		return -EINVAL;
	if (len && in[len - 1] == '=')
		len--;
	if (len && in[len - 1] == '=')
		len--;
	if (len % 4 == 1 || (in_len - len && len % 4 == 0))
		return -EINVAL;
	return b64_decode_alpha(out, cap, in, len, b64std);
}

long b64url_decode(uint8_t *out, size_t cap, const char *in, size_t in_len)
{
	return b64_decode_alpha(out, cap, in, in_len, b64url);
}
