/* test_allow.c - the target allowlist: entry syntax, CIDR v4/v6, ports,
 * names and wildcards, the never-allowed addresses, the deny list, and
 * the post-resolution rule (names choose, addresses decide). */
#include <arpa/inet.h>

#include "unit.h"
#include "agent/allow.h"
#include "hub/route_allow.h"

static struct sockaddr_storage ss;

static const struct sockaddr *addr(const char *ip, uint16_t port)
{
	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s = (void *)&ss;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		inet_pton(AF_INET6, ip, &s->sin6_addr);
	} else {
		struct sockaddr_in *s = (void *)&ss;
		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		inet_pton(AF_INET, ip, &s->sin_addr);
	}
	return (const struct sockaddr *)&ss;
}

static int add(struct allow *a, const char *spec)
{
	char err[160];
	int rc = allow_add(a, spec, err, sizeof(err));
	if (rc)
		printf("  (%s: %s)\n", spec, err);
	return rc;
}

TEST(empty_allows_nothing)
{
	struct allow a;
	allow_init(&a);
	CHECK(!allow_addr_check(&a, addr("127.0.0.1", 80)));
	CHECK(!allow_addr_check(&a, addr("192.168.1.1", 80)));
	CHECK(!allow_name_check(&a, STR_LIT("localhost"), 80));
	allow_free(&a);
}

TEST(cidr_v4_and_ports)
{
	struct allow a;
	allow_init(&a);
	CHECK_EQ_INT(add(&a, "192.168.1.0/24:80,443,8000-8100"), 0);
	CHECK_EQ_INT(add(&a, "10.1.2.3"), 0);
	CHECK(allow_addr_check(&a, addr("192.168.1.77", 80)));
	CHECK(allow_addr_check(&a, addr("192.168.1.255", 443)));
	CHECK(allow_addr_check(&a, addr("192.168.1.1", 8000)));
	CHECK(allow_addr_check(&a, addr("192.168.1.1", 8100)));
	CHECK(!allow_addr_check(&a, addr("192.168.1.1", 8101)));
	CHECK(!allow_addr_check(&a, addr("192.168.1.1", 22)));
	CHECK(!allow_addr_check(&a, addr("192.168.2.1", 80)));
	CHECK(allow_addr_check(&a, addr("10.1.2.3", 22)));	/* all ports */
	CHECK(!allow_addr_check(&a, addr("10.1.2.4", 22)));
	CHECK(!allow_addr_check(&a, addr("10.1.2.3", 0)));	/* port 0 never */
	/* IPv4-mapped IPv6 is the IPv4 address. */
	CHECK(allow_addr_check(&a, addr("::ffff:192.168.1.9", 443)));
	CHECK(!allow_addr_check(&a, addr("::ffff:192.168.3.9", 443)));
	allow_free(&a);
}

TEST(cidr_odd_prefixes_and_masking)
{
	struct allow a;
	allow_init(&a);
	CHECK_EQ_INT(add(&a, "172.16.5.9/12"), 0);	/* host bits dropped */
	CHECK(allow_addr_check(&a, addr("172.31.255.254", 1)));
	CHECK(allow_addr_check(&a, addr("172.16.0.1", 1)));
	CHECK(!allow_addr_check(&a, addr("172.32.0.1", 1)));
	CHECK(!allow_addr_check(&a, addr("172.15.255.255", 1)));
	allow_free(&a);
}

TEST(cidr_v6)
{
	struct allow a;
	allow_init(&a);
	CHECK_EQ_INT(add(&a, "[fd00:1:2::/48]:443"), 0);
	CHECK_EQ_INT(add(&a, "2001:db8::1"), 0);
	CHECK_EQ_INT(add(&a, "[fe80::/10]"), 0);
	CHECK(allow_addr_check(&a, addr("fd00:1:2:ffff::5", 443)));
	CHECK(!allow_addr_check(&a, addr("fd00:1:3::5", 443)));
	CHECK(!allow_addr_check(&a, addr("fd00:1:2::5", 80)));
	CHECK(allow_addr_check(&a, addr("2001:db8::1", 9)));
	CHECK(!allow_addr_check(&a, addr("2001:db8::2", 9)));
	CHECK(allow_addr_check(&a, addr("febf::1", 9)));
	CHECK(!allow_addr_check(&a, addr("fec0::1", 9)));
	/* v4 entries do not match v6 and the reverse. */
	CHECK(!allow_addr_check(&a, addr("10.0.0.1", 443)));
	allow_free(&a);
}

