/* dns_query.c - one question (or one UPDATE) to one server through ldns,
 * and the reading of its answer into struct dns_answer. */
#include "acme/dns_query.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "core/num.h"

#define DNS_TSIG_FUDGE 300

int dns_server_parse(const char *s, struct sockaddr_storage *sa,
		     unsigned *salen)
{
	char host[64];
	const char *port = NULL;
	uint64_t pn = 53;
	size_t hl;

	memset(sa, 0, sizeof(*sa));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || (rb[1] && rb[1] != ':'))
			return -EINVAL;
		hl = (size_t)(rb - s - 1);
		s++;
		port = rb[1] ? rb + 2 : NULL;
	} else {
		const char *colon = strchr(s, ':');
		bool v6 = colon && strchr(colon + 1, ':');
		hl = colon && !v6 ? (size_t)(colon - s) : strlen(s);
		port = colon && !v6 ? colon + 1 : NULL;
	}
	if (hl == 0 || hl >= sizeof(host) ||
	    (port && num_parse_cstr(port, 1, 65535, &pn)))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)pn);
		*salen = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)pn);
		*salen = sizeof(*v6);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* Owner or target name into presentation form: lower case, no trailing
 * dot, "" for the root. Returns 0 or -EINVAL. */
static int dns_name_out(const ldns_rdf *d, char out[DNS_NAME_MAX + 1])
{
	char *s;
	size_t n;

	if (!d || ldns_rdf_get_type(d) != LDNS_RDF_TYPE_DNAME ||
	    !(s = ldns_rdf2str(d)))
		return -EINVAL;
	n = strlen(s);
	if (n && s[n - 1] == '.')
		n--;
	if (n > DNS_NAME_MAX) {
		free(s);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out[n] = 0;
	free(s);
	return 0;
}

/* TXT: the character-strings, raw, concatenated (cut at DNS_NAME_MAX);
 * "" when one holds a NUL, which no compared value can. */
static void dns_txt_out(const ldns_rr *rr, char out[DNS_NAME_MAX + 1])
{
	size_t o = 0;

	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *d = ldns_rr_rdf(rr, i);
		const uint8_t *p = ldns_rdf_data(d);
		size_t n = ldns_rdf_size(d) ? p[0] : 0;

		if (n == 0 || n + 1 > ldns_rdf_size(d))
			continue;
		if (memchr(p + 1, 0, n)) {
			o = 0;
			break;
		}
		if (n > DNS_NAME_MAX - o)
			n = DNS_NAME_MAX - o;
		memcpy(out + o, p + 1, n);
		o += n;
	}
	out[o] = 0;
}

static int dns_rr_out(const ldns_rr *rr, struct dns_rr *o)
{
	memset(o, 0, sizeof(*o));
	o->type = (uint16_t)ldns_rr_get_type(rr);
	o->rclass = (uint16_t)ldns_rr_get_class(rr);
	o->ttl = ldns_rr_ttl(rr);
	if (dns_name_out(ldns_rr_owner(rr), o->name))
		return -EINVAL;
	if (o->type == DNS_T_TXT)
		dns_txt_out(rr, o->data);
	else if ((o->type == DNS_T_NS || o->type == LDNS_RR_TYPE_CNAME ||
		  o->type == DNS_T_SOA) && ldns_rr_rd_count(rr) > 0)
		return dns_name_out(ldns_rr_rdf(rr, 0), o->data);
	return 0;
}

static int dns_section_out(const ldns_rr_list *l, struct dns_answer *a)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(l) && a->n < DNS_ANSWER_MAX; i++)
		if (dns_rr_out(ldns_rr_list_rr(l, i), &a->rr[a->n++]))
			return -EINVAL;
	return 0;
}

/* The checks of dns_answer_parse on a packet ldns already read. */
static int dns_answer_from_pkt(const ldns_pkt *pk, uint16_t id, const char *qname,
			       uint16_t qtype, struct dns_answer *a)
{
	const ldns_rr_list *q = ldns_pkt_question(pk);
	char qn[DNS_NAME_MAX + 1];
	const ldns_rr *qr;

	memset(a, 0, sizeof(*a));
	if (ldns_pkt_id(pk) != id || !ldns_pkt_qr(pk) || ldns_rr_list_rr_count(q) != 1)
		return -EINVAL;
	qr = ldns_rr_list_rr(q, 0);
	if (dns_name_out(ldns_rr_owner(qr), qn) || strcasecmp(qn, qname) ||
	    ldns_rr_get_type(qr) != qtype || ldns_rr_get_class(qr) != LDNS_RR_CLASS_IN)
		return -EINVAL;
	a->id = id;
	a->rcode = (uint8_t)ldns_pkt_get_rcode(pk);
	a->aa = ldns_pkt_aa(pk);
	a->tc = ldns_pkt_tc(pk);
	if (dns_section_out(ldns_pkt_answer(pk), a))
		return -EINVAL;
	a->n_answer = a->n;
	return dns_section_out(ldns_pkt_authority(pk), a);
}

