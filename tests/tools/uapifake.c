/* uapifake - the UAPI server in front of an in-memory device, so the stock
 * `wg` tool can be tested against the server without the protocol.
 *
 *   uapifake NAME
 *
 * Serves /var/run/wireguard/NAME.sock until SIGTERM. The device applies a
 * set request to a copy and keeps it only if every step succeeds, like a
 * real device must. listen_port=1 fails with EADDRINUSE, to test that a
 * device error leaves the state unchanged. Allowed IPs are stored masked
 * and unique across peers, as cryptokey routing does. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/secure.h"
#include "wg/uapi.h"

#define FAKE_PEERS 64
#define FAKE_IPS 64

struct fake_peer {
	uint8_t pub[UAPI_KEY_LEN];
	bool has_psk;
	uint8_t psk[UAPI_KEY_LEN];
	struct wg_endpoint ep;
	uint16_t keepalive;
	size_t nips;
	struct uapi_allowed_ip ips[FAKE_IPS];
};

struct fake_dev {
	bool has_priv;
	uint8_t priv[UAPI_KEY_LEN];
	uint16_t port;
	uint32_t fwmark;
	size_t npeers;
	struct fake_peer peers[FAKE_PEERS];
};

static struct fake_dev dev, work;
static volatile sig_atomic_t stop;

static bool is_zero(const uint8_t *k)
{
	static const uint8_t zero[UAPI_KEY_LEN];

	return secure_eq(k, zero, UAPI_KEY_LEN);
}

static void ip_mask(struct uapi_allowed_ip *ip)
{
	uint8_t *b = (uint8_t *)&ip->addr;
	unsigned bits = ip->family == AF_INET ? 32 : 128;

	for (unsigned i = ip->cidr; i < bits; i++)
		b[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
}

static bool ip_same(const struct uapi_allowed_ip *a, const struct uapi_allowed_ip *b)
{
	return a->family == b->family && a->cidr == b->cidr &&
	       !memcmp(&a->addr, &b->addr, a->family == AF_INET ? 4 : 16);
}

/* Removes `ip` from every peer (it moves to the one adding it). */
static void ip_unlink(struct fake_dev *d, const struct uapi_allowed_ip *ip)
{
	for (size_t i = 0; i < d->npeers; i++) {
		struct fake_peer *p = &d->peers[i];
		for (size_t j = 0; j < p->nips; j++)
			if (ip_same(&p->ips[j], ip))
				p->ips[j--] = p->ips[--p->nips];
	}
}

static struct fake_peer *peer_find(struct fake_dev *d, const uint8_t *pub)
{
	for (size_t i = 0; i < d->npeers; i++)
		if (!memcmp(d->peers[i].pub, pub, UAPI_KEY_LEN))
			return &d->peers[i];
	return NULL;
}

static int peer_apply(struct fake_dev *d, const struct uapi_peer_set *ps)
{
	struct fake_peer *p = peer_find(d, ps->public_key);

	if (ps->remove) {
		if (p)
			*p = d->peers[--d->npeers];
		return 0;
	}
	if (!p) {
		if (ps->update_only)
			return 0;
		if (d->npeers == FAKE_PEERS)
			return -ENOSPC;
		p = &d->peers[d->npeers++];
		memset(p, 0, sizeof(*p));
		memcpy(p->pub, ps->public_key, UAPI_KEY_LEN);
	}
	if (ps->has_preshared_key) {
		p->has_psk = !is_zero(ps->preshared_key);
		memcpy(p->psk, ps->preshared_key, UAPI_KEY_LEN);
	}
	if (ps->has_endpoint)
		p->ep = ps->endpoint;
	if (ps->has_keepalive)
		p->keepalive = ps->persistent_keepalive;
	if (ps->replace_allowed_ips)
		p->nips = 0;
	for (size_t i = 0; i < ps->n_allowed_ips; i++) {
		struct uapi_allowed_ip ip = ps->allowed_ips[i];
		ip_mask(&ip);
		ip_unlink(d, &ip);
		if (p->nips == FAKE_IPS)
			return -ENOSPC;
		p->ips[p->nips++] = ip;
	}
	return 0;
}

static int fake_set(void *ctx, const struct uapi_set *s)
{
	int r = 0;

	(void)ctx;
	work = dev;
	if (s->has_private_key) {
		work.has_priv = !is_zero(s->private_key);
		memcpy(work.priv, s->private_key, UAPI_KEY_LEN);
	}
	if (s->has_listen_port) {
		if (s->listen_port == 1)
			r = -EADDRINUSE;
		work.port = s->listen_port;
	}
	if (s->has_fwmark)
		work.fwmark = s->fwmark;
	if (s->replace_peers)
		work.npeers = 0;
	for (size_t i = 0; r == 0 && i < s->n_peers; i++)
		r = peer_apply(&work, &s->peers[i]);
	if (r == 0)
		dev = work;
	secure_wipe(&work, sizeof(work));
	return r;
}

static int fake_get(void *ctx, struct uapi_state *st)
{
	(void)ctx;
	st->has_private_key = dev.has_priv;
	memcpy(st->private_key, dev.priv, UAPI_KEY_LEN);
	st->listen_port = dev.port;
	st->fwmark = dev.fwmark;
	st->peers = calloc(dev.npeers ? dev.npeers : 1, sizeof(*st->peers));
	if (!st->peers)
		return -ENOMEM;
	st->n_peers = dev.npeers;
	for (size_t i = 0; i < dev.npeers; i++) {
		const struct fake_peer *p = &dev.peers[i];
		struct uapi_peer_state *o = &st->peers[i];
		memcpy(o->public_key, p->pub, UAPI_KEY_LEN);
		o->has_preshared_key = p->has_psk;
		memcpy(o->preshared_key, p->psk, UAPI_KEY_LEN);
		o->endpoint = p->ep;
		o->persistent_keepalive = p->keepalive;
		o->allowed_ips = calloc(p->nips ? p->nips : 1, sizeof(*o->allowed_ips));
		if (!o->allowed_ips)
			return -ENOMEM;
		memcpy(o->allowed_ips, p->ips, p->nips * sizeof(*p->ips));
		o->n_allowed_ips = p->nips;
	}
	return 0;
}

static const struct uapi_device_ops fake_ops = { fake_get, fake_set };

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct uapi_server *srv;
	struct loop *l;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: uapifake NAME\n");
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	l = loop_new();
	if (!l)
		return 1;
	r = uapi_server_start(l, argv[1], &fake_ops, NULL, &srv);
	if (r < 0) {
		fprintf(stderr, "uapifake: %s\n", strerror(-r));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		loop_run_once(l, 100 * 1000000ull);
	uapi_server_stop(srv);
	loop_free(l);
	secure_wipe(&dev, sizeof(dev));
	return 0;
}