TEST(keywords)
{
	struct allow a;
	allow_init(&a);
	CHECK_EQ_INT(add(&a, "private:80"), 0);
	CHECK_EQ_INT(add(&a, "loopback"), 0);
	CHECK(allow_addr_check(&a, addr("10.9.9.9", 80)));
	CHECK(allow_addr_check(&a, addr("172.20.0.1", 80)));
	CHECK(allow_addr_check(&a, addr("192.168.0.1", 80)));
	CHECK(allow_addr_check(&a, addr("fd12::1", 80)));
	CHECK(!allow_addr_check(&a, addr("10.9.9.9", 81)));
	CHECK(!allow_addr_check(&a, addr("100.64.0.1", 80)));
	CHECK(!allow_addr_check(&a, addr("8.8.8.8", 80)));
	CHECK(allow_addr_check(&a, addr("127.0.0.53", 5)));
	CHECK(allow_addr_check(&a, addr("::1", 5)));
	allow_free(&a);
}

TEST(never_allowed)
{
	struct allow a;
	allow_init(&a);
	CHECK_EQ_INT(add(&a, "0.0.0.0/0"), 0);
	CHECK_EQ_INT(add(&a, "::/0"), 0);
	CHECK(allow_addr_check(&a, addr("93.184.216.34", 80)));
	CHECK(!allow_addr_check(&a, addr("0.0.0.0", 80)));
	CHECK(!allow_addr_check(&a, addr("0.1.2.3", 80)));
	CHECK(!allow_addr_check(&a, addr("224.0.0.1", 80)));
	CHECK(!allow_addr_check(&a, addr("255.255.255.255", 80)));
	CHECK(!allow_addr_check(&a, addr("::", 80)));
	CHECK(!allow_addr_check(&a, addr("ff02::1", 80)));
	CHECK(!allow_addr_check(&a, addr("::ffff:0.0.0.0", 80)));
	allow_free(&a);
}

TEST(deny_beats_allow)
{
	struct allow a;
	allow_init(&a);
	CHECK_EQ_INT(add(&a, "100.64.0.0/10"), 0);
	CHECK_EQ_INT(allow_deny_add(&a, addr("100.96.0.2", 0)), 0);
	CHECK_EQ_INT(allow_deny_add(&a, addr("fd7a::2", 0)), 0);
	CHECK(allow_addr_check(&a, addr("100.96.0.3", 4180)));
	CHECK(!allow_addr_check(&a, addr("100.96.0.2", 4180)));
	CHECK(!allow_addr_check(&a, addr("::ffff:100.96.0.2", 80)));
	allow_free(&a);
}

TEST(names_exact_and_wildcard)
{
	struct allow a;
	allow_init(&a);
	CHECK_EQ_INT(add(&a, "NAS.lan:443"), 0);	/* stored lower case */
	CHECK_EQ_INT(add(&a, "*.home.arpa"), 0);
	CHECK_EQ_INT(add(&a, "localhost:8080-8090"), 0);
	CHECK(allow_name_check(&a, STR_LIT("nas.lan"), 443));
	CHECK(!allow_name_check(&a, STR_LIT("nas.lan"), 80));
	CHECK(!allow_name_check(&a, STR_LIT("x.nas.lan"), 443));
	CHECK(!allow_name_check(&a, STR_LIT("nas.lan.evil.com"), 443));
	CHECK(allow_name_check(&a, STR_LIT("printer.home.arpa"), 631));
	CHECK(allow_name_check(&a, STR_LIT("a.b.home.arpa"), 1));
	CHECK(!allow_name_check(&a, STR_LIT("home.arpa"), 1));
	CHECK(!allow_name_check(&a, STR_LIT("xhome.arpa"), 1));
	CHECK(!allow_name_check(&a, STR_LIT("evil-home.arpa"), 1));
	CHECK(allow_name_check(&a, STR_LIT("localhost"), 8085));
	CHECK(!allow_name_check(&a, STR_LIT("localhost"), 8091));
	/* Name entries give no address authority. */
	CHECK(!allow_addr_check(&a, addr("127.0.0.1", 8085)));
	allow_free(&a);
}

