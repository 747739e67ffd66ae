/* noise.c - Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as WireGuard uses it. */
#include "wg/noise.h"

#include <errno.h>
#include <string.h>

#include "core/secure.h"
#include "wg/proto.h"

static const char noise_construction[] =
	"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char noise_identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

/* The working state of one message: chaining key and transcript hash.
 * `err` is sticky: a hash or KDF step that could not allocate marks the
 * message, and it is dropped before anything is committed or sent. */
struct noise_sym {
	uint8_t ck[WG_HASH_LEN];
	uint8_t h[WG_HASH_LEN];
	int err;
};

static void noise_sym_from(struct noise_sym *s, const uint8_t ck[WG_HASH_LEN],
			   const uint8_t h[WG_HASH_LEN])
{
	memcpy(s->ck, ck, WG_HASH_LEN);
	memcpy(s->h, h, WG_HASH_LEN);
	s->err = 0;
}

static void noise_note(struct noise_sym *s, int r)
{
	if (r < 0 && !s->err)
		s->err = r;
}

static void noise_sym_wipe(struct noise_sym *s)
{
	secure_wipe(s, sizeof(*s));
}

/* ck = HASH(construction); h = HASH(HASH(ck || identifier) || responder). */
static void noise_sym_start(struct noise_sym *s,
			    const uint8_t responder[WG_KEY_LEN])
{
	s->err = 0;
	noise_note(s, wg_hash(s->ck, noise_construction,
			      sizeof(noise_construction) - 1, NULL, 0));
	noise_note(s, wg_hash(s->h, s->ck, WG_HASH_LEN, noise_identifier,
			      sizeof(noise_identifier) - 1));
	noise_note(s, wg_hash(s->h, s->h, WG_HASH_LEN, responder, WG_KEY_LEN));
}

static void noise_mix_hash(struct noise_sym *s, const void *in, size_t len)
{
	noise_note(s, wg_hash(s->h, s->h, WG_HASH_LEN, in, len));
}

/* ck = KDF1(ck, e); h = HASH(h || e): a public ephemeral enters. */
static void noise_mix_ephemeral(struct noise_sym *s,
				const uint8_t e[WG_KEY_LEN])
{
	noise_note(s, wg_kdf(s->ck, NULL, NULL, s->ck, e, WG_KEY_LEN));
	noise_mix_hash(s, e, WG_KEY_LEN);
}

/* (ck, key) = KDF2(ck, DH(priv, pub)); key may be NULL (KDF1). */
static int noise_mix_dh(struct noise_sym *s, uint8_t *key,
			const uint8_t priv[WG_KEY_LEN],
			const uint8_t pub[WG_KEY_LEN])
{
	uint8_t dh[WG_KEY_LEN];

	if (wg_x25519(dh, priv, pub) < 0)
		return -EINVAL;
	noise_note(s, wg_kdf(s->ck, key, NULL, s->ck, dh, sizeof(dh)));
	secure_wipe(dh, sizeof(dh));
	return 0;
}

/* c = AEAD(key, 0, plain, h); h = HASH(h || c). */
static int noise_seal(struct noise_sym *s, uint8_t *c, const uint8_t *plain,
		      size_t len, const uint8_t key[WG_KEY_LEN])
{
	if (wg_aead_seal(c, plain, len, 0, key, s->h, WG_HASH_LEN) < 0)
		return -EIO;
	noise_mix_hash(s, c, len + WG_TAG_LEN);
	return 0;
}

static int noise_open(struct noise_sym *s, uint8_t *plain, const uint8_t *c,
		      size_t len, const uint8_t key[WG_KEY_LEN])
{
	if (wg_aead_open(plain, c, len, 0, key, s->h, WG_HASH_LEN) < 0)
		return -EBADMSG;
	noise_mix_hash(s, c, len + WG_TAG_LEN);
	return 0;
}

