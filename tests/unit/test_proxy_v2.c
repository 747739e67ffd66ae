/* test_proxy_v2.c - PROXY v2 and Postern's stream header: round trips,
 * incremental parsing, and every rejection. */
#include <arpa/inet.h>
#include <errno.h>

#include "unit.h"
#include "proto/agent_proto.h"
#include "proto/stream_hdr.h"
#include "proto/proxy_v2.h"

/* The socket address of `ip` (IPv4 or IPv6, by whether it holds a ':')
 * and `port`. */
static union proxy_v2_sa sa_of(const char *ip, uint16_t port)
{
	union proxy_v2_sa s;

	memset(&s, 0, sizeof(s));
	if (strchr(ip, ':')) {
		s.in6.sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s.in6.sin6_addr);
		s.in6.sin6_port = htons(port);
	} else {
		s.in4.sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s.in4.sin_addr);
		s.in4.sin_port = htons(port);
	}
	return s;
}

/* A valid v4 stream header for "client 203.0.113.7:5555 -> 192.168.1.10:80". */
static int base_hdr(uint8_t *out, size_t cap, struct stream_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->client = sa_of("203.0.113.7", 5555);
	h->target = sa_of("192.168.1.10", 80);
	return stream_hdr_encode(out, cap, h);
}

TEST(v4_round_trip_every_split)
{
	uint8_t buf[PROXY_V2_MAX];
	struct stream_hdr h, got;
	int n = base_hdr(buf, sizeof(buf), &h);

	CHECK(n > 0);
	CHECK_EQ_INT(n, 16 + 12 + 5);
	/* Every prefix asks for more; the whole header parses. */
	for (int i = 0; i < n; i++)
		CHECK_EQ_INT(stream_hdr_parse(buf, (size_t)i, &got), 0);
	CHECK_EQ_INT(stream_hdr_parse(buf, (size_t)n, &got), n);
	CHECK(!got.probe);
	CHECK_EQ_INT(got.client.sa.sa_family, AF_INET);
	CHECK_EQ_INT(stream_hdr_port(&got.client), 5555);
	CHECK_EQ_INT(stream_hdr_port(&got.target), 80);
	CHECK(got.target.in4.sin_addr.s_addr == h.target.in4.sin_addr.s_addr);
	CHECK_EQ_STR(got.host, "");
	CHECK_EQ_INT(got.flags, 0);
	/* Bytes after the header are not consumed. */
	memcpy(buf + n, "GET /", 5);
	CHECK_EQ_INT(stream_hdr_parse(buf, (size_t)n + 5, &got), n);
}

TEST(v6_host_tls_round_trip)
{
	uint8_t buf[PROXY_V2_MAX];
	struct stream_hdr h, got;

	memset(&h, 0, sizeof(h));
	h.client = sa_of("2001:db8::7", 40000);
	h.target = sa_of("::", 8443);
	strcpy(h.host, "nas.lan");
	strcpy(h.tls_name, "nas.example.org");
	h.flags = AGENT_F_TLS | AGENT_F_TLS_NO_VERIFY | AGENT_F_PROXY_V2;
	int n = stream_hdr_encode(buf, sizeof(buf), &h);
	CHECK(n > 0);
	CHECK_EQ_INT(stream_hdr_parse(buf, (size_t)n, &got), n);
	CHECK_EQ_INT(got.target.sa.sa_family, AF_INET6);
	CHECK_EQ_INT(stream_hdr_port(&got.target), 8443);
	CHECK_EQ_INT(stream_hdr_port(&got.client), 40000);
	CHECK_EQ_MEM(&got.client.in6.sin6_addr, &h.client.in6.sin6_addr, 16);
	CHECK_EQ_STR(got.host, "nas.lan");
	CHECK_EQ_STR(got.tls_name, "nas.example.org");
	CHECK_EQ_INT(got.flags, h.flags);
}

TEST(local_is_probe)
{
	uint8_t buf[64];
	struct stream_hdr h = { .probe = true }, got;
	int n = stream_hdr_encode(buf, sizeof(buf), &h);

	CHECK_EQ_INT(n, 16);
	CHECK_EQ_INT(stream_hdr_parse(buf, (size_t)n, &got), 16);
	CHECK(got.probe);
	/* LOCAL with an address block and TLVs: skipped whole. */
	uint8_t b2[64];
	union proxy_v2_sa s = sa_of("1.2.3.4", 1), d = sa_of("5.6.7.8", 2);
	n = proxy_v2_encode(b2, sizeof(b2), PROXY_V2_PROXY, &s.sa, &d.sa, NULL, 0, 0);
	b2[12] = 0x20;
	CHECK_EQ_INT(stream_hdr_parse(b2, (size_t)n, &got), n);
	CHECK(got.probe);
}