/* The agent's rule for names: the name must match, and the address it
 * resolved to must match an address entry too. */
TEST(post_resolution_rule)
{
	struct allow a;
	allow_init(&a);
	CHECK_EQ_INT(add(&a, "*.example.org:443"), 0);
	CHECK_EQ_INT(add(&a, "203.0.113.0/24:443"), 0);
	/* rebound.example.org now resolves into the LAN: refused. */
	CHECK(allow_name_check(&a, STR_LIT("rebound.example.org"), 443));
	CHECK(!allow_addr_check(&a, addr("192.168.1.1", 443)));
	CHECK(allow_addr_check(&a, addr("203.0.113.5", 443)));
	allow_free(&a);
}

TEST(bad_entries)
{
	static const char *const bad[] = {
		"", ":80", "10.0.0.0/33", "[fd00::/129]", "10.0.0.1:0",
		"10.0.0.1:65536", "10.0.0.1:90-80", "10.0.0.1:80,", "10.0.0.1:",
		"10.0.0.1:x", "[10.0.0.1]", "[fd00::1", "[fd00::1]80", "*", "*.",
		"a..b", "nas.lan.", "-x-:1:2", "a b", "10.0.0.1/8x",
		"1:2:3:4:5:6:7:8:9", "host:1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17",
		"999.1.1.1",
	};
	struct allow a;
	char err[160];
	allow_init(&a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		if (allow_add(&a, bad[i], err, sizeof(err)) != -1)
			UNIT_FAIL("'%s' accepted", bad[i]);
		else if (!err[0])
			UNIT_FAIL("'%s' refused without a message", bad[i]);
	}
	CHECK_EQ_INT(a.n, 0);
	allow_free(&a);
}

/* The hub's check of a route against the values an agent reported: the
 * agent's own rules, the values kept as given, and "cannot tell" for a
 * value the hub cannot read. */
TEST(hub_checks_routes_against_reported_values)
{
	struct allow a;
	char err[128];
	json_t *rep = json_pack("[s,s,s]", "192.168.1.10:80,443", "nas.lan:443", "[fd00::/8]");
	json_t *odd = json_pack("[s]", "192.168.1.0/33");

	allow_init(&a);
	CHECK_EQ_INT(allow_add(&a, "192.168.1.10:80,443", err, sizeof(err)), 0);
	CHECK_EQ_INT(allow_add(&a, "bad entry", err, sizeof(err)), -1);
	CHECK_EQ_INT(a.nspecs, 1);
	CHECK_EQ_STR(a.specs[0], "192.168.1.10:80,443");
	allow_free(&a);
	CHECK_EQ_INT(route_allow_check(rep, "192.168.1.10", 80), 1);
	CHECK_EQ_INT(route_allow_check(rep, "192.168.1.10", 81), 0);
	CHECK_EQ_INT(route_allow_check(rep, "192.168.1.11", 80), 0);
	CHECK_EQ_INT(route_allow_check(rep, "nas.lan", 443), 1);
	CHECK_EQ_INT(route_allow_check(rep, "nas.lan", 80), 0);
	CHECK_EQ_INT(route_allow_check(rep, "other.lan", 443), 0);
	CHECK_EQ_INT(route_allow_check(rep, "fd00::5", 8080), 1);
	CHECK_EQ_INT(route_allow_check(rep, "fe80::5", 8080), 0);
	CHECK_EQ_INT(route_allow_check(odd, "192.168.1.1", 80), -1);
	json_decref(rep);
	json_decref(odd);
}

int main(void)
{
	RUN(empty_allows_nothing);
	RUN(cidr_v4_and_ports);
	RUN(cidr_odd_prefixes_and_masking);
	RUN(cidr_v6);
	RUN(keywords);
	RUN(never_allowed);
	RUN(deny_beats_allow);
	RUN(names_exact_and_wildcard);
	RUN(post_resolution_rule);
	RUN(bad_entries);
	RUN(hub_checks_routes_against_reported_values);
	return unit_done();
}
