/* addr.h - socket addresses and CIDR ranges from text (config, routes).
 *
 * Listen addresses are "IPv4:port" or "[IPv6]:port"; CIDRs "a.b.c.d/n" or
 * "x::y/n" (a bare address is a /32 or /128). Host names are resolved
 * only by addr_resolve, which blocks and so runs on the control thread,
 * never on a worker. */
#ifndef POSTERN_CORE_ADDR_H
#define POSTERN_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t net[16];
	uint8_t prefix;
};

/* True when the `n` bytes at `s` are a lower-case LDH host name: 1..253
 * bytes, labels of 1..63 [a-z0-9-] that neither start nor end with '-',
 * joined by single dots, at least `min_labels` of them. */
bool addr_host_name_ok(const char *s, size_t n, unsigned min_labels);

/* Parses "ip:port" / "[ip6]:port". Returns 0 or -EINVAL. */
int addr_parse(const char *s, struct addr *a);
/* Resolves "host:port" (name or literal; first address). Returns 0 or
 * -EINVAL / -ENOENT. Blocking. */
int addr_resolve(const char *host, uint16_t port, struct addr *a);
/* Writes the textual address (no port) into out (>= 46 bytes). Maps
 * v4-mapped IPv6 to plain IPv4. */
void addr_ip_str(const struct addr *a, char *out, size_t cap);
/* Hash of the address bytes (no port), for per-IP counters. */
uint32_t addr_ip_hash(const struct addr *a);
/* The port, in host order (0 for other families). */
uint16_t addr_port(const struct addr *a);
/* True when the two addresses are equal (family, bytes and port). */
bool addr_eq(const struct addr *a, const struct addr *b);

/* Parses one CIDR. Returns 0 or -EINVAL. */
int addr_cidr_parse(const char *s, size_t len, struct cidr *c);
/* True when the address (port ignored) lies in the range. */
bool addr_cidr_match(const struct cidr *c, const struct addr *a);

#endif
