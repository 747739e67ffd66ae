/* test_wg_crypto.c - the primitives against published known answers
 * (RFC 7748, RFC 8439, RFC 7693) and Python's hashlib. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"
#include "wg_test_util.h"

#include "../../src/wg/crypto.c"

TEST(x25519_rfc7748)
{
	uint8_t a[32], b[32], apub[32], bpub[32], want[32], out[32];

	CHECK_EQ_INT(wg_crypto_init(), 0);
	unhex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	unhex(want, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	CHECK_EQ_INT(wg_x25519_public(apub, a), 0);
	CHECK_EQ_MEM(apub, want, 32);
	unhex(want, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	CHECK_EQ_INT(wg_x25519_public(bpub, b), 0);
	CHECK_EQ_MEM(bpub, want, 32);
	unhex(want, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	CHECK_EQ_INT(wg_x25519(out, a, bpub), 0);
	CHECK_EQ_MEM(out, want, 32);
	CHECK_EQ_INT(wg_x25519(out, b, apub), 0);
	CHECK_EQ_MEM(out, want, 32);
}

TEST(x25519_low_order_point_rejected)
{
	uint8_t a[32], zero[32] = { 0 }, one[32] = { 1 }, out[32];

	CHECK_EQ_INT(wg_x25519_generate(a), 0);
	CHECK_EQ_INT(a[0] & 7, 0);
	CHECK_EQ_INT(a[31] & 0xc0, 0x40);
	/* Low-order points (0 and 1 here) make an all-zero shared key. */
	CHECK_EQ_INT(wg_x25519(out, a, zero), -EINVAL);
	CHECK_EQ_MEM(out, zero, 32);
	CHECK_EQ_INT(wg_x25519(out, a, one), -EINVAL);
}