TEST(crc32c_known_value_and_tlv)
{
	/* RFC 3720 B.4: 32 bytes of zeros -> 0x8a9136aa. */
	uint8_t z[32] = { 0 };
	CHECK_EQ_U64(proxy_v2_crc32c(0, z, 32), 0x8a9136aau);
	CHECK_EQ_U64(proxy_v2_crc32c(0, (const uint8_t *)"123456789", 9), 0xe3069283u);

	uint8_t buf[128];
	struct proxy_v2 pv;
	union proxy_v2_sa s = sa_of("1.2.3.4", 1), d = sa_of("5.6.7.8", 2);
	int n = proxy_v2_encode(buf, sizeof(buf), PROXY_V2_PROXY, &s.sa, &d.sa, NULL, 0, 1);
	CHECK_EQ_INT(n, 16 + 12 + 7);
	CHECK_EQ_INT(proxy_v2_parse(buf, (size_t)n, &pv), n);
	buf[n - 1] ^= 1;	/* wrong checksum */
	CHECK_EQ_INT(proxy_v2_parse(buf, (size_t)n, &pv), -EPROTO);
	buf[n - 1] ^= 1;
	buf[20] ^= 1;		/* covered byte changed */
	CHECK_EQ_INT(proxy_v2_parse(buf, (size_t)n, &pv), -EPROTO);
}

TEST(unknown_tlvs_ignored)
{
	uint8_t buf[PROXY_V2_MAX];
	uint8_t params[2] = { AGENT_PROTO_VERSION, 0 };
	struct proxy_v2_tlv t[3] = {
		{ PROXY_V2_TLV_NOOP, (const uint8_t *)"xx", 2 },
		{ AGENT_TLV_PARAMS, params, 2 },
		{ 0xEF, NULL, 0 },
	};
	union proxy_v2_sa s = sa_of("1.2.3.4", 1), d = sa_of("10.0.0.1", 22);
	struct stream_hdr got;
	int n = proxy_v2_encode(buf, sizeof(buf), PROXY_V2_PROXY, &s.sa, &d.sa, t, 3, 1);
	CHECK(n > 0);
	CHECK_EQ_INT(stream_hdr_parse(buf, (size_t)n, &got), n);
	CHECK_EQ_INT(stream_hdr_port(&got.target), 22);
}

/* Signature, version, command, family, transport, length. */
TEST(rejects_fixed_part)
{
	uint8_t buf[PROXY_V2_MAX], b[PROXY_V2_MAX];
	struct stream_hdr h, got;
	int n = base_hdr(buf, sizeof(buf), &h);

	for (int i = 0; i < 12; i++) {	/* any signature byte, even alone */
		memcpy(b, buf, (size_t)n);
		b[i] ^= 0x40;
		CHECK_EQ_INT(stream_hdr_parse(b, (size_t)i + 1, &got), -EPROTO);
	}
	CHECK_EQ_INT(stream_hdr_parse((const uint8_t *)"PROXY TCP4 ", 11, &got), -EPROTO);
	memcpy(b, buf, (size_t)n);
	b[12] = 0x11;		/* version 1 */
	CHECK_EQ_INT(stream_hdr_parse(b, 13, &got), -EPROTO);
	b[12] = 0x22;		/* command 2 */
	CHECK_EQ_INT(stream_hdr_parse(b, 13, &got), -EPROTO);
	memcpy(b, buf, (size_t)n);
	b[13] = 0x41;		/* family 4 */
	CHECK_EQ_INT(stream_hdr_parse(b, 14, &got), -EPROTO);
	b[13] = 0x13;		/* transport 3 */
	CHECK_EQ_INT(stream_hdr_parse(b, 14, &got), -EPROTO);
	b[13] = 0x12;		/* UDP */
	CHECK_EQ_INT(stream_hdr_parse(b, (size_t)n, &got), -EPROTONOSUPPORT);
	b[13] = 0x31;		/* AF_UNIX */
	CHECK_EQ_INT(stream_hdr_parse(b, (size_t)n, &got), -EPROTONOSUPPORT);
	b[13] = 0x01;		/* UNSPEC with PROXY */
	CHECK_EQ_INT(stream_hdr_parse(b, (size_t)n, &got), -EPROTONOSUPPORT);
	memcpy(b, buf, (size_t)n);
	b[14] = 0x04;		/* 1025 bytes: too long, known from 16 bytes */
	b[15] = 0x01;
	CHECK_EQ_INT(stream_hdr_parse(b, 16, &got), -E2BIG);
	b[14] = 0;
	b[15] = 11;		/* shorter than the IPv4 address block */
	CHECK_EQ_INT(stream_hdr_parse(b, 16, &got), -EPROTO);
	b[13] = 0x21;
	b[15] = 35;		/* shorter than the IPv6 address block */
	CHECK_EQ_INT(stream_hdr_parse(b, 16, &got), -EPROTO);
}

