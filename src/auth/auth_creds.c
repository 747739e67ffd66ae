/* auth_creds.c - the snapshot's route tokens and share links (see
 * auth_creds.h). */
#include "auth/auth_creds.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/array.h"
#include "core/enc.h"

struct auth_creds *auth_creds_new(void)
{
	return calloc(1, sizeof(struct auth_creds));
}

int auth_creds_add_token(struct auth_creds *t, int64_t id, uint64_t route_id,
			 const char *hash_hex)
{
	struct auth_route_token *k;

	if (!hash_hex || array_grow((void **)&t->tok, t->ntok, &t->captok, sizeof(*k)) < 0)
		return -1;
	k = &t->tok[t->ntok];
	memset(k, 0, sizeof(*k));
	if (enc_hex_decode(k->hash, sizeof(k->hash), hash_hex, strlen(hash_hex)) < 0)
		return -1;
	k->id = id;
	k->route_id = route_id;
	atomic_init(&k->used, 0);
	t->ntok++;
	return 0;
}

int auth_creds_add_share(struct auth_creds *t, const struct auth_share *s)
{
	if (t->nshare && t->share[t->nshare - 1].id >= s->id)
		return -1;
	return ARRAY_PUSH(t->share, t->nshare, t->capshare, s);
}

static int auth_creds_hash_cmp(const void *a, const void *b)
{
	return memcmp(((const struct auth_route_token *)a)->hash,
		      ((const struct auth_route_token *)b)->hash, 32);
}

void auth_creds_finish(struct auth_creds *t, const struct auth_creds *prev)
{
	/* (qsort and bsearch want an array even for none: none is done.) */
	if (!t->ntok)
		return;
	qsort(t->tok, t->ntok, sizeof(*t->tok), auth_creds_hash_cmp);
	for (size_t i = 0; prev && prev->ntok && i < t->ntok; i++) {
		struct auth_route_token *k = &t->tok[i];
		const struct auth_route_token *o = bsearch(k, prev->tok, prev->ntok,
							   sizeof(*k), auth_creds_hash_cmp);
		if (o && o->id == k->id) {
			atomic_store(&k->used, atomic_load(&o->used));
			k->flushed = o->flushed;
		}
	}
}

void auth_creds_free(struct auth_creds *t)
{
	if (!t)
		return;
	free(t->tok);
	free(t->share);
	free(t);
}

struct auth_route_token *auth_creds_token(const struct auth_creds *t, struct str tok)
{
	struct auth_route_token key;

	if (!t || !t->ntok)
		return NULL;
	EVP_Digest(tok.p, tok.len, key.hash, NULL, EVP_sha256(), NULL);
	return bsearch(&key, t->tok, t->ntok, sizeof(key), auth_creds_hash_cmp);
}

void auth_creds_touch(struct auth_route_token *k, int64_t now)
{
	/* Read first: a busy token costs no cache-line bouncing between
	 * workers within the same second. */
	if (atomic_load_explicit(&k->used, memory_order_relaxed) != now)
		atomic_store_explicit(&k->used, now, memory_order_relaxed);
}

static int auth_creds_share_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct auth_share *)a)->id, y = ((const struct auth_share *)b)->id;

	return x < y ? -1 : x > y;
}

bool auth_creds_share_ok(const struct auth_creds *t, struct auth_cookie_cache *cc,
			 const uint8_t key[AUTH_KEY_LEN], const char *host, struct str tok,
			 int64_t now, uint64_t route_id)
{
	const struct auth_share *s;
	struct auth_share want;
	struct auth_claims c;

	if (!t || !t->nshare || auth_cookie_verify(cc, key, host, tok, now, &c) < 0 ||
	    c.uid <= AUTH_SHARE_UID_BASE)
		return false;
	want.id = c.uid - AUTH_SHARE_UID_BASE;
	s = bsearch(&want, t->share, t->nshare, sizeof(want), auth_creds_share_cmp);
	return s && s->route_id == route_id && s->nonce == c.epoch && s->expires > now;
}

size_t auth_creds_dirty(struct auth_creds *t, auth_creds_used_fn *fn, void *arg)
{
	size_t n = 0;

	for (size_t i = 0; t && i < t->ntok; i++) {
		struct auth_route_token *k = &t->tok[i];
		long long used = atomic_load_explicit(&k->used, memory_order_relaxed);
		if (used > k->flushed) {
			fn(arg, k->id, used);
			k->flushed = used;
			n++;
		}
	}
	return n;
}
