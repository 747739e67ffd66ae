/* addr.c - socket address and CIDR parsing. */
#include "core/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/num.h"

bool addr_host_name_ok(const char *s, size_t n, unsigned min_labels)
{
	size_t label = 0;
	unsigned labels = 1;

	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			labels++;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      (ch == '-' && label > 0)) || ++label > 63)
			return false;
	}
	return label > 0 && s[n - 1] != '-' && labels >= min_labels;
}

static int addr_set(struct addr *a, const char *ip, uint16_t port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->ss;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		a->len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		a->len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

/* Splits "host:port" / "[v6]:port" into host (copied to buf) and port. */
static int addr_split(const char *s, char *host, size_t cap, uint16_t *port)
{
	const char *colon, *h = s, *he;
	uint64_t p;

	if (s[0] == '[') {
		he = strchr(s, ']');
		if (!he || he[1] != ':')
			return -EINVAL;
		h = s + 1;
		colon = he + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		he = colon;
	}
	if ((size_t)(he - h) >= cap || he == h)
		return -EINVAL;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	if (num_parse_cstr(colon + 1, 1, 65535, &p) < 0)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

int addr_parse(const char *s, struct addr *a)
{
	char host[INET6_ADDRSTRLEN];
	uint16_t port;

	if (addr_split(s, host, sizeof(host), &port) < 0)
		return -EINVAL;
	return addr_set(a, host, port);
}

int addr_resolve(const char *host, uint16_t port, struct addr *a)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;

	if (addr_set(a, host, port) == 0)
		return 0;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return -ENOENT;
	memset(a, 0, sizeof(*a));
	memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
	a->len = res->ai_addrlen;
	if (a->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
	freeaddrinfo(res);
	return 0;
}

/* The address bytes: 4 for IPv4 (also v4-mapped IPv6), 16 for IPv6. */
static const uint8_t *addr_bytes(const struct addr *a, int *family)
{
	if (a->ss.ss_family == AF_INET) {
		*family = AF_INET;
		return (const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr;
	}
	if (a->ss.ss_family == AF_INET6) {
		const struct in6_addr *in6 = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(in6)) {
			*family = AF_INET;
			return in6->s6_addr + 12;
		}
		*family = AF_INET6;
		return in6->s6_addr;
	}
	*family = 0;
	return NULL;
}

void addr_ip_str(const struct addr *a, char *out, size_t cap)
{
	int fam;
	const uint8_t *b = addr_bytes(a, &fam);

	if (!b || !inet_ntop(fam, b, out, (socklen_t)cap))
		snprintf(out, cap, "%s", "");
}

uint32_t addr_ip_hash(const struct addr *a)
{
	int fam;
	const uint8_t *b = addr_bytes(a, &fam);
	uint32_t h = 2166136261u;
	size_t n = fam == AF_INET ? 4 : fam == AF_INET6 ? 16 : 0;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

bool addr_eq(const struct addr *a, const struct addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

int addr_cidr_parse(const char *s, size_t len, struct cidr *c)
{
	char ip[INET6_ADDRSTRLEN + 4];
	const char *slash = memchr(s, '/', len);
	size_t iplen = slash ? (size_t)(slash - s) : len;
	uint64_t pfx;

	if (iplen == 0 || iplen >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, ip, c->net) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, c->net) == 1)
		c->family = AF_INET6;
	else
		return -EINVAL;
	pfx = c->family == AF_INET ? 32 : 128;
	if (slash && num_parse_u64(slash + 1, len - iplen - 1, 0, pfx, &pfx) < 0)
		return -EINVAL;
	c->prefix = (uint8_t)pfx;
	return 0;
}

bool addr_cidr_match(const struct cidr *c, const struct addr *a)
{
	int fam;
	const uint8_t *b = addr_bytes(a, &fam);
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (!b || fam != c->family)
		return false;
	if (memcmp(b, c->net, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((b[full] & mask) != (c->net[full] & mask))
			return false;
	}
	return true;
}

uint16_t addr_port(const struct addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
	if (a->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
	return 0;
}
