/* proxy_v2.c - PROXY protocol v2 parser and encoder (see proxy_v2.h). */
#include "proto/proxy_v2.h"

#include <errno.h>
#include <string.h>

#define FAM_UNSPEC 0x0
#define FAM_INET 0x1
#define FAM_INET6 0x2
#define FAM_UNIX 0x3
#define PROTO_UNSPEC 0x0
#define PROTO_STREAM 0x1
#define PROTO_DGRAM 0x2
#define ADDR_LEN_INET 12
#define ADDR_LEN_INET6 36
#define ADDR_LEN_UNIX 216

uint32_t proxy_v2_crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Checks the 4 bytes after the signature that are present. Returns 0 or
 * -EPROTO / -EPROTONOSUPPORT / -E2BIG. */
static int proxy_v2_check_fixed(const uint8_t *p, size_t len)
{
	if (len > 12) {
		if ((p[12] >> 4) != 2 || (p[12] & 0xF) > PROXY_V2_PROXY)
			return -EPROTO;
	}
	if (len > 13) {
		unsigned fam = p[13] >> 4, proto = p[13] & 0xF;
		if (fam > FAM_UNIX || proto > PROTO_DGRAM)
			return -EPROTO;
	}
	if (len >= PROXY_V2_FIXED_LEN && rd16(p + 14) > PROXY_V2_LEN_MAX)
		return -E2BIG;
	return 0;
}

/* Walks TLVs in p[0, len): they must tile it exactly. Returns 0, or
 * -EPROTO; *crc_at is set to the CRC32C value's offset (or stays NULL). */
static int proxy_v2_check_tlvs(const uint8_t *p, size_t len,
			       const uint8_t **crc_at)
{
	size_t off = 0;

	while (off < len) {
		if (len - off < 3)
			return -EPROTO;
		uint16_t tl = rd16(p + off + 1);
		if (len - off - 3 < tl)
			return -EPROTO;
		if (p[off] == PROXY_V2_TLV_CRC32C) {
			if (tl != 4 || *crc_at)
				return -EPROTO;
			*crc_at = p + off + 3;
		}
		off += 3 + (size_t)tl;
	}
	return 0;
}

/* Verifies the CRC32C over the whole header with the value zeroed. */
static int proxy_v2_check_crc(const uint8_t *p, size_t hlen,
			      const uint8_t *crc_at)
{
	static const uint8_t zero[4];
	size_t at = (size_t)(crc_at - p);
	uint32_t want = ((uint32_t)crc_at[0] << 24) | ((uint32_t)crc_at[1] << 16) |
			((uint32_t)crc_at[2] << 8) | crc_at[3];
	uint32_t c = proxy_v2_crc32c(0, p, at);
	c = proxy_v2_crc32c(c, zero, 4);
	c = proxy_v2_crc32c(c, p + at + 4, hlen - at - 4);
	return c == want ? 0 : -EPROTO;
}

static void proxy_v2_read_addrs(const uint8_t *a, int family,
				struct proxy_v2 *out)
{
	memset(&out->src, 0, sizeof(out->src));
	memset(&out->dst, 0, sizeof(out->dst));
	if (family == AF_INET) {
		out->src.in4.sin_family = out->dst.in4.sin_family = AF_INET;
		memcpy(&out->src.in4.sin_addr, a, 4);
		memcpy(&out->dst.in4.sin_addr, a + 4, 4);
		memcpy(&out->src.in4.sin_port, a + 8, 2);
		memcpy(&out->dst.in4.sin_port, a + 10, 2);
	} else {
		out->src.in6.sin6_family = out->dst.in6.sin6_family = AF_INET6;
		memcpy(&out->src.in6.sin6_addr, a, 16);
		memcpy(&out->dst.in6.sin6_addr, a + 16, 16);
		memcpy(&out->src.in6.sin6_port, a + 32, 2);
		memcpy(&out->dst.in6.sin6_port, a + 34, 2);
	}
}

/* The address block length for the family/transport byte, or -errno. */
static int proxy_v2_addr_len(enum proxy_v2_cmd cmd, uint8_t famproto,
			     int *family)
{
	unsigned fam = famproto >> 4, proto = famproto & 0xF;

	*family = AF_UNSPEC;
	if (cmd == PROXY_V2_LOCAL)
		return 0;	/* the address block, if any, is skipped */
	if (proto != PROTO_STREAM)
		return -EPROTONOSUPPORT;
	if (fam == FAM_INET) {
		*family = AF_INET;
		return ADDR_LEN_INET;
	}
	if (fam == FAM_INET6) {
		*family = AF_INET6;
		return ADDR_LEN_INET6;
	}
	return -EPROTONOSUPPORT;
}

