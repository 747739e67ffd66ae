/* dns_query.h - asking one DNS server directly (no resolver cache), as
 * the DNS-01 check needs: "does the zone's authoritative server already
 * serve this TXT value?", and the RFC 2136 provider's signed UPDATE.
 * Messages, transport and TSIG are ldns's; what Postern keeps of an answer
 * is read by dns_answer_parse (fuzzed: fuzz/fuzz_dns_msg.c). Blocking,
 * bounded by a timeout; worker thread only. */
#ifndef POSTERN_ACME_DNS_QUERY_H
#define POSTERN_ACME_DNS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_T_NS 2
#define DNS_T_SOA 6
#define DNS_T_TXT 16

#define DNS_NAME_MAX 255	/* presentation form, no trailing dot */
#define DNS_ANSWER_MAX 32

struct dns_rr {
	char name[DNS_NAME_MAX + 1];	/* owner, lower case, no trailing dot */
	uint16_t type, rclass;
	uint32_t ttl;
	/* TXT: the character-strings concatenated; NS/CNAME: the target
	 * name; SOA: the primary server name. Other types: empty. */
	char data[DNS_NAME_MAX + 1];
};

struct dns_answer {
	uint16_t id;
	uint8_t rcode;
	bool aa, tc;
	struct dns_rr rr[DNS_ANSWER_MAX];	/* answer + authority sections */
	size_t n_answer, n;		/* first n_answer are answers */
};

/* Parses a response `p[0..len)`. It must carry id `id`, be a response
 * (QR), echo exactly one question equal to (qname, qtype, IN). Answer and
 * authority records are copied into `a` (at most DNS_ANSWER_MAX; more are
 * skipped). Returns 0, or -EINVAL for anything malformed or mismatched. */
int dns_answer_parse(const uint8_t *p, size_t len, uint16_t id,
		     const char *qname, uint16_t qtype, struct dns_answer *a);

/* Parses "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:5353" (port default 53)
 * into a sockaddr. Returns 0 or -EINVAL. */
struct sockaddr_storage;
int dns_server_parse(const char *s, struct sockaddr_storage *sa,
		     unsigned *salen);

/* Sends (name, qtype) to `server` over UDP (TCP when truncated), waiting
 * at most `timeout_ms` per attempt. Returns 0 with `a` filled (check
 * a->rcode), -ETIMEDOUT, -EINVAL (bad answer) or -EIO. */
int dns_query(const char *server, const char *name, unsigned qtype,
	      unsigned timeout_ms, struct dns_answer *a);

/* One RFC 2136 UPDATE of a TXT record, over TCP to `server`:
 * add "<fqdn> <ttl> IN TXT value" or delete that value only (class NONE).
 * With `tsig_name` set the update is signed (`tsig_secret` base64,
 * `tsig_alg` "hmac-sha256" or "hmac-sha512") and the reply's TSIG is
 * verified. Returns the reply's rcode (0 = NOERROR), or -EINVAL (bad
 * settings), -EIO (transport, message in err) or -EPROTO (bad reply). */
struct dns_update {
	const char *server, *zone, *fqdn, *value;
	unsigned ttl;
	bool add;
	const char *tsig_name, *tsig_secret, *tsig_alg;
	unsigned timeout_ms;
};
int dns_update(const struct dns_update *u, char *err, size_t errlen);

/* The zone's authoritative servers: its NS records through the system
 * resolver, each name resolved to addresses, written as "ip" or
 * "[ip6]:53" into store. Returns how many (0 when none were found). */
size_t dns_zone_servers(const char *zone, char store[][64], size_t max);

/* True when `a` holds a TXT answer for `name` equal to `value`. */
bool dns_answer_has_txt(const struct dns_answer *a, const char *name,
			const char *value);

#endif