/* (ck, t, key) = KDF3(ck, psk); h = HASH(h || t). */
static void noise_mix_psk(struct noise_sym *s, uint8_t key[WG_KEY_LEN],
			  const uint8_t psk[WG_KEY_LEN])
{
	uint8_t t[WG_HASH_LEN];

	noise_note(s, wg_kdf(s->ck, t, key, s->ck, psk, WG_KEY_LEN));
	noise_mix_hash(s, t, sizeof(t));
	secure_wipe(t, sizeof(t));
}

void wg_noise_tai64n(uint8_t out[WG_TAI64N_LEN], uint64_t wall_ns)
{
	uint64_t sec = wall_ns / NSEC_PER_SEC;
	uint32_t nsec = (uint32_t)(wall_ns % NSEC_PER_SEC) & ~((1u << 24) - 1);

	sec += 0x400000000000000aULL; /* TAI64 epoch, 10 s TAI-UTC offset */
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(sec >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(nsec >> (24 - 8 * i));
}

void wg_noise_handshake_init(struct wg_handshake *hs,
			     const uint8_t remote_static[WG_KEY_LEN])
{
	secure_wipe(hs, sizeof(*hs));
	memcpy(hs->remote_static, remote_static, WG_KEY_LEN);
}

void wg_noise_precompute(struct wg_handshake *hs,
			 const struct wg_noise_local *local)
{
	hs->ss_valid = local->has_key &&
		       wg_x25519(hs->ss, local->priv, hs->remote_static) == 0;
	if (!hs->ss_valid)
		secure_wipe(hs->ss, sizeof(hs->ss));
}

void wg_noise_handshake_clear(struct wg_handshake *hs)
{
	secure_wipe(hs->e_priv, sizeof(hs->e_priv));
	secure_wipe(hs->remote_e, sizeof(hs->remote_e));
	secure_wipe(hs->hash, sizeof(hs->hash));
	secure_wipe(hs->ck, sizeof(hs->ck));
	hs->local_index = hs->remote_index = 0;
	hs->state = WG_HS_ZEROED;
}

void wg_noise_handshake_wipe(struct wg_handshake *hs)
{
	secure_wipe(hs, sizeof(*hs));
}

/* The initiation with a given ephemeral key (unit tests fix it). */
static int noise_initiation_create_e(struct wg_handshake *hs,
				     const struct wg_noise_local *local,
				     struct wg_msg_initiation *msg,
				     uint32_t local_index,
				     const uint8_t tai64n[WG_TAI64N_LEN],
				     const uint8_t e_priv[WG_KEY_LEN])
{
	struct noise_sym s;
	uint8_t key[WG_KEY_LEN];
	int r = -EINVAL;

	if (!local->has_key || !hs->ss_valid)
		return -EINVAL;
	noise_sym_start(&s, hs->remote_static);
	if (wg_x25519_public(msg->ephemeral, e_priv) < 0)
		goto out;
	noise_mix_ephemeral(&s, msg->ephemeral);
	if (noise_mix_dh(&s, key, e_priv, hs->remote_static) < 0 ||
	    noise_seal(&s, msg->encrypted_static, local->pub, WG_KEY_LEN, key) < 0)
		goto out;
	noise_note(&s, wg_kdf(s.ck, key, NULL, s.ck, hs->ss, WG_KEY_LEN));
	if (noise_seal(&s, msg->encrypted_timestamp, tai64n, WG_TAI64N_LEN,
		       key) < 0)
		goto out;
	if ((r = s.err) < 0)
		goto out;
	r = -EINVAL;
	wg_le32_write(&msg->type, WG_MSG_INITIATION);
	wg_le32_write(&msg->sender, local_index);
	memcpy(hs->e_priv, e_priv, WG_KEY_LEN);
	memcpy(hs->hash, s.h, WG_HASH_LEN);
	memcpy(hs->ck, s.ck, WG_HASH_LEN);
	hs->local_index = local_index;
	hs->state = WG_HS_CREATED_INITIATION;
	r = 0;
out:
	noise_sym_wipe(&s);
	secure_wipe(key, sizeof(key));
	return r;
}

int wg_noise_initiation_create(struct wg_handshake *hs,
			       const struct wg_noise_local *local,
			       struct wg_msg_initiation *msg,
			       uint32_t local_index,
			       const uint8_t tai64n[WG_TAI64N_LEN])
{
	uint8_t e[WG_KEY_LEN];
	int r = wg_x25519_generate(e);

	if (r == 0)
		r = noise_initiation_create_e(hs, local, msg, local_index,
					      tai64n, e);
	secure_wipe(e, sizeof(e));
	return r;
}

int wg_noise_initiation_open(const struct wg_noise_local *local,
			     const struct wg_msg_initiation *msg,
			     struct wg_noise_pending *p)
{
	struct noise_sym s;
	uint8_t key[WG_KEY_LEN];
	int r = -EINVAL;

	if (!local->has_key)
		return -EINVAL;
	noise_sym_start(&s, local->pub);
	noise_mix_ephemeral(&s, msg->ephemeral);
	if (noise_mix_dh(&s, key, local->priv, msg->ephemeral) < 0)
		goto out;
	r = noise_open(&s, p->remote_static, msg->encrypted_static,
		       WG_KEY_LEN, key);
	if (r == 0)
		r = s.err;
	if (r < 0)
		goto out;
	memcpy(p->remote_e, msg->ephemeral, WG_KEY_LEN);
	memcpy(p->hash, s.h, WG_HASH_LEN);
	memcpy(p->ck, s.ck, WG_HASH_LEN);
	p->sender = wg_le32_read(&msg->sender);
out:
	noise_sym_wipe(&s);
	secure_wipe(key, sizeof(key));
	return r;
}

int wg_noise_initiation_finish(struct wg_handshake *hs,
			       const struct wg_msg_initiation *msg,
			       struct wg_noise_pending *p, uint64_t now)
{
	struct noise_sym s;
	uint8_t key[WG_KEY_LEN], t[WG_TAI64N_LEN];
	int r = -EBADMSG;

	noise_sym_from(&s, p->ck, p->hash);
	if (!hs->ss_valid)
		goto out;
	noise_note(&s, wg_kdf(s.ck, key, NULL, s.ck, hs->ss, WG_KEY_LEN));
	if (noise_open(&s, t, msg->encrypted_timestamp, WG_TAI64N_LEN, key) < 0)
		goto out;
	if ((r = s.err) < 0)
		goto out;
	r = -EALREADY;
	if (memcmp(t, hs->latest_timestamp, WG_TAI64N_LEN) <= 0)
		goto out; /* replayed (or clock went back) */
	if (hs->have_consumed && now - hs->last_initiation_consumption <
	    NSEC_PER_SEC / WG_INITIATIONS_PER_SECOND)
		goto out; /* flood */
	wg_noise_handshake_clear(hs);
	memcpy(hs->remote_e, p->remote_e, WG_KEY_LEN);
	memcpy(hs->latest_timestamp, t, WG_TAI64N_LEN);
	memcpy(hs->hash, s.h, WG_HASH_LEN);
	memcpy(hs->ck, s.ck, WG_HASH_LEN);
	hs->remote_index = p->sender;
	hs->have_consumed = true;
	hs->last_initiation_consumption = now;
	hs->state = WG_HS_CONSUMED_INITIATION;
	r = 0;
out:
	noise_sym_wipe(&s);
	secure_wipe(key, sizeof(key));
	secure_wipe(p, sizeof(*p));
	return r;
}

/* The response with a given ephemeral key (unit tests fix it). */
static int noise_response_create_e(struct wg_handshake *hs,
				   const struct wg_noise_local *local,
				   struct wg_msg_response *msg,
				   uint32_t local_index,
				   const uint8_t e_priv[WG_KEY_LEN])
{
	struct noise_sym s;
	uint8_t key[WG_KEY_LEN];
	int r = -EINVAL;

	if (hs->state != WG_HS_CONSUMED_INITIATION || !local->has_key)
		return -EINVAL;
	noise_sym_from(&s, hs->ck, hs->hash);
	if (wg_x25519_public(msg->ephemeral, e_priv) < 0)
		goto out;
	noise_mix_ephemeral(&s, msg->ephemeral);
	if (noise_mix_dh(&s, NULL, e_priv, hs->remote_e) < 0 ||
	    noise_mix_dh(&s, NULL, e_priv, hs->remote_static) < 0)
		goto out;
	noise_mix_psk(&s, key, hs->psk);
	if (noise_seal(&s, msg->encrypted_nothing, NULL, 0, key) < 0)
		goto out;
	if ((r = s.err) < 0)
		goto out;
	wg_le32_write(&msg->type, WG_MSG_RESPONSE);
	wg_le32_write(&msg->sender, local_index);
	wg_le32_write(&msg->receiver, hs->remote_index);
	memcpy(hs->hash, s.h, WG_HASH_LEN);
	memcpy(hs->ck, s.ck, WG_HASH_LEN);
	hs->local_index = local_index;
	hs->state = WG_HS_CREATED_RESPONSE;
	r = 0;
out:
	noise_sym_wipe(&s);
	secure_wipe(key, sizeof(key));
	return r;
}

int wg_noise_response_create(struct wg_handshake *hs,
			     const struct wg_noise_local *local,
			     struct wg_msg_response *msg, uint32_t local_index)
{
	uint8_t e[WG_KEY_LEN];
	int r = wg_x25519_generate(e);

	if (r == 0)
		r = noise_response_create_e(hs, local, msg, local_index, e);
	secure_wipe(e, sizeof(e));
	return r;
}

int wg_noise_response_consume(struct wg_handshake *hs,
			      const struct wg_noise_local *local,
			      const struct wg_msg_response *msg)
{
	struct noise_sym s;
	uint8_t key[WG_KEY_LEN], empty[1];
	int r = -EINVAL;

	if (hs->state != WG_HS_CREATED_INITIATION || !local->has_key)
		return -EINVAL;
	noise_sym_from(&s, hs->ck, hs->hash);
	noise_mix_ephemeral(&s, msg->ephemeral);
	if (noise_mix_dh(&s, NULL, hs->e_priv, msg->ephemeral) < 0 ||
	    noise_mix_dh(&s, NULL, local->priv, msg->ephemeral) < 0)
		goto out;
	noise_mix_psk(&s, key, hs->psk);
	r = noise_open(&s, empty, msg->encrypted_nothing, 0, key);
	if (r == 0)
		r = s.err;
	if (r < 0)
		goto out;
	memcpy(hs->remote_e, msg->ephemeral, WG_KEY_LEN);
	memcpy(hs->hash, s.h, WG_HASH_LEN);
	memcpy(hs->ck, s.ck, WG_HASH_LEN);
	hs->remote_index = wg_le32_read(&msg->sender);
	hs->state = WG_HS_CONSUMED_RESPONSE;
out:
	noise_sym_wipe(&s);
	secure_wipe(key, sizeof(key));
	return r;
}

int wg_noise_derive(struct wg_handshake *hs, uint8_t send[WG_KEY_LEN],
		    uint8_t recv[WG_KEY_LEN], bool *initiator)
{
	int r;

	if (hs->state == WG_HS_CONSUMED_RESPONSE) {
		*initiator = true;
		r = wg_kdf(send, recv, NULL, hs->ck, NULL, 0);
	} else if (hs->state == WG_HS_CREATED_RESPONSE) {
		*initiator = false;
		r = wg_kdf(recv, send, NULL, hs->ck, NULL, 0);
	} else {
		return -EINVAL;
	}
	/* Without keys the handshake is over all the same: the next
	 * initiation starts afresh. */
	wg_noise_handshake_clear(hs);
	return r;
}
