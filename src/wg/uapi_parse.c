/* uapi_parse.c - the "set=1" request of the userspace API, validated whole.
 *
 * Keys and values as wireguard-go reads them, but nothing is applied
 * here: the request becomes a struct uapi_set, or an error and nothing.
 * Errors: -EPROTO for a line without '=', a device key after the first
 * public_key, a peer key before it, or protocol_version other than 1;
 * -EINVAL for an unknown key or a bad value. */
#include "wg/uapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/enc.h"
#include "core/num.h"
#include "core/secure.h"
#include "core/str.h"

struct uapi_parser {
	struct uapi_set *s;
	struct uapi_peer_set *peer;	/* current peer, or NULL: device */
	size_t cap_peers, cap_ips;
};

static bool uapi_key_is(struct str k, const char *name)
{
	return str_eq(k, str_cstr(name));
}

/* Hex key of exactly 32 bytes. */
static int uapi_parse_key(struct str v, uint8_t out[UAPI_KEY_LEN])
{
	return enc_hex_decode(out, UAPI_KEY_LEN, v.p, v.len) < 0 ? -EINVAL : 0;
}

static int uapi_parse_true(struct str v)
{
	return str_eq(v, STR_LIT("true")) ? 0 : -EINVAL;
}

static int uapi_parse_num(struct str v, uint64_t max, uint64_t *out)
{
	return num_parse_u64(v.p, v.len, 0, max, out) < 0 ? -EINVAL : 0;
}

/* Copies a view into a NUL-terminated bounded buffer for inet_pton. */
static int uapi_cstr(struct str v, char *out, size_t cap)
{
	if (v.len == 0 || v.len >= cap || memchr(v.p, '\0', v.len))
		return -EINVAL;
	memcpy(out, v.p, v.len);
	out[v.len] = '\0';
	return 0;
}

/* IPv6 scope: an interface index or name after '%'. */
static int uapi_parse_scope(struct str z, uint32_t *out)
{
	char name[IF_NAMESIZE];
	uint64_t n;

	if (num_parse_u64(z.p, z.len, 1, UINT32_MAX, &n) == 0) {
		*out = (uint32_t)n;
		return 0;
	}
	if (uapi_cstr(z, name, sizeof(name)) < 0)
		return -EINVAL;
	*out = if_nametoindex(name);
	return *out ? 0 : -EINVAL;
}

/* Numeric "a.b.c.d:port" or "[v6%scope]:port". */
static int uapi_parse_endpoint(struct str v, struct wg_endpoint *ep)
{
	char host[INET6_ADDRSTRLEN];
	struct str h, port;
	const char *colon;
	uint64_t pn;

	memset(ep, 0, sizeof(*ep));
	if (v.len && v.p[0] == '[') {
		const char *rb = memchr(v.p, ']', v.len);
		if (!rb || rb + 1 == v.p + v.len || rb[1] != ':')
			return -EINVAL;
		h = str_make(v.p + 1, (size_t)(rb - v.p - 1));
		port = str_make(rb + 2, (size_t)(v.p + v.len - rb - 2));
		const char *pct = memchr(h.p, '%', h.len);
		if (pct) {
			struct str z = str_make(pct + 1, (size_t)(h.p + h.len - pct - 1));
			if (uapi_parse_scope(z, &ep->addr.in6.sin6_scope_id) < 0)
				return -EINVAL;
			h.len = (size_t)(pct - h.p);
		}
		if (uapi_cstr(h, host, sizeof(host)) < 0 ||
		    inet_pton(AF_INET6, host, &ep->addr.in6.sin6_addr) != 1)
			return -EINVAL;
		ep->addr.in6.sin6_family = AF_INET6;
	} else {
		colon = v.len ? memchr(v.p, ':', v.len) : NULL;
		if (!colon)
			return -EINVAL;
		h = str_make(v.p, (size_t)(colon - v.p));
		port = str_make(colon + 1, (size_t)(v.p + v.len - colon - 1));
		if (uapi_cstr(h, host, sizeof(host)) < 0 ||
		    inet_pton(AF_INET, host, &ep->addr.in4.sin_addr) != 1)
			return -EINVAL;
		ep->addr.in4.sin_family = AF_INET;
	}
	if (num_parse_u64(port.p, port.len, 1, 65535, &pn) < 0) {
		memset(ep, 0, sizeof(*ep));
		return -EINVAL;
	}
	/* sin_port and sin6_port share their offset. */
	ep->addr.in4.sin_port = htons((uint16_t)pn);
	return 0;
}

/* "addr/cidr", IPv4 or IPv6, no scope. */
static int uapi_parse_allowed_ip(struct str v, struct uapi_allowed_ip *ip)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = v.len ? memchr(v.p, '/', v.len) : NULL;
	struct str a, c;
	uint64_t cidr;

	memset(ip, 0, sizeof(*ip));
	if (!slash)
		return -EINVAL;
	a = str_make(v.p, (size_t)(slash - v.p));
	c = str_make(slash + 1, (size_t)(v.p + v.len - slash - 1));
	if (uapi_cstr(a, host, sizeof(host)) < 0)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &ip->addr.in4) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, host, &ip->addr.in6) == 1)
		ip->family = AF_INET6;
	else
		return -EINVAL;
	if (num_parse_u64(c.p, c.len, 0, ip->family == AF_INET ? 32 : 128,
			  &cidr) < 0)
		return -EINVAL;
	ip->cidr = (uint8_t)cidr;
	return 0;
}

/* Grows *arr (of *cap elements of `size`) to hold one more than n.
 * Returns 0 or -ENOMEM (also when the size would overflow). */
