/* allow.c - the agent's target allowlist (see allow.h for the rules). */
#include "agent/allow.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/stream_hdr.h"
#include "core/array.h"
#include "core/num.h"

void allow_init(struct allow *a)
{
	memset(a, 0, sizeof(*a));
}

void allow_free(struct allow *a)
{
	for (unsigned i = 0; i < a->nspecs; i++)
		free(a->specs[i]);
	free(a->v);
	allow_init(a);
}

static struct allow_entry *allow_push(struct allow *a)
{
	if (array_grow((void **)&a->v, a->n, &a->cap, sizeof(*a->v)) < 0)
		return NULL;
	memset(&a->v[a->n], 0, sizeof(a->v[0]));
	return &a->v[a->n++];
}

/* Parses "N" or "N-M" items separated by commas into e. */
static int allow_parse_ports(struct allow_entry *e, const char *s, char *err,
			     size_t errlen)
{
	while (*s) {
		const char *end = strchr(s, ','), *dash;
		size_t len = end ? (size_t)(end - s) : strlen(s);
		uint64_t lo, hi;

		if (e->nports == ALLOW_PORTS_MAX) {
			snprintf(err, errlen, "more than %d port items", ALLOW_PORTS_MAX);
			return -1;
		}
		dash = memchr(s, '-', len);
		if (dash ? num_parse_u64(s, (size_t)(dash - s), 1, 65535, &lo) ||
			   num_parse_u64(dash + 1, len - (size_t)(dash - s) - 1, 1, 65535, &hi)
			 : num_parse_u64(s, len, 1, 65535, &lo)) {
			snprintf(err, errlen, "bad port '%.*s' (1-65535, N or N-M)", (int)len, s);
			return -1;
		}
		if (!dash)
			hi = lo;
		if (lo > hi) {
			snprintf(err, errlen, "port range %.*s is backwards", (int)len, s);
			return -1;
		}
		e->port_lo[e->nports] = (uint16_t)lo;
		e->port_hi[e->nports++] = (uint16_t)hi;
		if (!end)
			break;
		s = end + 1;
		if (!*s) {
			snprintf(err, errlen, "empty port item");
			return -1;
		}
	}
	return 0;
}

static void allow_mask(uint8_t *addr, unsigned bytes, unsigned prefix)
{
	for (unsigned i = 0; i < bytes; i++) {
		unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
		if (bits < 8)
			addr[i] &= (uint8_t)(0xFF00u >> bits);
	}
}

/* "addr" or "addr/prefix" (IPv4 or IPv6) into e. Returns 0, 1 when it is
 * not an address at all (a name), -1 with err set. */
static int allow_parse_cidr(struct allow_entry *e, const char *s, char *err,
			    size_t errlen)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t prefix;

	if (hl >= sizeof(host))
		return 1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, e->addr) == 1)
		e->family = AF_INET;
	else if (inet_pton(AF_INET6, host, e->addr) == 1)
		e->family = AF_INET6;
	else
		return 1;
	unsigned maxp = e->family == AF_INET ? 32 : 128;
	if (slash && num_parse_cstr(slash + 1, 0, maxp, &prefix)) {
		snprintf(err, errlen, "bad prefix length in '%s' (0-%u)", s, maxp);
		return -1;
	}
	e->prefix = slash ? (unsigned)prefix : maxp;
	allow_mask(e->addr, maxp / 8, e->prefix);
	e->kind = ALLOW_ADDR;
	return 0;
}

static int allow_parse_name(struct allow_entry *e, const char *s, char *err,
			    size_t errlen)
{
	char low[ALLOW_NAME_MAX + 1];
	size_t n = strlen(s);

	if (n > 2 && s[0] == '*' && s[1] == '.') {
		e->wildcard = true;
		s += 2;
		n -= 2;
	}
	if (n > ALLOW_NAME_MAX)
		goto bad;
	for (size_t i = 0; i <= n; i++)
		low[i] = str_lower_ascii(s[i]);
	if (!stream_hdr_name_valid(str_make(low, n)))
		goto bad;
	memcpy(e->name, low, n + 1);
	e->kind = ALLOW_NAME;
	return 0;
bad:
	snprintf(err, errlen, "'%s' is neither an address, a CIDR, nor a host "
		 "name (NAME or *.SUFFIX)", s);
	return -1;
}

static const char *const allow_private[] = {
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", NULL
};
static const char *const allow_loopback[] = { "127.0.0.0/8", "::1/128", NULL };

/* Adds one entry per CIDR of a keyword, each with the same ports. */
static int allow_add_keyword(struct allow *a, const char *const *cidrs,
			     const struct allow_entry *ports, char *err,
			     size_t errlen)
{
	for (size_t i = 0; cidrs[i]; i++) {
		struct allow_entry *e = allow_push(a);
		if (!e) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		*e = *ports;
		allow_parse_cidr(e, cidrs[i], err, errlen);
	}
	return 0;
}