TEST(blake2s_rfc7693_and_keyed)
{
	uint8_t out[32], want[32], key[32], mac[16];

	unhex(want, 32, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	wg_hash(out, "a", 1, "bc", 2);
	CHECK_EQ_MEM(out, want, 32);
	seq32(key, 0);
	/* hashlib.blake2s(b"abc", key=bytes(range(32)), digest_size=16) */
	unhex(want, 16, "61ba5f165c194692e09d12520cc4c74a");
	CHECK_EQ_INT(wg_mac_oneshot(mac, key, 32, "abc", 3), 0);
	CHECK_EQ_MEM(mac, want, 16);
	/* A reused context gives the same answer twice. */
	struct wg_mac m = { 0 };
	CHECK_EQ_INT(wg_mac_init(&m, key, 32), 0);
	CHECK_EQ_INT(wg_mac_compute(&m, mac, "ab", 2, "c", 1), 0);
	CHECK_EQ_MEM(mac, want, 16);
	CHECK_EQ_INT(wg_mac_compute(&m, mac, "abc", 3, NULL, 0), 0);
	CHECK_EQ_MEM(mac, want, 16);
	wg_mac_free(&m);
	/* hmac.new(bytes(range(32)), b"abc", hashlib.blake2s) */
	unhex(want, 32, "82623be5bc0a391b24dce53e67d028eff92d586de0485ac37822e597d049c74f");
	wg_hmac(out, key, 32, "abc", 3);
	CHECK_EQ_MEM(out, want, 32);
}

static const char sunscreen[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you only "
	"one tip for the future, sunscreen would be it.";

TEST(chacha20poly1305_rfc8439)
{
	uint8_t key[32], nonce[12], ad[12], ct[114 + 16], want[114 + 16];
	uint8_t back[114];
	struct wg_aead a = { 0 };

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	unhex(nonce, 12, "070000004041424344454647");
	unhex(ad, 12, "50515253c0c1c2c3c4c5c6c7");
	unhex(want, sizeof(want),
	      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	      "3ff4def08e4b7a9de576d26586cec64b6116"
	      "1ae10b594f09e26a7e902ecbd0600691");
	CHECK_EQ_INT(sizeof(sunscreen) - 1, 114);
	CHECK_EQ_INT(wg_aead_init(&a, key, true), 0);
	CHECK_EQ_INT(wg_aead_run_nonce(a.ctx, true, nonce, ct,
				       (const uint8_t *)sunscreen, 114,
				       ct + 114, ad, 12), 0);
	CHECK_EQ_MEM(ct, want, sizeof(want));
	wg_aead_free(&a);
	CHECK_EQ_INT(wg_aead_init(&a, key, false), 0);
	CHECK_EQ_INT(wg_aead_run_nonce(a.ctx, false, nonce, back, ct, 114,
				       ct + 114, ad, 12), 0);
	CHECK_EQ_MEM(back, sunscreen, 114);
	ct[3] ^= 1;
	CHECK_EQ_INT(wg_aead_run_nonce(a.ctx, false, nonce, back, ct, 114,
				       ct + 114, ad, 12), -EBADMSG);
	wg_aead_free(&a);
}

TEST(aead_contexts_in_place_and_tamper)
{
	uint8_t key[32], buf[64 + 16], orig[64];
	struct wg_aead s = { 0 }, r = { 0 };

	seq32(key, 3);
	for (int i = 0; i < 64; i++)
		orig[i] = (uint8_t)i;
	CHECK_EQ_INT(wg_aead_init(&s, key, true), 0);
	CHECK_EQ_INT(wg_aead_init(&r, key, false), 0);
	for (uint64_t ctr = 0; ctr < 3; ctr++) {
		memcpy(buf, orig, 64);
		CHECK_EQ_INT(wg_aead_seal_inplace(&s, ctr, buf, 64), 0);
		CHECK(memcmp(buf, orig, 64) != 0);
		/* The one-shot form agrees with the reused context. */
		uint8_t one[64 + 16];
		CHECK_EQ_INT(wg_aead_seal(one, orig, 64, ctr, key, NULL, 0), 0);
		CHECK_EQ_MEM(one, buf, sizeof(one));
		CHECK_EQ_INT(wg_aead_open_inplace(&r, ctr + 1, buf, 64), -EBADMSG);
		memcpy(buf, one, sizeof(one));
		CHECK_EQ_INT(wg_aead_open_inplace(&r, ctr, buf, 64), 0);
		CHECK_EQ_MEM(buf, orig, 64);
	}
	memcpy(buf, orig, 64);
	CHECK_EQ_INT(wg_aead_seal_inplace(&s, 9, buf, 64), 0);
	buf[64 + 15] ^= 0x80;
	CHECK_EQ_INT(wg_aead_open_inplace(&r, 9, buf, 64), -EBADMSG);
	wg_aead_free(&s);
	wg_aead_free(&r);
	wg_aead_free(&r); /* idempotent */
}

/* The per-packet path (nonce as a parameter) against libsodium, an
 * independent ChaCha20-Poly1305, at every length a packet can have around
 * the block and padding edges, interleaved with failed opens. */
TEST(aead_fast_path_against_libsodium)
{
	static const unsigned lens[] = { 0, 1, 15, 16, 17, 63, 64, 65, 127,
					 128, 255, 256, 257, 1024, 1420, 1440 };
	uint8_t key[32], buf[1440 + 16], want[1440 + 16], nonce[12] = { 0 };
	struct wg_aead s = { 0 }, r = { 0 };

	CHECK(wg_aead_fast());
	seq32(key, 0x41);
	CHECK_EQ_INT(wg_aead_init(&s, key, true), 0);
	CHECK_EQ_INT(wg_aead_init(&r, key, false), 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		unsigned len = lens[i];
		uint64_t ctr = 0x0102030405060708ull * i + i;

		for (unsigned j = 0; j < len; j++)
			buf[j] = (uint8_t)(j * 7 + i);
		for (int k = 0; k < 8; k++)
			nonce[4 + k] = (uint8_t)(ctr >> (8 * k));
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(
			want, want + len, NULL, buf, len, NULL, 0, NULL, nonce,
			key);
		CHECK_EQ_INT(wg_aead_seal_inplace(&s, ctr, buf, len), 0);
		CHECK_EQ_MEM(buf, want, len + 16);
		/* A wrong counter fails and leaves nothing behind. */
		CHECK_EQ_INT(wg_aead_open_inplace(&r, ctr ^ 1, buf, len), -EBADMSG);
		memcpy(buf, want, len + 16);
		CHECK_EQ_INT(wg_aead_open_inplace(&r, ctr, buf, len), 0);
		for (unsigned j = 0; j < len; j++)
			if (buf[j] != (uint8_t)(j * 7 + i))
				CHECK(!"opened bytes differ");
	}
	wg_aead_free(&s);
	wg_aead_free(&r);
}

TEST(xchacha20poly1305_roundtrip)
{
	uint8_t key[32], nonce[24], ad[16] = { 1, 2, 3 }, ct[16 + 16], pt[16];
	uint8_t msg[16] = "cookie-cookie-c";

	seq32(key, 9);
	memset(nonce, 7, sizeof(nonce));
	CHECK_EQ_INT(wg_xaead_seal(ct, msg, 16, nonce, key, ad, 16), 0);
	CHECK_EQ_INT(wg_xaead_open(pt, ct, 16, nonce, key, ad, 16), 0);
	CHECK_EQ_MEM(pt, msg, 16);
	ad[0] ^= 1;
	CHECK_EQ_INT(wg_xaead_open(pt, ct, 16, nonce, key, ad, 16), -EBADMSG);
}

int main(void)
{
	RUN(x25519_rfc7748);
	RUN(x25519_low_order_point_rejected);
	RUN(blake2s_rfc7693_and_keyed);
	RUN(chacha20poly1305_rfc8439);
	RUN(aead_contexts_in_place_and_tamper);
	RUN(aead_fast_path_against_libsodium);
	RUN(xchacha20poly1305_roundtrip);
	return unit_done();
}
