/* dns_msg.c - strict DNS message building and parsing. */
#include "acme/dns_msg.h"

#include <errno.h>
#include <string.h>

#define DNS_HDR 12
#define DNS_PTR_HOPS 32

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

int dns_msg_put_name(uint8_t *out, size_t cap, const char *name)
{
	size_t n = 0, len = strlen(name);
	const char *lab = name;

	if (len > DNS_NAME_MAX - 2)
		return -EINVAL;
	while (*lab) {
		const char *dot = strchr(lab, '.');
		size_t l = dot ? (size_t)(dot - lab) : strlen(lab);

		if (l == 0 || l > 63)
			return -EINVAL;
		if (n + 1 + l > cap)
			return -ENOBUFS;
		out[n++] = (uint8_t)l;
		memcpy(out + n, lab, l);
		n += l;
		lab += l + (dot ? 1 : 0);
		if (dot && !*lab)
			return -EINVAL;	/* trailing dot: caller strips it */
	}
	if (n + 1 > cap)
		return -ENOBUFS;
	out[n++] = 0;
	return (int)n;
}

int dns_msg_query(uint8_t *out, size_t cap, uint16_t id, const char *name,
		  uint16_t qtype, bool rd)
{
	int n;

	if (cap < DNS_HDR + 4)
		return -ENOBUFS;
	memset(out, 0, DNS_HDR);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = rd ? 0x01 : 0x00;
	out[5] = 1;	/* QDCOUNT */
	n = dns_msg_put_name(out + DNS_HDR, cap - DNS_HDR - 4, name);
	if (n < 0)
		return n;
	n += DNS_HDR;
	out[n++] = (uint8_t)(qtype >> 8);
	out[n++] = (uint8_t)qtype;
	out[n++] = 0;
	out[n++] = DNS_C_IN;
	return n;
}

static char name_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
}

int dns_msg_get_name(const uint8_t *p, size_t len, size_t *off,
		     char out[DNS_NAME_MAX + 1])
{
	size_t pos = *off, end = 0, o = 0;
	unsigned hops = 0;
	bool jumped = false;

	for (;;) {
		if (pos >= len)
			return -EINVAL;
		uint8_t l = p[pos];

		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= len || ++hops > DNS_PTR_HOPS)
				return -EINVAL;
			size_t to = (size_t)(l & 0x3f) << 8 | p[pos + 1];
			if (to >= pos)	/* only backwards: no loops */
				return -EINVAL;
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = to;
			continue;
		}
		if (l & 0xc0)
			return -EINVAL;	/* 0x40/0x80 label types: obsolete */
		if (l == 0)
			break;
		if (pos + 1 + l > len || o + l + (o ? 1 : 0) > DNS_NAME_MAX)
			return -EINVAL;
		if (o)
			out[o++] = '.';
		for (size_t i = 0; i < l; i++) {
			uint8_t c = p[pos + 1 + i];
			if (c == 0 || c == '.')
				return -EINVAL;	/* would be ambiguous as text */
			out[o++] = name_lower(c);
		}
		pos += 1 + l;
	}
	out[o] = 0;
	*off = jumped ? end : pos + 1;
	return 0;
}

static bool name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (name_lower((uint8_t)*a) != name_lower((uint8_t)*b))
			return false;
	return *a == *b;
}

/* TXT rdata: one or more <len><bytes> strings, concatenated. */
static int rr_txt(const uint8_t *p, size_t n, char *out)
{
	size_t i = 0, o = 0;

	while (i < n) {
		size_t l = p[i++];

		if (i + l > n)
			return -EINVAL;
		if (o + l > DNS_NAME_MAX)
			l = DNS_NAME_MAX - o;	/* long values: keep a prefix */
		for (size_t k = 0; k < l; k++)
			out[o++] = p[i + k] ? (char)p[i + k] : '?';
		i += p[i - 1];
	}
	out[o] = 0;
	return 0;
}

static int rr_data(const uint8_t *p, size_t len, size_t off, size_t rdlen,
		   struct dns_rr *rr)
{
	size_t o = off;

	rr->data[0] = 0;
	switch (rr->type) {
	case DNS_T_TXT:
		return rr_txt(p + off, rdlen, rr->data);
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_SOA:
		if (dns_msg_get_name(p, off + rdlen, &o, rr->data))
			return -EINVAL;
		return rr->type == DNS_T_SOA || o == off + rdlen ? 0 : -EINVAL;
	default:
		return 0;
	}
}

/* Reads one record at *off; stores it in `rr` when non-NULL. */
static int msg_rr(const uint8_t *p, size_t len, size_t *off, struct dns_rr *rr)
{
	struct dns_rr tmp;
	size_t rdlen;

	if (!rr)
		rr = &tmp;
	if (dns_msg_get_name(p, len, off, rr->name) || *off + 10 > len)
		return -EINVAL;
	rr->type = rd16(p + *off);
	rr->rclass = rd16(p + *off + 2);
	rr->ttl = rd32(p + *off + 4);
	rdlen = rd16(p + *off + 8);
	*off += 10;
	if (*off + rdlen > len || rr_data(p, len, *off, rdlen, rr))
		return -EINVAL;
	*off += rdlen;
	return 0;
}

static int msg_question(const uint8_t *p, size_t len, size_t *off,
			const char *qname, uint16_t qtype)
{
	char name[DNS_NAME_MAX + 1];

	if (dns_msg_get_name(p, len, off, name) || *off + 4 > len ||
	    !name_eq(name, qname) || rd16(p + *off) != qtype ||
	    rd16(p + *off + 2) != DNS_C_IN)
		return -EINVAL;
	*off += 4;
	return 0;
}

int dns_msg_parse(const uint8_t *p, size_t len, uint16_t id, const char *qname,
		  uint16_t qtype, struct dns_answer *a)
{
	size_t off = DNS_HDR;
	unsigned an, ns;

	memset(a, 0, sizeof(*a));
	if (len < DNS_HDR || len > DNS_MSG_MAX || rd16(p) != id ||
	    !(p[2] & 0x80) || rd16(p + 4) != 1)
		return -EINVAL;
	a->id = id;
	a->aa = p[2] & 0x04;
	a->tc = p[2] & 0x02;
	a->rcode = p[3] & 0x0f;
	an = rd16(p + 6);
	ns = rd16(p + 8);
	if (msg_question(p, len, &off, qname, qtype))
		return -EINVAL;
	if (a->tc)
		return 0;	/* the caller retries over TCP */
	for (unsigned i = 0; i < an + ns; i++) {
		struct dns_rr *rr = a->n < DNS_ANSWER_MAX ? &a->rr[a->n] : NULL;

		if (msg_rr(p, len, &off, rr))
			return -EINVAL;
		if (rr)
			a->n++;
		if (i + 1 == an)
			a->n_answer = a->n;
	}
	return 0;
}