int dns_answer_parse(const uint8_t *p, size_t len, uint16_t id,
		     const char *qname, uint16_t qtype, struct dns_answer *a)
{
	ldns_pkt *pk = NULL;
	int rc;

	memset(a, 0, sizeof(*a));
	if (ldns_wire2pkt(&pk, p, len) != LDNS_STATUS_OK)
		return -EINVAL;
	rc = dns_answer_from_pkt(pk, id, qname, qtype, a);
	ldns_pkt_free(pk);
	return rc;
}

/* A resolver that asks `server` only, no recursion, no search list. */
static ldns_resolver *dns_resolver(const char *server, unsigned timeout_ms,
				   bool tcp)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct sockaddr_storage sa;
	ldns_resolver *r;
	ldns_rdf *addr;
	uint16_t port;
	unsigned salen;

	if (dns_server_parse(server, &sa, &salen) ||
	    !(addr = ldns_sockaddr_storage2rdf(&sa, &port)))
		return NULL;
	r = ldns_resolver_new();
	if (r && ldns_resolver_push_nameserver(r, addr) != LDNS_STATUS_OK) {
		ldns_resolver_deep_free(r);
		r = NULL;
	}
	ldns_rdf_deep_free(addr);
	if (!r)
		return NULL;
	ldns_resolver_set_port(r, port);
	ldns_resolver_set_timeout(r, tv);
	ldns_resolver_set_retry(r, 1);
	ldns_resolver_set_usevc(r, tcp);
	ldns_resolver_set_fallback(r, true);	/* TC -> TCP */
	ldns_resolver_set_recursive(r, false);
	ldns_resolver_set_random(r, false);
	return r;
}

int dns_query(const char *server, const char *name, unsigned qtype,
	      unsigned timeout_ms, struct dns_answer *a)
{
	ldns_resolver *r = dns_resolver(server, timeout_ms, false);
	ldns_rdf *qn = ldns_dname_new_frm_str(name);
	ldns_pkt *q = NULL, *ans = NULL;
	ldns_status st;
	int rc = -EINVAL;

	memset(a, 0, sizeof(*a));
	if (!r || !qn)
		goto out;
	if (ldns_resolver_prepare_query_pkt(&q, r, qn, (ldns_rr_type)qtype,
					    LDNS_RR_CLASS_IN, 0) != LDNS_STATUS_OK)
		goto out;
	ldns_pkt_set_random_id(q);
	st = ldns_resolver_send_pkt(&ans, r, q);
	if (st != LDNS_STATUS_OK || !ans) {
		rc = st == LDNS_STATUS_NETWORK_ERR ? -ETIMEDOUT : -EIO;
		goto out;
	}
	rc = dns_answer_from_pkt(ans, ldns_pkt_id(q), name, (uint16_t)qtype, a);
out:
	ldns_pkt_free(q);
	ldns_pkt_free(ans);
	ldns_rdf_deep_free(qn);
	if (r)
		ldns_resolver_deep_free(r);
	return rc;
}

/* The update section's one record: add, or delete that value (RFC 2136
 * s2.5.4: class NONE, TTL 0). */
static ldns_rr_list *dns_update_rrs(const struct dns_update *u)
{
	ldns_rr_list *l = ldns_rr_list_new();
	ldns_rr *rr = NULL;
	char *text = NULL;

	if (!l || asprintf(&text, "%s. %u IN TXT \"%s\"", u->fqdn, u->ttl,
			   u->value) < 0 ||
	    ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK) {
		free(text);
		ldns_rr_list_free(l);
		return NULL;
	}
	free(text);
	if (!u->add) {
		ldns_rr_set_class(rr, LDNS_RR_CLASS_NONE);
		ldns_rr_set_ttl(rr, 0);
	}
	ldns_rr_list_push_rr(l, rr);
	return l;
}

static bool dns_tsig_alg_ok(const char *alg)
{
	return !strcmp(alg, "hmac-sha256") || !strcmp(alg, "hmac-sha512");
}