TEST(rejects_tlv_layout)
{
	uint8_t buf[PROXY_V2_MAX], b[PROXY_V2_MAX];
	struct stream_hdr h, got;
	int n = base_hdr(buf, sizeof(buf), &h);

	/* TLV length overruns the header. */
	memcpy(b, buf, (size_t)n);
	b[28 + 2] = 3;
	CHECK_EQ_INT(stream_hdr_parse(b, (size_t)n, &got), -EPROTO);
	/* Header length ends inside a TLV's 3-byte head. */
	memcpy(b, buf, (size_t)n);
	b[n] = 0x04;
	b[n + 1] = 0;
	b[15] = (uint8_t)(b[15] + 2);
	CHECK_EQ_INT(stream_hdr_parse(b, (size_t)n + 2, &got), -EPROTO);
	/* CRC32C TLV of the wrong size. */
	memcpy(b, buf, (size_t)n);
	b[n] = PROXY_V2_TLV_CRC32C;
	b[n + 1] = 0;
	b[n + 2] = 2;
	b[15] = (uint8_t)(b[15] + 5);
	CHECK_EQ_INT(stream_hdr_parse(b, (size_t)n + 5, &got), -EPROTO);
}

/* Builds a v4 header with the given TLVs (no defaults added). */
static int raw_hdr(uint8_t *out, const char *dst_ip, uint16_t dport,
		   const struct proxy_v2_tlv *t, size_t nt)
{
	union proxy_v2_sa s = sa_of("203.0.113.7", 5555), d = sa_of(dst_ip, dport);
	return proxy_v2_encode(out, PROXY_V2_MAX, PROXY_V2_PROXY, &s.sa, &d.sa, t, nt, 0);
}

TEST(rejects_postern_semantics)
{
	uint8_t b[PROXY_V2_MAX];
	uint8_t ok[2] = { AGENT_PROTO_VERSION, 0 };
	uint8_t v2[2] = { AGENT_PROTO_VERSION + 1, 0 };
	uint8_t badflag[2] = { AGENT_PROTO_VERSION, 0x80 };
	uint8_t nover[2] = { AGENT_PROTO_VERSION, AGENT_F_TLS_NO_VERIFY };
	uint8_t tls[2] = { AGENT_PROTO_VERSION, AGENT_F_TLS };
	struct proxy_v2_tlv P = { AGENT_TLV_PARAMS, ok, 2 };
	struct proxy_v2_tlv H = { AGENT_TLV_TARGET_HOST, (const uint8_t *)"nas.lan", 7 };
	struct proxy_v2_tlv N = { AGENT_TLV_TLS_NAME, (const uint8_t *)"nas.lan", 7 };
	struct stream_hdr got;
	int n;

#define EXPECT(rc, ip, port, ...) do { \
	struct proxy_v2_tlv t_[] = { __VA_ARGS__ }; \
	n = raw_hdr(b, ip, port, t_, ARRAY_LEN(t_)); \
	CHECK_EQ_INT(stream_hdr_parse(b, (size_t)n, &got), rc); } while (0)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
	EXPECT(n, "10.0.0.1", 80, P);
	EXPECT(-EPROTO, "10.0.0.1", 80, { PROXY_V2_TLV_NOOP, NULL, 0 });	/* no params */
	EXPECT(-EPROTO, "10.0.0.1", 80, P, P);		/* twice */
	EXPECT(-EPROTO, "10.0.0.1", 80, { AGENT_TLV_PARAMS, ok, 1 });
	EXPECT(-EPROTONOSUPPORT, "10.0.0.1", 80, { AGENT_TLV_PARAMS, v2, 2 });
	EXPECT(-EPROTO, "10.0.0.1", 80, { AGENT_TLV_PARAMS, badflag, 2 });
	EXPECT(-EPROTO, "10.0.0.1", 80, { AGENT_TLV_PARAMS, nover, 2 });
	EXPECT(-EPROTO, "10.0.0.1", 80, P, N);		/* TLS name without TLS */
	EXPECT(n, "10.0.0.1", 443, { AGENT_TLV_PARAMS, tls, 2 }, N);
	EXPECT(-EPROTO, "10.0.0.1", 0, P);		/* port 0 */
	EXPECT(-EPROTO, "0.0.0.0", 80, P);		/* neither name nor address */
	EXPECT(-EPROTO, "10.0.0.1", 80, P, H);		/* both */
	EXPECT(n, "0.0.0.0", 80, P, H);
	EXPECT(-EPROTO, "0.0.0.0", 80, P, H, H);	/* name twice */
	EXPECT(-EPROTO, "0.0.0.0", 80, P, { AGENT_TLV_TARGET_HOST, (const uint8_t *)"NAS.lan", 7 });
	EXPECT(-EPROTO, "0.0.0.0", 80, P, { AGENT_TLV_TARGET_HOST, (const uint8_t *)"nas\0lan", 7 });
	EXPECT(-EPROTO, "0.0.0.0", 80, P, { AGENT_TLV_TARGET_HOST, (const uint8_t *)"", 0 });
	EXPECT(-EPROTO, "0.0.0.0", 80, P, { AGENT_TLV_TARGET_HOST, (const uint8_t *)"10.0.0.1", 8 });
	EXPECT(-EPROTO, "0.0.0.0", 80, P, { AGENT_TLV_TARGET_HOST, (const uint8_t *)"a..b", 4 });
	EXPECT(-EPROTO, "0.0.0.0", 80, P, { AGENT_TLV_TARGET_HOST, (const uint8_t *)"a.b.", 4 });
}