int proxy_v2_parse(const uint8_t *p, size_t len, struct proxy_v2 *out)
{
	size_t n = len < PROXY_V2_SIG_LEN ? len : PROXY_V2_SIG_LEN;
	const uint8_t *crc_at = NULL;
	int family, alen, rc;

	if (memcmp(p, PROXY_V2_SIG, n) != 0)
		return -EPROTO;
	rc = proxy_v2_check_fixed(p, len);
	if (rc < 0 || len < PROXY_V2_FIXED_LEN)
		return rc;
	size_t body = rd16(p + 14), hlen = PROXY_V2_FIXED_LEN + body;
	enum proxy_v2_cmd cmd = (enum proxy_v2_cmd)(p[12] & 0xF);
	alen = proxy_v2_addr_len(cmd, p[13], &family);
	if (alen < 0)
		return alen;
	if (body < (size_t)alen)
		return -EPROTO;
	if (len < hlen)
		return 0;
	if (cmd == PROXY_V2_LOCAL) {
		/* LOCAL: the receiver ignores whatever follows. */
		memset(out, 0, sizeof(*out));
		out->cmd = cmd;
		out->family = AF_UNSPEC;
		out->tlvs = STR_NULL;
		return (int)hlen;
	}
	const uint8_t *tl = p + PROXY_V2_FIXED_LEN + alen;
	size_t tlen = body - (size_t)alen;
	if (proxy_v2_check_tlvs(tl, tlen, &crc_at) < 0)
		return -EPROTO;
	if (crc_at && proxy_v2_check_crc(p, hlen, crc_at) < 0)
		return -EPROTO;
	out->cmd = cmd;
	out->family = family;
	proxy_v2_read_addrs(p + PROXY_V2_FIXED_LEN, family, out);
	out->tlvs = str_make((const char *)tl, tlen);
	return (int)hlen;
}

int proxy_v2_tlv_next(struct str *it, struct proxy_v2_tlv *tlv)
{
	const uint8_t *p = (const uint8_t *)it->p;

	if (it->len < 3)
		return 0;
	uint16_t l = rd16(p + 1);
	if (it->len - 3 < l)
		return 0;	/* cannot happen on a parsed header */
	tlv->type = p[0];
	tlv->len = l;
	tlv->value = p + 3;
	it->p += 3 + (size_t)l;
	it->len -= 3 + (size_t)l;
	return 1;
}

/* The address block (spec 2.2): source and destination address, `alen`
 * bytes each, then source and destination port. Returns its length. */
static size_t proxy_v2_put_block(uint8_t *a, size_t alen, const void *saddr,
				 const void *daddr, const void *sport,
				 const void *dport)
{
	memcpy(a, saddr, alen);
	memcpy(a + alen, daddr, alen);
	memcpy(a + 2 * alen, sport, 2);
	memcpy(a + 2 * alen + 2, dport, 2);
	return 2 * alen + 4;
}

static size_t proxy_v2_put_addrs(uint8_t *a, const struct sockaddr *src,
				 const struct sockaddr *dst)
{
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src, *d = (const void *)dst;
		return proxy_v2_put_block(a, 4, &s->sin_addr, &d->sin_addr,
					  &s->sin_port, &d->sin_port);
	}
	const struct sockaddr_in6 *s = (const void *)src, *d = (const void *)dst;
	return proxy_v2_put_block(a, 16, &s->sin6_addr, &d->sin6_addr,
				  &s->sin6_port, &d->sin6_port);
}

/* Total encoded size, or 0 when it exceeds PROXY_V2_MAX. */
static size_t proxy_v2_size(enum proxy_v2_cmd cmd, int family,
			    const struct proxy_v2_tlv *tlvs, size_t ntlv,
			    int crc)
{
	size_t n = PROXY_V2_FIXED_LEN;

	if (cmd == PROXY_V2_PROXY)
		n += family == AF_INET ? ADDR_LEN_INET : ADDR_LEN_INET6;
	for (size_t i = 0; i < ntlv; i++) {
		n += 3 + (size_t)tlvs[i].len;
		if (n > PROXY_V2_MAX)
			return 0;
	}
	if (crc)
		n += 7;
	return n > PROXY_V2_MAX ? 0 : n;
}

static void proxy_v2_put_crc(uint8_t *out, size_t n)
{
	uint8_t *v = out + n - 4;
	uint32_t c;

	memset(v, 0, 4);
	c = proxy_v2_crc32c(0, out, n);
	v[0] = (uint8_t)(c >> 24);
	v[1] = (uint8_t)(c >> 16);
	v[2] = (uint8_t)(c >> 8);
	v[3] = (uint8_t)c;
}

int proxy_v2_encode(uint8_t *out, size_t cap, enum proxy_v2_cmd cmd,
		    const struct sockaddr *src, const struct sockaddr *dst,
		    const struct proxy_v2_tlv *tlvs, size_t ntlv, int crc)
{
	int family = AF_UNSPEC;
	size_t n, off = PROXY_V2_FIXED_LEN;

	if (cmd == PROXY_V2_PROXY) {
		family = src->sa_family;
		if ((family != AF_INET && family != AF_INET6) ||
		    dst->sa_family != family)
			return -EINVAL;
	}
	n = proxy_v2_size(cmd, family, tlvs, ntlv, crc);
	if (n == 0 || n > cap)
		return -ENOBUFS;
	memcpy(out, PROXY_V2_SIG, PROXY_V2_SIG_LEN);
	out[12] = (uint8_t)(0x20 | cmd);
	out[13] = family == AF_INET ? (FAM_INET << 4 | PROTO_STREAM) :
		  family == AF_INET6 ? (FAM_INET6 << 4 | PROTO_STREAM) : 0;
	wr16(out + 14, (uint16_t)(n - PROXY_V2_FIXED_LEN));
	if (cmd == PROXY_V2_PROXY)
		off += proxy_v2_put_addrs(out + off, src, dst);
	for (size_t i = 0; i < ntlv; i++) {
		out[off] = tlvs[i].type;
		wr16(out + off + 1, tlvs[i].len);
		if (tlvs[i].len)
			memcpy(out + off + 3, tlvs[i].value, tlvs[i].len);
		off += 3 + (size_t)tlvs[i].len;
	}
	if (crc) {
		out[off] = PROXY_V2_TLV_CRC32C;
		wr16(out + off + 1, 4);
		proxy_v2_put_crc(out, n);
	}
	return (int)n;
}
