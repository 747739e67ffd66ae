/* test_wg_uapi_device.c - the device behind the wg tool's API: set requests
 * (as parsed from text) change peers, keys and routes as wireguard-go
 * would, and get reports them back. */
#include <errno.h>

#include "unit.h"
#include "wg_net.h"

#include "core/buf.h"
#include "wg/uapi.h"

static char *hexkey(char out[65], uint8_t start)
{
	uint8_t k[32];

	seq32(k, start);
	enc_hex_encode(out, k, 32);
	return out;
}

static char *hexpub(char out[65], uint8_t start)
{
	uint8_t k[32], pub[32];

	seq32(k, start);
	k[0] &= 248;
	k[31] = (k[31] & 127) | 64;
	wg_x25519_public(pub, k);
	enc_hex_encode(out, pub, 32);
	return out;
}

static int apply(struct wg_device *dev, const char *text)
{
	struct uapi_set set;
	int r = uapi_parse_set(text, strlen(text), &set);

	if (r == 0) {
		r = wg_device_uapi_ops.set(dev, &set);
		uapi_set_free(&set);
	}
	return r;
}

/* The get answer as text (caller frees). */
static char *get_text(struct wg_device *dev)
{
	struct uapi_state st;
	struct buf b;
	char *s;

	buf_init(&b, 1 << 20);
	if (wg_device_uapi_ops.get(dev, &st) != 0)
		return NULL;
	uapi_format_get(&st, &b);
	uapi_state_free(&st);
	s = strndup((const char *)buf_head(&b), b.len);
	buf_free_secure(&b);
	return s;
}

static unsigned datagrams;

static void count_send(void *ctx, struct pkt_batch *b)
{
	(void)ctx;
	datagrams += b->n;
}

static struct wg_device *device(struct loop *loop)
{
	static const struct wg_outside_ops out = { count_send };
	struct wg_device_config cfg = { .outside = &out };
	struct wg_device *dev = NULL;

	CHECK_EQ_INT(wg_device_new(loop, &cfg, &dev), 0);
	return dev;
}

TEST(set_then_get_round_trip)
{
	struct loop *loop = loop_new();
	struct wg_device *dev = device(loop);
	char req[2048], k[65], p1[65], p2[65], psk[65], *t;

	snprintf(req, sizeof(req),
		 "private_key=%s\nlisten_port=51999\n"
		 "public_key=%s\npreshared_key=%s\nendpoint=192.0.2.7:5000\n"
		 "persistent_keepalive_interval=25\n"
		 "allowed_ip=10.1.2.3/24\nallowed_ip=fd00::1/64\n"
		 "public_key=%s\nendpoint=[2001:db8::9]:51820\nallowed_ip=10.9.0.0/16\n",
		 hexkey(k, 0x30), hexpub(p1, 0x50), hexkey(psk, 0x77),
		 hexpub(p2, 0x60));
	datagrams = 0;
	CHECK_EQ_INT(apply(dev, req), 0);
	CHECK_EQ_INT(wg_device_listen_port(dev), 51999);
	/* Turning persistent keepalive on starts a handshake at once. */
	CHECK_EQ_INT(datagrams, 1);
	t = get_text(dev);
	CHECK(t != NULL);
	if (!t)
		goto out;
	CHECK(strstr(t, "listen_port=51999\n") != NULL);
	CHECK(strstr(t, p1) && strstr(t, p2));
	CHECK(strstr(t, psk) != NULL);
	CHECK(strstr(t, "endpoint=192.0.2.7:5000\n") != NULL);
	CHECK(strstr(t, "endpoint=[2001:db8::9]:51820\n") != NULL);
	CHECK(strstr(t, "persistent_keepalive_interval=25\n") != NULL);
	/* Prefixes come back masked. */
	CHECK(strstr(t, "allowed_ip=10.1.2.0/24\n") != NULL);
	CHECK(strstr(t, "allowed_ip=fd00::/64\n") != NULL);
	CHECK(strstr(t, "allowed_ip=10.9.0.0/16\n") != NULL);
	CHECK(strstr(t, "last_handshake_time_sec=0\n") != NULL);
	free(t);
out:
	wg_device_free(dev);
	loop_free(loop);
}

