/* dns_msg.h - DNS wire format (RFC 1035) for the few messages the ACME
 * side needs: a query and its answer (TXT, NS, SOA), and RFC 2136 UPDATE
 * messages with TSIG (RFC 8945). The answer parser reads untrusted bytes
 * and is fuzzed (fuzz/fuzz_dns_msg.c). */
#ifndef POSTERN_ACME_DNS_MSG_H
#define POSTERN_ACME_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_T_A 1
#define DNS_T_NS 2
#define DNS_T_CNAME 5
#define DNS_T_SOA 6
#define DNS_T_TXT 16
#define DNS_T_TSIG 250
#define DNS_C_IN 1
#define DNS_C_NONE 254
#define DNS_C_ANY 255
#define DNS_OP_UPDATE 5

#define DNS_NAME_MAX 255	/* presentation form, no trailing dot */
#define DNS_MSG_MAX 65535
#define DNS_ANSWER_MAX 32

struct dns_rr {
	char name[DNS_NAME_MAX + 1];	/* owner, lower case */
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

/* Writes a query for (name, qtype, IN) with id; `rd` asks for recursion.
 * Returns its length or -EINVAL (bad name) / -ENOBUFS. */
int dns_msg_query(uint8_t *out, size_t cap, uint16_t id, const char *name,
		  uint16_t qtype, bool rd);

/* Parses a response. It must carry id `id`, be a response (QR), echo
 * exactly one question equal to (qname, qtype, IN). Answer and authority
 * records are copied into `a` (at most DNS_ANSWER_MAX; more are skipped);
 * other sections are ignored. Returns 0, or -EINVAL for anything
 * malformed or mismatched. */
int dns_msg_parse(const uint8_t *p, size_t len, uint16_t id, const char *qname,
		  uint16_t qtype, struct dns_answer *a);

/* Appends `name` in wire form (no compression). Returns bytes written or
 * -EINVAL / -ENOBUFS. */
int dns_msg_put_name(uint8_t *out, size_t cap, const char *name);

/* Reads a possibly compressed name at *off into presentation form
 * (lower case, no trailing dot; "" for the root) and advances *off past
 * it. Returns 0 or -EINVAL. */
int dns_msg_get_name(const uint8_t *p, size_t len, size_t *off,
		     char out[DNS_NAME_MAX + 1]);

#endif
