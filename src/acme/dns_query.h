/* dns_query.h - asking one DNS server directly (no resolver cache), as
 * the DNS-01 check needs: "does the zone's authoritative server already
 * serve this TXT value?". Blocking, bounded by a timeout; worker thread. */
#ifndef POSTERN_ACME_DNS_QUERY_H
#define POSTERN_ACME_DNS_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "acme/dns_msg.h"

/* Parses "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:5353" (port default 53)
 * into a sockaddr. Returns 0 or -EINVAL. */
struct sockaddr_storage;
int dns_server_parse(const char *s, struct sockaddr_storage *sa,
		     unsigned *salen);

/* Sends (name, qtype) to `server` over UDP (TCP when truncated), waiting
 * at most `timeout_ms` per attempt. Returns 0 with `a` filled (check
 * a->rcode), -ETIMEDOUT, -EINVAL (bad answer) or -errno. */
int dns_query(const char *server, const char *name, unsigned qtype,
	      unsigned timeout_ms, struct dns_answer *a);

/* Exchanges a prepared message (an UPDATE) with `server` over TCP and
 * returns the raw reply in `out` (cap bytes). Returns its length or
 * -errno. */
int dns_exchange_tcp(const char *server, const uint8_t *msg, size_t len,
		     unsigned timeout_ms, uint8_t *out, size_t cap);

/* The zone's authoritative servers: its NS records through the system
 * resolver, each name resolved to addresses, written as "ip" or
 * "[ip6]:53" into store. Returns how many (0 when none were found). */
size_t dns_zone_servers(const char *zone, char store[][64], size_t max);

/* True when `a` holds a TXT answer for `name` equal to `value`. */
bool dns_answer_has_txt(const struct dns_answer *a, const char *name,
			const char *value);

#endif