TEST(peer_flags_remove_update_only_replace)
{
	struct loop *loop = loop_new();
	struct wg_device *dev = device(loop);
	char req[2048], k[65], p1[65], p2[65], p3[65], *t;

	hexpub(p1, 0x50);
	hexpub(p2, 0x60);
	hexpub(p3, 0x70);
	snprintf(req, sizeof(req), "private_key=%s\npublic_key=%s\nallowed_ip=10.0.0.1/32\n"
		 "public_key=%s\nallowed_ip=10.0.0.2/32\n", hexkey(k, 0x30), p1, p2);
	CHECK_EQ_INT(apply(dev, req), 0);
	CHECK_EQ_INT(dev->n_peers, 2);
	/* update_only does not create; remove removes; replace_allowed_ips. */
	snprintf(req, sizeof(req), "public_key=%s\nupdate_only=true\nallowed_ip=10.0.0.3/32\n"
		 "public_key=%s\nremove=true\n"
		 "public_key=%s\nreplace_allowed_ips=true\nallowed_ip=10.5.0.0/16\n",
		 p3, p2, p1);
	CHECK_EQ_INT(apply(dev, req), 0);
	CHECK_EQ_INT(dev->n_peers, 1);
	t = get_text(dev);
	CHECK(t && !strstr(t, p3) && !strstr(t, p2) && strstr(t, p1));
	CHECK(t && !strstr(t, "10.0.0.1/32") && strstr(t, "allowed_ip=10.5.0.0/16\n"));
	free(t);
	/* A prefix moves to the peer that claims it last. */
	snprintf(req, sizeof(req), "public_key=%s\nallowed_ip=10.5.0.0/16\n", p3);
	CHECK_EQ_INT(apply(dev, req), 0);
	struct in_addr a;
	inet_pton(AF_INET, "10.5.1.1", &a);
	struct wg_peer *owner = wg_allowedips_lookup(&dev->aips, AF_INET, &a);
	uint8_t pub3[32];
	enc_hex_decode(pub3, 32, p3, 64);
	CHECK(owner == wg_device_peer_lookup(dev, pub3));
	/* replace_peers drops everyone not listed again. */
	snprintf(req, sizeof(req), "replace_peers=true\npublic_key=%s\n", p2);
	CHECK_EQ_INT(apply(dev, req), 0);
	CHECK_EQ_INT(dev->n_peers, 1);
	CHECK(wg_device_peer_lookup(dev, pub3) == NULL);
	CHECK(wg_allowedips_lookup(&dev->aips, AF_INET, &a) == NULL);
	wg_device_free(dev);
	loop_free(loop);
}

TEST(own_key_and_key_removal)
{
	struct loop *loop = loop_new();
	struct wg_device *dev = device(loop);
	char req[2048], k[65], self[65], p1[65], *t;

	hexkey(k, 0x30);
	hexpub(self, 0x30);
	hexpub(p1, 0x50);
	/* A peer with our own public key is ignored. */
	snprintf(req, sizeof(req), "private_key=%s\npublic_key=%s\npublic_key=%s\n",
		 k, self, p1);
	CHECK_EQ_INT(apply(dev, req), 0);
	CHECK_EQ_INT(dev->n_peers, 1);
	t = get_text(dev);
	CHECK(t && strstr(t, "private_key=") && !strstr(t, self));
	free(t);
	/* A new private key equal to a peer's key removes that peer. */
	snprintf(req, sizeof(req), "private_key=%s\n", hexkey(k, 0x50));
	CHECK_EQ_INT(apply(dev, req), 0);
	CHECK_EQ_INT(dev->n_peers, 0);
	/* All zero removes the key. */
	snprintf(req, sizeof(req), "private_key=%064d\n", 0);
	CHECK_EQ_INT(apply(dev, req), 0);
	t = get_text(dev);
	CHECK(t && !strstr(t, "private_key="));
	free(t);
	/* The pre-shared key can be removed again with zeros. */
	snprintf(req, sizeof(req), "public_key=%s\npreshared_key=%s\n", p1, hexkey(k, 0x77));
	CHECK_EQ_INT(apply(dev, req), 0);
	snprintf(req, sizeof(req), "public_key=%s\npreshared_key=%064d\n", p1, 0);
	CHECK_EQ_INT(apply(dev, req), 0);
	t = get_text(dev);
	CHECK(t && !strstr(t, k));
	free(t);
	wg_device_free(dev);
	loop_free(loop);
}

int main(void)
{
	CHECK_EQ_INT(wg_crypto_init(), 0);
	RUN(set_then_get_round_trip);
	RUN(peer_flags_remove_update_only_replace);
	RUN(own_key_and_key_removal);
	return unit_done();
}
