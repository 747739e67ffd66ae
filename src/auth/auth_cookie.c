/* auth_cookie.c - signed, host-bound, expiring session tokens (see
 * auth_cookie.h). Runs on the workers (verify) and the control thread
 * (mint); keeps no state. */
#include "auth/auth_cookie.h"

#include <stdio.h>
#include <string.h>

#include "core/enc.h"
#include "core/num.h"
#include "core/secure.h"

#define AUTH_MAC_LEN AUTH_MAC_SHA256_LEN
#define AUTH_MAC_B64 43		/* base64url of 32 bytes, no padding */
#define AUTH_UID_MAX 0x7fffffffffffffffULL
#define AUTH_EXP_MAX 0xffffffffffULL

int auth_host_norm(struct str host, char *out)
{
	size_t n = host.len;
	const char *colon;

	if (n && host.p[0] == '[') {
		const char *rb = memchr(host.p, ']', n);
		n = rb ? (size_t)(rb - host.p) + 1 : n;
	} else if ((colon = n ? memchr(host.p, ':', n) : NULL)) {
		n = (size_t)(colon - host.p);
	}
	if (n && host.p[n - 1] == '.')
		n--;
	if (n == 0 || n > AUTH_HOST_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = str_lower_ascii(host.p[i]);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-.[]:_", c)))
			return -1;
		out[i] = c;
	}
	out[n] = 0;
	return (int)n;
}

/* The MAC's domain tags: one per kind of token, so that a token of one
 * kind never verifies as another, whatever host it names (a pending
 * token proves a password only; presented as a session it would skip the
 * second factor). Both are AUTH_TAG_LEN bytes with the NUL. */
#define AUTH_TAG_LEN 16
static const char auth_tag_session[AUTH_TAG_LEN] = "postern-session";
static const char auth_tag_pending[AUTH_TAG_LEN] = "postern-pending";

/* HMAC over the domain tag, the host and the claims' text, with m's
 * context (NULL: one for this call). */
static void auth_cookie_mac(struct auth_mac *m, const char tag[AUTH_TAG_LEN],
			    const uint8_t key[AUTH_KEY_LEN], const char *host,
			    const char *claims, size_t clen, uint8_t mac[AUTH_MAC_LEN])
{
	uint8_t msg[AUTH_TAG_LEN + AUTH_HOST_MAX + 1 + AUTH_TOKEN_MAX];
	size_t hl = strlen(host), n = 0;

	memcpy(msg, tag, AUTH_TAG_LEN);	/* with its NUL */
	n = AUTH_TAG_LEN;
	memcpy(msg + n, host, hl);
	n += hl;
	msg[n++] = 0;
	memcpy(msg + n, claims, clen);
	n += clen;
	auth_mac_sha256(m, key, msg, n, mac);	/* zeroed on failure: verifies nothing */
}

int64_t auth_session_id_new(void)
{
	uint64_t r = 0;

	if (secure_random(&r, sizeof(r)) < 0)
		return 0;
	r &= AUTH_UID_MAX;
	return r ? (int64_t)r : 1;
}

/* auth_cookie_mint under domain tag `tag`. */
static int auth_token_mint(struct auth_mac *m, const char tag[AUTH_TAG_LEN],
			   const uint8_t key[AUTH_KEY_LEN], const char *host,
			   const struct auth_claims *c, char *out)
{
	uint8_t mac[AUTH_MAC_LEN];
	int n;

	if (c->uid <= 0 || c->exp < 0 || c->seen < 0 || c->sid < 0 ||
	    strlen(host) > AUTH_HOST_MAX)
		return -1;
	n = snprintf(out, AUTH_TOKEN_MAX, "%c.%lld.%u.%lld.%lld.%lld.", c->passkey ? '2' : '1',
		     (long long)c->uid, (unsigned)c->epoch, (long long)c->exp,
		     (long long)c->seen, (long long)c->sid);
	if (n < 0 || (size_t)n + AUTH_MAC_B64 + 1 > AUTH_TOKEN_MAX)
		return -1;
	auth_cookie_mac(m, tag, key, host, out, (size_t)n - 1, mac);
	enc_b64url_encode(out + n, mac, sizeof(mac));
	return n + AUTH_MAC_B64;
}

int auth_cookie_mint(struct auth_mac *m, const uint8_t key[AUTH_KEY_LEN], const char *host,
		     const struct auth_claims *c, char *out)
{
	return auth_token_mint(m, auth_tag_session, key, host, c, out);
}

int auth_pending_mint(const uint8_t key[AUTH_KEY_LEN], const char *host,
		      const struct auth_claims *c, char *out)
{
	return auth_token_mint(NULL, auth_tag_pending, key, host, c, out);
}

/* Splits the next '.'-terminated field off *t. */
static bool auth_cookie_field(struct str *t, struct str *f)
{
	const char *dot = memchr(t->p, '.', t->len);

	if (!dot)
		return false;
	*f = str_make(t->p, (size_t)(dot - t->p));
	t->p = dot + 1;
	t->len -= f->len + 1;
	return true;
}

/* The slot of a token: from its last bytes, the MAC's (random for a
 * token we minted; a forged one only picks which entry to evict). */
static struct auth_seen *auth_seen_slot(struct auth_cookie_cache *cc, struct str tok)
{
	uint32_t h = 2166136261u;

	for (size_t i = tok.len > 8 ? tok.len - 8 : 0; i < tok.len; i++)
		h = (h ^ (uint8_t)tok.p[i]) * 16777619u;
	return &cc->seen[h % AUTH_SEEN_SLOTS];
}

