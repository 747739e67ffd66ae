/* uapi_format.c - the "get=1" answer of the userspace API.
 *
 * Keys in wireguard-go's order: device (private_key when set, listen_port
 * and fwmark when nonzero), then per peer public_key, preshared_key
 * (all-zero when none), protocol_version, endpoint (when known), handshake
 * time, byte counters, keepalive, allowed_ip lines. */
#include "wg/uapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/enc.h"
#include "core/secure.h"

static int uapi_put_key(struct buf *out, const char *name,
			const uint8_t key[UAPI_KEY_LEN])
{
	char hex[HEX_LEN(UAPI_KEY_LEN)];
	int r;

	/* Appended in pieces: buf_printf may stage the line in a heap copy. */
	enc_hex_encode(hex, key, UAPI_KEY_LEN);
	r = buf_append(out, name, strlen(name));
	if (r == 0)
		r = buf_append(out, "=", 1);
	if (r == 0)
		r = buf_append(out, hex, UAPI_KEY_LEN * 2);
	if (r == 0)
		r = buf_append(out, "\n", 1);
	secure_wipe(hex, sizeof(hex));
	return r;
}

/* "a.b.c.d:port" or "[v6]:port" ("[v6%scope]:port" when scoped). */
int uapi_format_endpoint(const struct wg_endpoint *ep, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	int n;

	if (ep->addr.sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &ep->addr.in4.sin_addr, host, sizeof(host));
		n = snprintf(out, cap, "%s:%u", host, ntohs(ep->addr.in4.sin_port));
	} else if (ep->addr.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &ep->addr.in6.sin6_addr, host, sizeof(host));
		if (ep->addr.in6.sin6_scope_id)
			n = snprintf(out, cap, "[%s%%%" PRIu32 "]:%u", host,
				     ep->addr.in6.sin6_scope_id,
				     ntohs(ep->addr.in6.sin6_port));
		else
			n = snprintf(out, cap, "[%s]:%u", host,
				     ntohs(ep->addr.in6.sin6_port));
	} else {
		return -EINVAL;
	}
	return n > 0 && (size_t)n < cap ? 0 : -ENOBUFS;
}

static int uapi_put_allowed_ip(struct buf *out, const struct uapi_allowed_ip *ip)
{
	char host[INET6_ADDRSTRLEN];

	if (!inet_ntop(ip->family, &ip->addr, host, sizeof(host)))
		return -EINVAL;
	return buf_printf(out, "allowed_ip=%s/%u\n", host, ip->cidr);
}

static int uapi_put_peer(struct buf *out, const struct uapi_peer_state *p)
{
	static const uint8_t zero[UAPI_KEY_LEN];
	char ep[INET6_ADDRSTRLEN + 24];
	int r;

	r = uapi_put_key(out, "public_key", p->public_key);
	if (r == 0)
		r = uapi_put_key(out, "preshared_key",
				 p->has_preshared_key ? p->preshared_key : zero);
	if (r == 0)
		r = buf_printf(out, "protocol_version=1\n");
	if (r == 0 && uapi_format_endpoint(&p->endpoint, ep, sizeof(ep)) == 0)
		r = buf_printf(out, "endpoint=%s\n", ep);
	if (r == 0)
		r = buf_printf(out, "last_handshake_time_sec=%" PRIu64 "\n"
			       "last_handshake_time_nsec=%" PRIu64 "\n"
			       "tx_bytes=%" PRIu64 "\nrx_bytes=%" PRIu64 "\n"
			       "persistent_keepalive_interval=%u\n",
			       p->last_handshake_sec, p->last_handshake_nsec,
			       p->tx_bytes, p->rx_bytes, p->persistent_keepalive);
	for (size_t i = 0; r == 0 && i < p->n_allowed_ips; i++)
		r = uapi_put_allowed_ip(out, &p->allowed_ips[i]);
	return r;
}

/* An upper bound of the answer's size, so the buffer is sized once: a
 * realloc would free a copy of the keys without wiping it. */
static size_t uapi_format_bound(const struct uapi_state *st)
{
	size_t n = 256 + st->n_peers * 512;

	for (size_t i = 0; i < st->n_peers; i++)
		n += st->peers[i].n_allowed_ips * 64;
	return n;
}

int uapi_format_get(const struct uapi_state *st, struct buf *out)
{
	int r = buf_reserve(out, uapi_format_bound(st));

	if (r < 0)
		return r;

	if (st->has_private_key)
		r = uapi_put_key(out, "private_key", st->private_key);
	if (r == 0 && st->listen_port)
		r = buf_printf(out, "listen_port=%u\n", st->listen_port);
	if (r == 0 && st->fwmark)
		r = buf_printf(out, "fwmark=%" PRIu32 "\n", st->fwmark);
	for (size_t i = 0; r == 0 && i < st->n_peers; i++)
		r = uapi_put_peer(out, &st->peers[i]);
	return r;
}

void uapi_state_free(struct uapi_state *st)
{
	UAPI_WIPE_FREE(st);
}
