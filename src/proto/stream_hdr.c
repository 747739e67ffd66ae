/* stream_hdr.c - Postern's stream header on top of PROXY v2. */
#include "proto/stream_hdr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "proto/agent_proto.h"
#include "core/compiler.h"

static bool stream_hdr_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

bool stream_hdr_name_valid(struct str name)
{
	size_t label = 0;
	bool digits = true;

	if (name.len == 0 || name.len > STREAM_HDR_NAME_MAX)
		return false;
	for (size_t i = 0; i < name.len; i++) {
		char c = name.p[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			digits = true;
			continue;
		}
		if (!stream_hdr_label_char(c) || ++label > 63)
			return false;
		if (c < '0' || c > '9')
			digits = false;
	}
	return label > 0 && !digits;
}

uint16_t stream_hdr_port(const union proxy_v2_sa *sa)
{
	return ntohs(sa->sa.sa_family == AF_INET ? sa->in4.sin_port :
						   sa->in6.sin6_port);
}

static bool stream_hdr_addr_unspec(const union proxy_v2_sa *sa)
{
	if (sa->sa.sa_family == AF_INET)
		return sa->in4.sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&sa->in6.sin6_addr);
}

/* Copies a name TLV into dst after checking its syntax. */
static int stream_hdr_take_name(char *dst, const struct proxy_v2_tlv *t)
{
	if (dst[0] || !stream_hdr_name_valid(str_make((const char *)t->value, t->len)))
		return -EPROTO;
	memcpy(dst, t->value, t->len);
	dst[t->len] = '\0';
	return 0;
}

/* Reads the Postern TLVs; others are ignored as the spec says. */
static int stream_hdr_read_tlvs(struct str it, struct stream_hdr *out)
{
	struct proxy_v2_tlv t;
	bool have_params = false;

	while (proxy_v2_tlv_next(&it, &t)) {
		if (t.type == AGENT_TLV_TARGET_HOST) {
			if (stream_hdr_take_name(out->host, &t) < 0)
				return -EPROTO;
		} else if (t.type == AGENT_TLV_TLS_NAME) {
			if (stream_hdr_take_name(out->tls_name, &t) < 0)
				return -EPROTO;
		} else if (t.type == AGENT_TLV_PARAMS) {
			if (have_params || t.len != 2)
				return -EPROTO;
			if (t.value[0] != AGENT_PROTO_VERSION)
				return -EPROTONOSUPPORT;
			have_params = true;
			out->flags = t.value[1];
		}
	}
	return have_params ? 0 : -EPROTO;
}

/* Cross-field rules: exactly one of name/address; flags consistent. */
static int stream_hdr_check(const struct stream_hdr *h)
{
	if (h->flags & ~AGENT_F_ALL)
		return -EPROTO;
	if ((h->flags & AGENT_F_TLS_NO_VERIFY) && !(h->flags & AGENT_F_TLS))
		return -EPROTO;
	if (h->tls_name[0] && !(h->flags & AGENT_F_TLS))
		return -EPROTO;
	if (stream_hdr_port(&h->target) == 0)
		return -EPROTO;
	if (h->host[0] != '\0' && !stream_hdr_addr_unspec(&h->target))
		return -EPROTO;
	if (h->host[0] == '\0' && stream_hdr_addr_unspec(&h->target))
		return -EPROTO;
	return 0;
}

int stream_hdr_parse(const uint8_t *p, size_t len, struct stream_hdr *out)
{
	struct proxy_v2 pv;
	int n, rc;

	n = proxy_v2_parse(p, len, &pv);
	if (n <= 0)
		return n;
	memset(out, 0, sizeof(*out));
	if (pv.cmd == PROXY_V2_LOCAL) {
		out->probe = true;
		return n;
	}
	out->client = pv.src;
	out->target = pv.dst;
	rc = stream_hdr_read_tlvs(pv.tlvs, out);
	if (rc == 0)
		rc = stream_hdr_check(out);
	return rc < 0 ? rc : n;
}

static void stream_hdr_unspec(union proxy_v2_sa *t, const union proxy_v2_sa *like,
			      uint16_t port_be)
{
	memset(t, 0, sizeof(*t));
	t->sa.sa_family = like->sa.sa_family;
	if (like->sa.sa_family == AF_INET)
		t->in4.sin_port = port_be;
	else
		t->in6.sin6_port = port_be;
}

int stream_hdr_encode(uint8_t *out, size_t cap, const struct stream_hdr *h)
{
	struct proxy_v2_tlv tlv[3];
	uint8_t params[2] = { AGENT_PROTO_VERSION, (uint8_t)h->flags };
	union proxy_v2_sa dst = h->target;
	size_t n = 0;

	if (h->probe)
		return proxy_v2_encode(out, cap, PROXY_V2_LOCAL, NULL, NULL,
				       NULL, 0, 0);
	if (h->flags > 0xFF)
		return -EINVAL;
	tlv[n++] = (struct proxy_v2_tlv){ AGENT_TLV_PARAMS, params, 2 };
	if (h->host[0]) {
		uint16_t port_be = h->target.sa.sa_family == AF_INET6 ?
			h->target.in6.sin6_port : h->target.in4.sin_port;
		stream_hdr_unspec(&dst, &h->client, port_be);
		tlv[n++] = (struct proxy_v2_tlv){ AGENT_TLV_TARGET_HOST,
			(const uint8_t *)h->host, (uint16_t)strlen(h->host) };
	}
	if (h->tls_name[0])
		tlv[n++] = (struct proxy_v2_tlv){ AGENT_TLV_TLS_NAME,
			(const uint8_t *)h->tls_name, (uint16_t)strlen(h->tls_name) };
	return proxy_v2_encode(out, cap, PROXY_V2_PROXY, &h->client.sa, &dst.sa,
			       tlv, n, 0);
}