static int uapi_grow(void **arr, size_t *cap, size_t n, size_t size)
{
	return array_grow(arr, n, cap, size) < 0 ? -ENOMEM : 0;
}

static int uapi_device_line(struct uapi_parser *ps, struct str k, struct str v)
{
	struct uapi_set *s = ps->s;
	uint64_t n;
	int r;

	if (uapi_key_is(k, "private_key")) {
		r = uapi_parse_key(v, s->private_key);
		s->has_private_key = r == 0;
	} else if (uapi_key_is(k, "listen_port")) {
		r = uapi_parse_num(v, 65535, &n);
		s->listen_port = (uint16_t)n;
		s->has_listen_port = r == 0;
	} else if (uapi_key_is(k, "fwmark")) {
		r = uapi_parse_num(v, UINT32_MAX, &n);
		s->fwmark = (uint32_t)n;
		s->has_fwmark = r == 0;
	} else if (uapi_key_is(k, "replace_peers")) {
		r = uapi_parse_true(v);
		s->replace_peers = r == 0;
	} else {
		return -EINVAL;
	}
	return r;
}

static bool uapi_is_device_key(struct str k)
{
	return uapi_key_is(k, "private_key") || uapi_key_is(k, "listen_port") ||
	       uapi_key_is(k, "fwmark") || uapi_key_is(k, "replace_peers");
}

static bool uapi_is_peer_key(struct str k)
{
	static const char *const keys[] = {
		"remove", "update_only", "preshared_key", "endpoint",
		"persistent_keepalive_interval", "replace_allowed_ips",
		"allowed_ip", "protocol_version",
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (uapi_key_is(k, keys[i]))
			return true;
	return false;
}

static int uapi_peer_allowed_ip(struct uapi_parser *ps, struct str v)
{
	struct uapi_peer_set *p = ps->peer;
	int r;

	r = uapi_grow((void **)&p->allowed_ips, &ps->cap_ips, p->n_allowed_ips,
		      sizeof(*p->allowed_ips));
	if (r == 0)
		r = uapi_parse_allowed_ip(v, &p->allowed_ips[p->n_allowed_ips]);
	if (r == 0)
		p->n_allowed_ips++;
	return r;
}

static int uapi_peer_line(struct uapi_parser *ps, struct str k, struct str v)
{
	struct uapi_peer_set *p = ps->peer;
	uint64_t n;
	int r;

	if (uapi_key_is(k, "remove")) {
		p->remove = (r = uapi_parse_true(v)) == 0;
	} else if (uapi_key_is(k, "update_only")) {
		p->update_only = (r = uapi_parse_true(v)) == 0;
	} else if (uapi_key_is(k, "preshared_key")) {
		p->has_preshared_key = (r = uapi_parse_key(v, p->preshared_key)) == 0;
	} else if (uapi_key_is(k, "endpoint")) {
		p->has_endpoint = (r = uapi_parse_endpoint(v, &p->endpoint)) == 0;
	} else if (uapi_key_is(k, "persistent_keepalive_interval")) {
		r = uapi_parse_num(v, 65535, &n);
		p->persistent_keepalive = (uint16_t)n;
		p->has_keepalive = r == 0;
	} else if (uapi_key_is(k, "replace_allowed_ips")) {
		r = uapi_parse_true(v);
		if (r == 0) {
			/* Addresses listed before it in this request go too. */
			p->replace_allowed_ips = true;
			p->n_allowed_ips = 0;
		}
	} else if (uapi_key_is(k, "allowed_ip")) {
		r = uapi_peer_allowed_ip(ps, v);
	} else if (uapi_key_is(k, "protocol_version")) {
		r = str_eq(v, STR_LIT("1")) ? 0 : -EPROTO;
	} else {
		r = -EINVAL;
	}
	return r;
}

static int uapi_new_peer(struct uapi_parser *ps, struct str v)
{
	struct uapi_set *s = ps->s;
	struct uapi_peer_set *p;
	int r;

	r = uapi_grow((void **)&s->peers, &ps->cap_peers, s->n_peers,
		      sizeof(*s->peers));
	if (r < 0)
		return r;
	p = &s->peers[s->n_peers];
	memset(p, 0, sizeof(*p));
	s->n_peers++;		/* counted now so uapi_set_free sees it */
	ps->peer = p;
	ps->cap_ips = 0;
	return uapi_parse_key(v, p->public_key);
}

static int uapi_line(struct uapi_parser *ps, struct str line)
{
	const char *eq = memchr(line.p, '=', line.len);
	struct str k, v;

	if (!eq)
		return -EPROTO;
	k = str_make(line.p, (size_t)(eq - line.p));
	v = str_make(eq + 1, (size_t)(line.p + line.len - eq - 1));
	if (uapi_key_is(k, "public_key"))
		return uapi_new_peer(ps, v);
	if (!ps->peer) {
		if (uapi_is_peer_key(k))
			return -EPROTO;
		return uapi_device_line(ps, k, v);
	}
	if (uapi_is_device_key(k))
		return -EPROTO;
	return uapi_peer_line(ps, k, v);
}

int uapi_parse_set(const char *text, size_t len, struct uapi_set *out)
{
	struct uapi_parser ps = { .s = out };
	size_t i = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (len > UAPI_REQUEST_MAX)
		return -EINVAL;
	while (i < len && r == 0) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		struct str line = str_make(text + i, end - i);
		/* A blank line ends a request: it cannot be inside one. */
		r = line.len ? uapi_line(&ps, line) : -EINVAL;
		i = end + 1;
	}
	if (r < 0)
		uapi_set_free(out);
	return r;
}

void uapi_set_free(struct uapi_set *s)
{
	UAPI_WIPE_FREE(s);
}
