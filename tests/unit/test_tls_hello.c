/* test_tls_hello.c - the ClientHello parsers (SNI, ALPN) on raw bytes. */
#include "unit.h"
#include "tls/internal.h"

static int sni(const char *bytes, size_t len, char *out)
{
	return tls_hello_parse_sni((const uint8_t *)bytes, len, out,
				   TLS_NAME_MAX + 1);
}

TEST(sni_parse)
{
	char out[TLS_NAME_MAX + 1];
	char big[2 + 3 + 300];

	CHECK_EQ_INT(sni("\x00\x08\x00\x00\x05" "A.b.C", 10, out), 5);
	CHECK_EQ_STR(out, "a.b.c");
	/* A trailing dot is dropped. */
	CHECK_EQ_INT(sni("\x00\x07\x00\x00\x04" "a.b.", 9, out), 3);
	CHECK_EQ_STR(out, "a.b");
	/* Another name type first, then host_name. */
	CHECK_EQ_INT(sni("\x00\x0b\x07\x00\x02xy\x00\x00\x03" "a.b", 13,
			 out), 3);
	/* No host_name entry. */
	CHECK_EQ_INT(sni("\x00\x05\x07\x00\x02xy", 7, out), 0);
	/* Malformed lengths. */
	CHECK_EQ_INT(sni("", 0, out), -1);
	CHECK_EQ_INT(sni("\x00", 1, out), -1);
	CHECK_EQ_INT(sni("\x00\x09\x00\x00\x05" "a.b.c", 10, out), -1);
	CHECK_EQ_INT(sni("\x00\x08\x00\x00\x06" "a.b.c", 10, out), -1);
	CHECK_EQ_INT(sni("\x00\x02\x00\x00", 4, out), -1);
	/* Invalid names. */
	CHECK_EQ_INT(sni("\x00\x08\x00\x00\x05" "a\0b.c", 10, out), -1);
	CHECK_EQ_INT(sni("\x00\x08\x00\x00\x05" "a b.c", 10, out), -1);
	CHECK_EQ_INT(sni("\x00\x08\x00\x00\x05" "a..bc", 10, out), -1);
	CHECK_EQ_INT(sni("\x00\x08\x00\x00\x05" ".ab.c", 10, out), -1);
	CHECK_EQ_INT(sni("\x00\x08\x00\x00\x05" "ab.c/", 10, out), -1);
	CHECK_EQ_INT(sni("\x00\x04\x00\x00\x01" ".", 6, out), -1);
	CHECK_EQ_INT(sni("\x00\x03\x00\x00\x00", 5, out), -1);
	/* 253 bytes is the limit. */
	memset(big, 'a', sizeof(big));
	big[0] = 0x01;
	big[1] = 0x00;		/* list: 256 = 3 + 253 */
	big[2] = 0x00;		/* host_name */
	big[3] = 0x00;
	big[4] = (char)253;
	CHECK_EQ_INT(sni(big, 2 + 3 + 253, out), 253);
	big[1] = 0x01;
	big[4] = (char)254;
	CHECK_EQ_INT(sni(big, 2 + 3 + 254, out), -1);
}

TEST(alpn_lists)
{
	static const uint8_t cli[] = "\x08http/1.1\x02h2";
	static const uint8_t srv[] = "\x02h2\x08http/1.1";
	const uint8_t *out = NULL;
	uint8_t outlen = 0, wire[64];

	CHECK(tls_hello_alpn_has(cli, 12, "h2", 2));
	CHECK(tls_hello_alpn_has(cli, 12, "http/1.1", 8));
	CHECK(!tls_hello_alpn_has(cli, 12, "http/1", 6));
	/* Truncated or zero-length entries: nothing matches past them. */
	CHECK(!tls_hello_alpn_has(cli, 11, "h2", 2));
	CHECK(!tls_hello_alpn_has((const uint8_t *)"\x00\x02h2", 4, "h2", 2));
	CHECK(!tls_hello_alpn_has((const uint8_t *)"\x09http/1.1", 9,
				  "http/1.1", 8));
	CHECK_EQ_INT(tls_hello_alpn_pick(srv, 12, cli, 12, &out, &outlen), 1);
	CHECK(outlen == 2 && out && !memcmp(out, "h2", 2));
	CHECK_EQ_INT(tls_hello_alpn_pick(srv, 12, (const uint8_t *)"\x03"
					 "foo", 4, &out, &outlen), 0);
	CHECK_EQ_INT(tls_hello_alpn_pick(srv, 12, cli, 0, &out, &outlen), 0);
	CHECK_EQ_INT(tls_hello_alpn_wire("h2, http/1.1", wire, sizeof(wire)),
		     12);
	CHECK_EQ_MEM(wire, srv, 12);
	CHECK_EQ_INT(tls_hello_alpn_wire("", wire, sizeof(wire)), -1);
	CHECK_EQ_INT(tls_hello_alpn_wire("h2,acme-tls/1", wire, sizeof(wire)),
		     -1);
	CHECK_EQ_INT(tls_hello_alpn_wire("h2,http/1.1", wire, 5), -1);
}

int main(void)
{
	RUN(sni_parse);
	RUN(alpn_lists);
	return unit_done();
}
