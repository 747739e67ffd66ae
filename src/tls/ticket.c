/* ticket.c - session ticket keys: a ring rotated by the control thread.
 *
 * keys[0] encrypts new tickets; every key in the ring decrypts. A rotation
 * pushes a fresh key in front and wipes the one that falls off the end, so
 * a ticket resumes for about `keep` rotation periods after it was made and
 * never after. The keys exist only in this struct (never written, never
 * logged); readers on worker threads take the read lock just long enough
 * to load a key into OpenSSL's cipher and MAC contexts.
 *
 * The AES cipher and the SHA-256 digest are fetched once at init: an
 * implicit fetch per ticket takes the provider store's locks on OpenSSL
 * 3.0. That is why this file uses the HMAC_CTX flavour of the ticket
 * callback (deprecated in 3.0, still supported, and what nginx uses): the
 * EVP_MAC flavour only takes the digest by name, and setting it costs a
 * fetch per ticket (measured: 11.3 us per ticket MAC against 5.2 us with
 * the digest fetched once). */
#define LOG_SUBSYS "tls"
#define OPENSSL_SUPPRESS_DEPRECATED	/* HMAC_CTX: see above */

#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/compiler.h"
#include "core/log.h"
#include "core/secure.h"
#include "tls/internal.h"

static int ticket_key_new(struct tls_ticket_key *k)
{
	return secure_random(k, sizeof(*k)) < 0 ? -EIO : 0;
}

int tls_ticket_init(struct tls_tickets *t, uint64_t rotate_ns,
		    uint64_t lifetime_ns)
{
	memset(t, 0, sizeof(*t));
	t->keep = (size_t)((lifetime_ns + rotate_ns - 1) / rotate_ns);
	if (t->keep > TLS_TICKET_KEYS_MAX - 1)
		t->keep = TLS_TICKET_KEYS_MAX - 1;
	if (pthread_rwlock_init(&t->lock, NULL) != 0)
		return -1;
	t->aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	t->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!t->aes || !t->sha256 || ticket_key_new(&t->keys[0]) < 0)
		return -1;
	t->n = 1;
	return 0;
}

void tls_ticket_destroy(struct tls_tickets *t)
{
	secure_wipe(t->keys, sizeof(t->keys));
	t->n = 0;
	EVP_CIPHER_free(t->aes);
	EVP_MD_free(t->sha256);
	t->aes = NULL;
	t->sha256 = NULL;
	pthread_rwlock_destroy(&t->lock);
}

int tls_ticket_rotate(struct tls_tickets *t)
{
	struct tls_ticket_key fresh;
	size_t n;

	if (ticket_key_new(&fresh) < 0)
		return -EIO;
	pthread_rwlock_wrlock(&t->lock);
	n = MIN(t->n + 1, t->keep + 1);
	memmove(&t->keys[1], &t->keys[0], (n - 1) * sizeof(t->keys[0]));
	t->keys[0] = fresh;
	/* Slots past the ring's end (the key that fell off) are wiped. */
	secure_wipe(&t->keys[n], (TLS_TICKET_KEYS_MAX - n) * sizeof(t->keys[0]));
	t->n = n;
	pthread_rwlock_unlock(&t->lock);
	secure_wipe(&fresh, sizeof(fresh));
	log_debug("session ticket key rotated (%zu key(s) decrypt)", n);
	return 0;
}

/* Index of the key named `name`, or -1. Key names are public (they travel
 * in the clear inside tickets): a plain compare is fine. */
static int ticket_find(const struct tls_tickets *t, const uint8_t *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (memcmp(t->keys[i].name, name, sizeof(t->keys[i].name)) == 0)
			return (int)i;
	return -1;
}

/* OpenSSL's ticket callback (SSL_CTX_set_tlsext_ticket_key_cb).
 * enc=1: fills the key name and IV and keys both contexts; returns 1, or
 * -1 on failure (no ticket is sent). enc=0: finds the key by name; returns
 * 0 when it is unknown (a full handshake follows), 1 when it is the
 * current key, 2 when it is a retired one or the connection is TLS 1.3
 * (the ticket is accepted and a fresh one issued). TLS 1.3 clients use a
 * ticket once (RFC 8446 C.4) and OpenSSL's server sends none after a
 * resumption it was not told to renew: without a fresh one, every other
 * connection of a client fell back to a full handshake. */
int tls_ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
		  EVP_CIPHER_CTX *cctx, HMAC_CTX *hctx, int enc)
{
	struct tls_server *srv = tls_server_of_ctx(SSL_get_SSL_CTX(ssl));
	struct tls_tickets *t;
	int i, ret = -1, ok;

	if (!srv)
		return -1;
	t = &srv->tickets;
	if (enc && RAND_bytes(iv, EVP_CIPHER_get_iv_length(t->aes)) != 1)
		return -1;
	pthread_rwlock_rdlock(&t->lock);
	i = enc ? (t->n ? 0 : -1) : ticket_find(t, key_name);
	if (i < 0) {
		ret = enc ? -1 : 0;
		goto out;
	}
	if (enc) {
		memcpy(key_name, t->keys[0].name, 16);
		ok = EVP_EncryptInit_ex(cctx, t->aes, NULL, t->keys[0].aes, iv);
	} else {
		ok = EVP_DecryptInit_ex(cctx, t->aes, NULL, t->keys[i].aes, iv);
	}
	if (ok && HMAC_Init_ex(hctx, t->keys[i].hmac, sizeof(t->keys[i].hmac),
			       t->sha256, NULL))
		ret = (enc || (i == 0 && SSL_version(ssl) != TLS1_3_VERSION)) ? 1 : 2;
out:
	pthread_rwlock_unlock(&t->lock);
	return ret;
}