/* Splits spec into its host part (copied into host) and ports (or NULL). */
static int allow_split(const char *spec, char *host, size_t hostlen,
		       const char **ports, char *err, size_t errlen)
{
	const char *end, *colon;
	size_t n;

	*ports = NULL;
	if (spec[0] == '[') {
		end = strchr(spec, ']');
		if (!end || (end[1] && end[1] != ':')) {
			snprintf(err, errlen, "bad bracketed address '%s'", spec);
			return -1;
		}
		spec++;
		n = (size_t)(end - spec);
		if (end[1] == ':')
			*ports = end + 2;
	} else {
		colon = strchr(spec, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;	/* bare IPv6: no ports */
		n = colon ? (size_t)(colon - spec) : strlen(spec);
		if (colon)
			*ports = colon + 1;
	}
	if (n == 0 || n >= hostlen || (*ports && !**ports)) {
		snprintf(err, errlen, "bad entry '%s'", spec);
		return -1;
	}
	memcpy(host, spec, n);
	host[n] = '\0';
	return 0;
}

static int allow_add_entry(struct allow *a, const char *spec, char *err, size_t errlen)
{
	char host[ALLOW_NAME_MAX + 3];
	const char *ports;
	struct allow_entry e;
	int rc;

	memset(&e, 0, sizeof(e));
	if (allow_split(spec, host, sizeof(host), &ports, err, errlen) < 0)
		return -1;
	if (ports && allow_parse_ports(&e, ports, err, errlen) < 0)
		return -1;
	if (!strcmp(host, "private"))
		return allow_add_keyword(a, allow_private, &e, err, errlen);
	if (!strcmp(host, "loopback"))
		return allow_add_keyword(a, allow_loopback, &e, err, errlen);
	rc = allow_parse_cidr(&e, host, err, errlen);
	if (rc < 0)
		return -1;
	if (spec[0] == '[' && (rc > 0 || e.family != AF_INET6)) {
		snprintf(err, errlen, "'%s' in brackets is not an IPv6 address", host);
		return -1;
	}
	if (rc > 0 && allow_parse_name(&e, host, err, errlen) < 0)
		return -1;
	struct allow_entry *slot = allow_push(a);
	if (!slot) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*slot = e;
	return 0;
}

int allow_add(struct allow *a, const char *spec, char *err, size_t errlen)
{
	if (allow_add_entry(a, spec, err, errlen) < 0)
		return -1;
	/* The first ALLOW_SPECS_MAX as written, for the heartbeat. */
	if (a->nspecs < ALLOW_SPECS_MAX && strlen(spec) <= ALLOW_SPEC_LEN_MAX &&
	    (a->specs[a->nspecs] = strdup(spec)))
		a->nspecs++;
	return 0;
}

/* The address bytes and port of sa, with IPv4-mapped IPv6 unwrapped. */
static int allow_addr_of(const struct sockaddr *sa, uint8_t *addr,
			 uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;
		memcpy(addr, &s->sin_addr, 4);
		*port = ntohs(s->sin_port);
		return AF_INET;
	}
	if (sa->sa_family != AF_INET6)
		return AF_UNSPEC;
	const struct sockaddr_in6 *s = (const void *)sa;
	*port = ntohs(s->sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) {
		memcpy(addr, s->sin6_addr.s6_addr + 12, 4);
		return AF_INET;
	}
	memcpy(addr, &s->sin6_addr, 16);
	return AF_INET6;
}

int allow_deny_add(struct allow *a, const struct sockaddr *sa)
{
	struct allow_entry *e;
	uint16_t port;
	int fam;

	e = allow_push(a);
	if (!e)
		return -ENOMEM;
	fam = allow_addr_of(sa, e->addr, &port);
	if (fam == AF_UNSPEC) {
		a->n--;
		return -EAFNOSUPPORT;
	}
	e->kind = ALLOW_DENY;
	e->family = fam;
	e->prefix = fam == AF_INET ? 32 : 128;
	return 0;
}

static bool allow_port_ok(const struct allow_entry *e, uint16_t port)
{
	if (e->nports == 0)
		return true;
	for (unsigned i = 0; i < e->nports; i++)
		if (port >= e->port_lo[i] && port <= e->port_hi[i])
			return true;
	return false;
}

static bool allow_prefix_match(const uint8_t *net, const uint8_t *addr,
			       unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(net, addr, full) != 0)
		return false;
	return rest == 0 ||
	       ((net[full] ^ addr[full]) & (uint8_t)(0xFF00u >> rest)) == 0;
}

/* Addresses no entry can allow: nobody has a reason to dial them. */
static bool allow_never(int fam, const uint8_t *a)
{
	if (fam == AF_INET)
		return a[0] == 0 || a[0] >= 224;	/* this-net, multicast, reserved, broadcast */
	static const uint8_t zero[16];
	return a[0] == 0xFF || memcmp(a, zero, 16) == 0;
}

bool allow_addr_check(const struct allow *a, const struct sockaddr *sa)
{
	uint8_t addr[16];
	uint16_t port;
	bool ok = false;
	int fam = allow_addr_of(sa, addr, &port);

	if (fam == AF_UNSPEC || port == 0 || allow_never(fam, addr))
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct allow_entry *e = &a->v[i];
		if (e->kind == ALLOW_NAME || e->family != fam ||
		    !allow_prefix_match(e->addr, addr, e->prefix))
			continue;
		if (e->kind == ALLOW_DENY)
			return false;
		if (allow_port_ok(e, port))
			ok = true;
	}
	return ok;
}

static bool allow_name_match(const struct allow_entry *e, struct str name)
{
	size_t n = strlen(e->name);

	if (!e->wildcard)
		return name.len == n && memcmp(name.p, e->name, n) == 0;
	return name.len > n + 1 && name.p[name.len - n - 1] == '.' &&
	       memcmp(name.p + name.len - n, e->name, n) == 0;
}

bool allow_name_check(const struct allow *a, struct str name, uint16_t port)
{
	if (port == 0 || !stream_hdr_name_valid(name))
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct allow_entry *e = &a->v[i];
		if (e->kind == ALLOW_NAME && allow_name_match(e, name) &&
		    allow_port_ok(e, port))
			return true;
	}
	return false;
}
