/* crypto.h - the primitives WireGuard is built from, on OpenSSL 3 and
 * libsodium.
 *
 * X25519, BLAKE2s-256, HMAC-BLAKE2s and the HKDF built on it, keyed
 * BLAKE2s-128 (mac1, mac2, cookies), ChaCha20-Poly1305 (one-shot for
 * handshakes; a context per keypair and direction for transport data),
 * XChaCha20-Poly1305 (cookie replies). Algorithms are fetched once by
 * wg_crypto_init(); nothing here is fetched per packet. Every function that
 * handles secrets wipes its temporaries. */
#ifndef POSTERN_WG_CRYPTO_H
#define POSTERN_WG_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_KEY_LEN 32
#define WG_HASH_LEN 32
#define WG_MAC_LEN 16		/* mac1, mac2, cookie */
#define WG_TAG_LEN 16		/* Poly1305 */
#define WG_XNONCE_LEN 24	/* XChaCha20 */

/* Fetches the algorithms (thread-safe, idempotent). Returns 0, or -ENOSYS
 * when the OpenSSL providers lack one (the device cannot work then). */
int wg_crypto_init(void);

/* ---- X25519 ---- */

/* A fresh clamped private key from the kernel CSPRNG. Returns 0 or -errno. */
int wg_x25519_generate(uint8_t priv[WG_KEY_LEN]);
/* pub = priv * basepoint. Returns 0 or -EIO. */
int wg_x25519_public(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN]);
/* out = DH(priv, pub). Returns 0, or -EINVAL when the result is all zero
 * (a low-order point: the peer contributed nothing). */
int wg_x25519(uint8_t out[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN],
	      const uint8_t pub[WG_KEY_LEN]);

/* ---- BLAKE2s ---- */

/* These run per handshake message and allocate an OpenSSL context each
 * time: when that fails they return -ENOMEM with the outputs zeroed, and
 * the caller drops the message (never the process). */

/* out = BLAKE2s-256(a || b); b may be NULL with blen 0. Returns 0 or
 * -ENOMEM. */
int wg_hash(uint8_t out[WG_HASH_LEN], const void *a, size_t alen,
	    const void *b, size_t blen);
/* out = HMAC-BLAKE2s(key, in). Returns 0 or -ENOMEM. */
int wg_hmac(uint8_t out[WG_HASH_LEN], const uint8_t *key, size_t keylen,
	    const void *in, size_t inlen);
/* The Noise KDF: from chaining key `ck` and input, up to three 32-byte
 * outputs (NULL = not wanted; out1 may alias ck). Returns 0 or -ENOMEM
 * (every wanted output zeroed). */
int wg_kdf(uint8_t *out1, uint8_t *out2, uint8_t *out3,
	   const uint8_t ck[WG_HASH_LEN], const void *in, size_t inlen);

/* Keyed BLAKE2s with a 16-byte output, reusable for one key. */
struct wg_mac {
	void *ctx;		/* EVP_MAC_CTX */
};
/* Sets the key (1..32 bytes). Returns 0 or -ENOMEM/-EIO. */
int wg_mac_init(struct wg_mac *m, const uint8_t *key, size_t keylen);
void wg_mac_free(struct wg_mac *m);
/* out = MAC(key, a || b). Returns 0 or -EIO. */
int wg_mac_compute(struct wg_mac *m, uint8_t out[WG_MAC_LEN], const void *a,
		   size_t alen, const void *b, size_t blen);
/* One-shot form for keys used once. */
int wg_mac_oneshot(uint8_t out[WG_MAC_LEN], const uint8_t *key, size_t keylen,
		   const void *in, size_t inlen);

/* ---- ChaCha20-Poly1305 (RFC 8439; nonce = 32 zero bits || LE64 ctr) ---- */

/* dst = seal(src) || tag; dst may equal src. Returns 0 or -EIO. */
int wg_aead_seal(uint8_t *dst, const uint8_t *src, size_t len, uint64_t ctr,
		 const uint8_t key[WG_KEY_LEN], const void *ad, size_t adlen);
/* Opens `len` bytes of ciphertext followed by the tag into dst (len bytes).
 * Returns 0, or -EBADMSG when the tag does not verify (dst then holds
 * garbage the caller must not use). */
int wg_aead_open(uint8_t *dst, const uint8_t *src, size_t len, uint64_t ctr,
		 const uint8_t key[WG_KEY_LEN], const void *ad, size_t adlen);

/* A keyed context for one direction of a session, reused per packet. */
struct wg_aead {
	void *ctx;		/* EVP_CIPHER_CTX */
};
/* Sets up the context with `key` for encrypting or decrypting. The caller
 * may wipe `key` afterwards. Returns 0 or -ENOMEM/-EIO. */
int wg_aead_init(struct wg_aead *a, const uint8_t key[WG_KEY_LEN], bool enc);
/* Frees the context, wiping the key schedule. Safe on a zeroed struct. */
void wg_aead_free(struct wg_aead *a);
/* Encrypts buf[0, len) in place and writes the tag at buf + len.
 * Returns 0 or -EIO. */
int wg_aead_seal_inplace(struct wg_aead *a, uint64_t ctr, uint8_t *buf,
			 size_t len);
/* Decrypts buf[0, len) in place, the tag being at buf + len.
 * Returns 0 or -EBADMSG. */
int wg_aead_open_inplace(struct wg_aead *a, uint64_t ctr, uint8_t *buf,
			 size_t len);

/* True when the in-place calls use the per-packet fast path (the nonce as
 * a cipher parameter); false means the libcrypto failed the probe made at
 * init and every packet re-initializes the cipher (correct, slower). */
bool wg_aead_fast(void);

/* ---- XChaCha20-Poly1305 (libsodium) ---- */

/* dst (len + 16 bytes) = seal(src). Returns 0 or -EIO. */
int wg_xaead_seal(uint8_t *dst, const uint8_t *src, size_t len,
		  const uint8_t nonce[WG_XNONCE_LEN],
		  const uint8_t key[WG_KEY_LEN], const void *ad, size_t adlen);
/* dst (len bytes) = open(src: len bytes + tag). Returns 0 or -EBADMSG. */
int wg_xaead_open(uint8_t *dst, const uint8_t *src, size_t len,
		  const uint8_t nonce[WG_XNONCE_LEN],
		  const uint8_t key[WG_KEY_LEN], const void *ad, size_t adlen);

#endif