int dns_update(const struct dns_update *u, char *err, size_t errlen)
{
	const char *alg = u->tsig_alg ? u->tsig_alg : "hmac-sha256";
	ldns_resolver *r = dns_resolver(u->server, u->timeout_ms, true);
	ldns_rdf *zone = ldns_dname_new_frm_str(u->zone);
	ldns_rr_list *up = dns_update_rrs(u);
	ldns_pkt *q = NULL, *ans = NULL;
	ldns_status st;
	int rc = -EINVAL;

	if (!r || !zone || !up || (u->tsig_name && (!u->tsig_secret ||
						    !dns_tsig_alg_ok(alg)))) {
		snprintf(err, errlen, "cannot build the update (check server, "
			 "tsig_secret is base64 and tsig_algorithm is hmac-sha256 "
			 "or hmac-sha512)");
		goto out;
	}
	q = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, NULL, up, NULL);
	zone = NULL;	/* the packet owns it now; `up` was copied */
	if (!q)
		goto out;
	ldns_pkt_set_random_id(q);
	ldns_pkt_set_rd(q, false);
	if (u->tsig_name) {
		ldns_resolver_set_tsig_keyname(r, u->tsig_name);
		ldns_resolver_set_tsig_keydata(r, u->tsig_secret);
		ldns_resolver_set_tsig_algorithm(r, alg);
		if (ldns_pkt_tsig_sign(q, u->tsig_name, u->tsig_secret,
				       DNS_TSIG_FUDGE, alg, NULL) != LDNS_STATUS_OK) {
			snprintf(err, errlen, "cannot sign the update (check "
				 "tsig_secret is base64)");
			goto out;
		}
	}
	/* ldns_send, not ldns_resolver_send_pkt: the latter drops a reply
	 * whose TSIG fails. A server that rejects our key answers unsigned
	 * (RFC 8945 s5.3.2): such a reply may report the failure, never a
	 * success. */
	st = ldns_send(&ans, r, q);
	if (st == LDNS_STATUS_CRYPTO_TSIG_BOGUS && ans &&
	    ldns_pkt_get_rcode(ans) != LDNS_RCODE_NOERROR)
		st = LDNS_STATUS_OK;
	if (st != LDNS_STATUS_OK || !ans) {
		snprintf(err, errlen, "%s: %s", u->server, ldns_get_errorstr_by_id(st));
		rc = st == LDNS_STATUS_CRYPTO_TSIG_BOGUS ? -EPROTO : -EIO;
		goto out;
	}
	if (ldns_pkt_id(ans) != ldns_pkt_id(q) || !ldns_pkt_qr(ans)) {
		snprintf(err, errlen, "malformed answer from %s", u->server);
		rc = -EPROTO;
		goto out;
	}
	rc = (int)ldns_pkt_get_rcode(ans);
out:
	ldns_pkt_free(ans);
	ldns_pkt_free(q);
	ldns_rr_list_deep_free(up);
	ldns_rdf_deep_free(zone);
	if (r)
		ldns_resolver_deep_free(r);
	return rc;
}

bool dns_answer_has_txt(const struct dns_answer *a, const char *name,
			const char *value)
{
	for (size_t i = 0; i < a->n_answer; i++)
		if (a->rr[i].type == DNS_T_TXT && !strcasecmp(a->rr[i].name, name) &&
		    !strcmp(a->rr[i].data, value))
			return true;
	return false;
}

/* The zone's NS names through the system's resolver (resolv.conf). */
static size_t dns_zone_ns(const char *zone, struct dns_answer *a)
{
	ldns_resolver *r = NULL;
	ldns_rdf *qn = ldns_dname_new_frm_str(zone);
	ldns_pkt *ans = NULL;
	int rc = -EINVAL;

	if (qn && ldns_resolver_new_frm_file(&r, NULL) == LDNS_STATUS_OK &&
	    (ans = ldns_resolver_query(r, qn, LDNS_RR_TYPE_NS, LDNS_RR_CLASS_IN,
				       LDNS_RD)))
		rc = dns_answer_from_pkt(ans, ldns_pkt_id(ans), zone, DNS_T_NS, a);
	ldns_pkt_free(ans);
	ldns_rdf_deep_free(qn);
	if (r)
		ldns_resolver_deep_free(r);
	return rc ? 0 : a->n_answer;
}

/* The zone's authoritative servers: NS via the system resolver, each name
 * resolved to its addresses. Returns the count (0 when nothing found). */
size_t dns_zone_servers(const char *zone, char store[][64], size_t max)
{
	struct dns_answer a;
	size_t n = 0;

	if (!dns_zone_ns(zone, &a))
		return 0;
	for (size_t i = 0; i < a.n_answer && n < max; i++) {
		struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res, *r;

		if (a.rr[i].type != DNS_T_NS ||
		    getaddrinfo(a.rr[i].data, "53", &hints, &res))
			continue;
		for (r = res; r && n < max; r = r->ai_next) {
			char ip[INET6_ADDRSTRLEN];
			void *addr = r->ai_family == AF_INET
				? (void *)&((struct sockaddr_in *)r->ai_addr)->sin_addr
				: (void *)&((struct sockaddr_in6 *)r->ai_addr)->sin6_addr;

			inet_ntop(r->ai_family, addr, ip, sizeof(ip));
			snprintf(store[n++], 64, r->ai_family == AF_INET ? "%s" : "[%s]:53", ip);
		}
		freeaddrinfo(res);
	}
	return n;
}