TEST(name_syntax)
{
	char big[300];
	memset(big, 'a', sizeof(big));
	CHECK(stream_hdr_name_valid(STR_LIT("localhost")));
	CHECK(stream_hdr_name_valid(STR_LIT("my_svc-1.lan")));
	CHECK(stream_hdr_name_valid(STR_LIT("1.2.3.x")));
	CHECK(!stream_hdr_name_valid(STR_LIT("1.2.3.4")));
	CHECK(!stream_hdr_name_valid(STR_LIT(".lan")));
	CHECK(!stream_hdr_name_valid(STR_LIT("a b")));
	CHECK(!stream_hdr_name_valid(str_make(big, 64)));	/* label > 63 */
	CHECK(stream_hdr_name_valid(str_make(big, 63)));
	for (int i = 63; i < 300; i += 64)
		big[i] = '.';
	CHECK(stream_hdr_name_valid(str_make(big, 253)));
	CHECK(!stream_hdr_name_valid(str_make(big, 254)));
}

TEST(encode_limits)
{
	uint8_t b[PROXY_V2_MAX];
	uint8_t big[PROXY_V2_LEN_MAX];
	struct proxy_v2_tlv t = { 0xE5, big, (uint16_t)(PROXY_V2_LEN_MAX - 12 - 2) };
	union proxy_v2_sa s = sa_of("1.2.3.4", 1), d = sa_of("5.6.7.8", 2), d6 = sa_of("::1", 2);
	struct proxy_v2 pv;

	memset(big, 0, sizeof(big));
	CHECK_EQ_INT(proxy_v2_encode(b, sizeof(b), PROXY_V2_PROXY, &s.sa, &d6.sa, NULL, 0, 0), -EINVAL);
	CHECK_EQ_INT(proxy_v2_encode(b, 20, PROXY_V2_PROXY, &s.sa, &d.sa, NULL, 0, 0), -ENOBUFS);
	int n = proxy_v2_encode(b, sizeof(b), PROXY_V2_PROXY, &s.sa, &d.sa, &t, 1, 0);
	CHECK_EQ_INT(n, -ENOBUFS);	/* one byte over */
	t.len--;
	n = proxy_v2_encode(b, sizeof(b), PROXY_V2_PROXY, &s.sa, &d.sa, &t, 1, 0);
	CHECK_EQ_INT(n, PROXY_V2_MAX);
	CHECK_EQ_INT(proxy_v2_parse(b, (size_t)n, &pv), n);
}

TEST(status_names)
{
	CHECK_EQ_STR(agent_status_name(AGENT_STATUS_OK), "ok");
	CHECK_EQ_STR(agent_status_name(AGENT_STATUS_NOT_ALLOWED), "not_allowed");
	CHECK_EQ_STR(agent_status_name(200), "unknown");
}

int main(void)
{
	RUN(v4_round_trip_every_split);
	RUN(v6_host_tls_round_trip);
	RUN(local_is_probe);
	RUN(crc32c_known_value_and_tlv);
	RUN(unknown_tlvs_ignored);
	RUN(rejects_fixed_part);
	RUN(rejects_tlv_layout);
	RUN(rejects_postern_semantics);
	RUN(name_syntax);
	RUN(encode_limits);
	RUN(status_names);
	return unit_done();
}