/* The entry that holds exactly `tok` for `host` under `key`, or NULL. */
static const struct auth_seen *auth_seen_find(struct auth_cookie_cache *cc,
					      const uint8_t key[AUTH_KEY_LEN],
					      const char *host, struct str tok)
{
	const struct auth_seen *e;

	if (memcmp(cc->key, key, AUTH_KEY_LEN) != 0) {	/* our own copy of a key */
		auth_cookie_cache_clear(cc);
		memcpy(cc->key, key, AUTH_KEY_LEN);
		return NULL;
	}
	e = auth_seen_slot(cc, tok);
	if (!e->len || e->len != tok.len || !secure_eq(e->tok, tok.p, tok.len) ||
	    strcmp(e->host, host) != 0)
		return NULL;
	return e;
}

/* auth_cookie_verify under domain tag `tag`; cc only with the session
 * tag (its entries are sessions). */
static int auth_token_verify(struct auth_cookie_cache *cc, const char tag[AUTH_TAG_LEN],
			     const uint8_t key[AUTH_KEY_LEN], const char *host, struct str tok,
			     int64_t now, struct auth_claims *c)
{
	struct str t = tok, ver, uid, ep, exp, seen, sid;
	uint64_t u, e, x, sn, id;
	uint8_t mac[AUTH_MAC_LEN], want[AUTH_MAC_LEN];
	char claims[AUTH_TOKEN_MAX];
	const struct auth_seen *hit;
	struct auth_seen *slot;
	size_t clen;
	bool ok;

	if (tok.len >= AUTH_TOKEN_MAX || strlen(host) > AUTH_HOST_MAX)
		return -1;
	if (cc && (hit = auth_seen_find(cc, key, host, tok))) {
		if (hit->c.exp <= now)
			return -1;
		*c = hit->c;
		return 0;
	}
	if (!auth_cookie_field(&t, &ver) ||
	    !auth_cookie_field(&t, &uid) || !auth_cookie_field(&t, &ep) ||
	    !auth_cookie_field(&t, &exp) || !auth_cookie_field(&t, &seen) ||
	    !auth_cookie_field(&t, &sid) ||
	    (!str_eq(ver, STR_LIT("1")) && !str_eq(ver, STR_LIT("2"))) ||
	    t.len != AUTH_MAC_B64 ||
	    num_parse_u64(uid.p, uid.len, 1, AUTH_UID_MAX, &u) < 0 ||
	    num_parse_u64(ep.p, ep.len, 0, UINT32_MAX, &e) < 0 ||
	    num_parse_u64(exp.p, exp.len, 0, AUTH_EXP_MAX, &x) < 0 ||
	    num_parse_u64(seen.p, seen.len, 0, AUTH_EXP_MAX, &sn) < 0 ||
	    num_parse_u64(sid.p, sid.len, 0, AUTH_UID_MAX, &id) < 0 ||
	    enc_b64url_decode(mac, sizeof(mac), t.p, t.len) != AUTH_MAC_LEN)
		return -1;
	clen = (size_t)(t.p - tok.p) - 1;
	memcpy(claims, tok.p, clen);
	auth_cookie_mac(cc ? &cc->mac : NULL, tag, key, host, claims, clen, want);
	ok = secure_eq(mac, want, sizeof(mac));
	if (!ok || (int64_t)x <= now)
		return -1;
	c->uid = (int64_t)u;
	c->epoch = (uint32_t)e;
	c->exp = (int64_t)x;
	c->seen = (int64_t)sn;
	c->sid = (int64_t)id;
	c->passkey = ver.p[0] == '2';
	if (cc) {
		slot = auth_seen_slot(cc, tok);
		memcpy(slot->tok, tok.p, tok.len);
		slot->len = tok.len;
		memcpy(slot->host, host, strlen(host) + 1);
		slot->c = *c;
	}
	return 0;
}

int auth_cookie_verify(struct auth_cookie_cache *cc, const uint8_t key[AUTH_KEY_LEN],
		       const char *host, struct str tok, int64_t now, struct auth_claims *c)
{
	return auth_token_verify(cc, auth_tag_session, key, host, tok, now, c);
}

int auth_pending_verify(const uint8_t key[AUTH_KEY_LEN], const char *host, struct str tok,
			int64_t now, struct auth_claims *c)
{
	return auth_token_verify(NULL, auth_tag_pending, key, host, tok, now, c);
}

void auth_cookie_cache_clear(struct auth_cookie_cache *cc)
{
	auth_mac_clear(&cc->mac);
	secure_wipe(cc, sizeof(*cc));	/* ctx is NULL now: a zeroed struct */
}

bool auth_idle_ok(int64_t idle, int64_t seen, int64_t now)
{
	return idle <= 0 || now - seen <= idle;
}

bool auth_state_next(struct str *v, struct str *tok)
{
	while (v->len) {
		const char *dot = memchr(v->p, '.', v->len);
		size_t n = dot ? (size_t)(dot - v->p) : v->len;

		*tok = str_make(v->p, n);
		*v = dot ? str_make(dot + 1, v->len - n - 1) : STR_NULL;
		if (n == AUTH_STATE_LEN && enc_b64url_chars(tok->p, n))
			return true;
	}
	return false;
}

bool auth_cookie_find(struct str v, struct str name, struct str *val)
{
	while (v.len) {
		const char *semi = memchr(v.p, ';', v.len);
		size_t n = semi ? (size_t)(semi - v.p) : v.len;
		struct str pair = str_trim_ows(str_make(v.p, n));
		const char *eq = memchr(pair.p, '=', pair.len);

		v = semi ? str_make(semi + 1, v.len - n - 1) : STR_NULL;
		if (!eq || !str_eq(str_trim_ows(str_make(pair.p, (size_t)(eq - pair.p))), name))
			continue;
		*val = str_trim_ows(str_make(eq + 1, pair.len - (size_t)(eq - pair.p) - 1));
		return true;
	}
	return false;
}
