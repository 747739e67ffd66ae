/* cookie.c - mac1/mac2 computation and checking, cookie replies. */
#include "wg/cookie.h"

#include <errno.h>
#include <string.h>

#include "core/secure.h"
#include "wg/proto.h"

static const char label_mac1[8] = "mac1----";
static const char label_cookie[8] = "cookie--";

/* The two keys derived from a public key: mac1's and the cookie box's. */
static int cookie_keys(struct wg_mac *mac1, uint8_t reply_key[WG_KEY_LEN],
		       const uint8_t pub[WG_KEY_LEN])
{
	uint8_t k[WG_HASH_LEN];
	int r;

	r = wg_hash(k, label_mac1, sizeof(label_mac1), pub, WG_KEY_LEN);
	r = r ? r : wg_mac_init(mac1, k, sizeof(k));
	r = r ? r : wg_hash(reply_key, label_cookie, sizeof(label_cookie), pub,
			    WG_KEY_LEN);
	secure_wipe(k, sizeof(k));
	return r;
}

int wg_cookie_checker_init(struct wg_cookie_checker *c,
			   const uint8_t pub[WG_KEY_LEN])
{
	int r = cookie_keys(&c->mac1, c->reply_key, pub);

	c->ready = r == 0;
	return r;
}

void wg_cookie_checker_free(struct wg_cookie_checker *c)
{
	wg_mac_free(&c->mac1);
	wg_mac_free(&c->secret);
	secure_wipe(c, sizeof(*c));
}

/* The cookie of a source address: MAC(secret, ip || port), the secret
 * being replaced every two minutes. */
static int cookie_compute(struct wg_cookie_checker *c,
			  uint8_t out[WG_MAC_LEN],
			  const struct wg_endpoint *ep, uint64_t now)
{
	const void *ip;
	size_t iplen;
	const uint16_t *port;

	if (!c->have_secret || now - c->secret_birth > WG_COOKIE_SECRET_MAX_AGE) {
		uint8_t secret[WG_KEY_LEN];
		int r = secure_random(secret, sizeof(secret));
		if (r == 0)
			r = wg_mac_init(&c->secret, secret, sizeof(secret));
		secure_wipe(secret, sizeof(secret));
		if (r < 0)
			return r;
		c->have_secret = true;
		c->secret_birth = now;
	}
	if (ep->addr.sa.sa_family == AF_INET) {
		ip = &ep->addr.in4.sin_addr;
		iplen = 4;
		port = &ep->addr.in4.sin_port;
	} else {
		ip = &ep->addr.in6.sin6_addr;
		iplen = 16;
		port = &ep->addr.in6.sin6_port;
	}
	return wg_mac_compute(&c->secret, out, ip, iplen, port, 2);
}

enum wg_mac_state wg_cookie_validate(struct wg_cookie_checker *c,
				     const uint8_t *msg, size_t len,
				     const struct wg_endpoint *ep,
				     bool check_cookie, uint64_t now)
{
	uint8_t mac[WG_MAC_LEN], cookie[WG_MAC_LEN];
	const uint8_t *mac1 = msg + len - 2 * WG_MAC_LEN;
	const uint8_t *mac2 = msg + len - WG_MAC_LEN;
	enum wg_mac_state st = WG_MAC_VALID_NO_COOKIE;

	if (!c->ready || len < 2 * WG_MAC_LEN ||
	    wg_mac_compute(&c->mac1, mac, msg, len - 2 * WG_MAC_LEN, NULL, 0) ||
	    !secure_eq(mac, mac1, WG_MAC_LEN))
		return WG_MAC_INVALID;
	if (!check_cookie)
		return st;
	if (cookie_compute(c, cookie, ep, now) == 0 &&
	    wg_mac_oneshot(mac, cookie, sizeof(cookie), msg,
			   len - WG_MAC_LEN) == 0 &&
	    secure_eq(mac, mac2, WG_MAC_LEN))
		st = WG_MAC_VALID_COOKIE;
	secure_wipe(cookie, sizeof(cookie));
	return st;
}

int wg_cookie_reply_create(struct wg_cookie_checker *c,
			   struct wg_msg_cookie *out, const uint8_t *msg,
			   size_t len, const struct wg_endpoint *ep,
			   uint64_t now)
{
	uint8_t cookie[WG_MAC_LEN];
	int r;

	wg_le32_write(&out->type, WG_MSG_COOKIE);
	/* Both handshake messages carry their sender index at offset 4. */
	memcpy(&out->receiver, msg + 4, 4);
	if ((r = secure_random(out->nonce, sizeof(out->nonce))) < 0 ||
	    (r = cookie_compute(c, cookie, ep, now)) < 0)
		return r;
	r = wg_xaead_seal(out->encrypted_cookie, cookie, sizeof(cookie),
			  out->nonce, c->reply_key,
			  msg + len - 2 * WG_MAC_LEN, WG_MAC_LEN);
	secure_wipe(cookie, sizeof(cookie));
	return r;
}

int wg_cookie_maker_init(struct wg_cookie_maker *m,
			 const uint8_t pub[WG_KEY_LEN])
{
	return cookie_keys(&m->mac1, m->reply_key, pub);
}

void wg_cookie_maker_free(struct wg_cookie_maker *m)
{
	wg_mac_free(&m->mac1);
	secure_wipe(m, sizeof(*m));
}

int wg_cookie_add_macs(struct wg_cookie_maker *m, uint8_t *msg, size_t len,
		       uint64_t now)
{
	uint8_t *mac1 = msg + len - 2 * WG_MAC_LEN;
	uint8_t *mac2 = msg + len - WG_MAC_LEN;

	if (wg_mac_compute(&m->mac1, mac1, msg, len - 2 * WG_MAC_LEN, NULL, 0))
		return -EIO;
	memcpy(m->last_mac1, mac1, WG_MAC_LEN);
	m->have_sent_mac1 = true;
	/* A cookie is good for two minutes at the receiver; stop using it a
	 * little earlier so it does not expire in flight. */
	if (m->have_cookie && now - m->cookie_birth <
	    WG_COOKIE_SECRET_MAX_AGE - WG_COOKIE_SECRET_LATENCY)
		return wg_mac_oneshot(mac2, m->cookie, WG_MAC_LEN, msg,
				      len - WG_MAC_LEN);
	memset(mac2, 0, WG_MAC_LEN);
	return 0;
}

int wg_cookie_reply_consume(struct wg_cookie_maker *m,
			    const struct wg_msg_cookie *msg, uint64_t now)
{
	uint8_t cookie[WG_MAC_LEN];

	if (!m->have_sent_mac1)
		return -EINVAL;
	if (wg_xaead_open(cookie, msg->encrypted_cookie, WG_MAC_LEN,
			  msg->nonce, m->reply_key, m->last_mac1,
			  WG_MAC_LEN) < 0)
		return -EBADMSG;
	memcpy(m->cookie, cookie, WG_MAC_LEN);
	secure_wipe(cookie, sizeof(cookie));
	m->have_cookie = true;
	m->cookie_birth = now;
	m->have_sent_mac1 = false;
	return 0;
}
