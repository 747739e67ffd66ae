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

/* A target the allowlist is asked about (an IPv4 or IPv6 address goes to
 * allow_addr_check, anything else is a name for allow_name_check), its
 * port, and whether it must be allowed. */
struct probe {
	bool allowed;
	const char *target;
	uint16_t port;
};

/* An allowlist made of `entries` (each must be accepted) and the
 * addresses in `denied` (the deny list), then asked about every probe.
 * The lists end with NULL / a NULL target. */
struct allow_case {
	const char *name;
	const char *const *entries, *const *denied;
	const struct probe *probes;
};

static bool is_addr(const char *t)
{
	uint8_t buf[16];

	return inet_pton(AF_INET, t, buf) == 1 || inet_pton(AF_INET6, t, buf) == 1;
}

static void check_allow_case(const struct allow_case *c)
{
	struct allow a;

	allow_init(&a);
	for (const char *const *e = c->entries; *e; e++)
		CHECK_EQ_INT(add(&a, *e), 0);
	for (const char *const *d = c->denied; d && *d; d++)
		CHECK_EQ_INT(allow_deny_add(&a, addr(*d, 0)), 0);
	for (const struct probe *p = c->probes; p->target; p++) {
		bool got = is_addr(p->target) ? allow_addr_check(&a, addr(p->target, p->port))
					      : allow_name_check(&a, str_cstr(p->target), p->port);

		if (got != p->allowed)
			UNIT_FAIL("%s port %u: %s, want %s", p->target, p->port,
				  got ? "allowed" : "refused", p->allowed ? "allowed" : "refused");
	}
	allow_free(&a);
}

#define LIST(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define PROBES(...) ((const struct probe[]){ __VA_ARGS__, { 0 } })

static const struct allow_case allow_cases[] = {
	{ "empty_allows_nothing", LIST(NULL), NULL, PROBES(
		{ false, "127.0.0.1", 80 }, { false, "192.168.1.1", 80 },
		{ false, "localhost", 80 }) },
	{ "cidr_v4_and_ports", LIST("192.168.1.0/24:80,443,8000-8100", "10.1.2.3"), NULL, PROBES(
		{ true, "192.168.1.77", 80 }, { true, "192.168.1.255", 443 },
		{ true, "192.168.1.1", 8000 }, { true, "192.168.1.1", 8100 },
		{ false, "192.168.1.1", 8101 }, { false, "192.168.1.1", 22 },
		{ false, "192.168.2.1", 80 },
		{ true, "10.1.2.3", 22 },	/* all ports */
		{ false, "10.1.2.4", 22 },
		{ false, "10.1.2.3", 0 },	/* port 0 never */
		/* IPv4-mapped IPv6 is the IPv4 address. */
		{ true, "::ffff:192.168.1.9", 443 }, { false, "::ffff:192.168.3.9", 443 }) },
	/* Host bits dropped. */
	{ "cidr_odd_prefixes_and_masking", LIST("172.16.5.9/12"), NULL, PROBES(
		{ true, "172.31.255.254", 1 }, { true, "172.16.0.1", 1 },
		{ false, "172.32.0.1", 1 }, { false, "172.15.255.255", 1 }) },
	{ "cidr_v6", LIST("[fd00:1:2::/48]:443", "2001:db8::1", "[fe80::/10]"), NULL, PROBES(
		{ true, "fd00:1:2:ffff::5", 443 }, { false, "fd00:1:3::5", 443 },
		{ false, "fd00:1:2::5", 80 }, { true, "2001:db8::1", 9 },
		{ false, "2001:db8::2", 9 }, { true, "febf::1", 9 }, { false, "fec0::1", 9 },
		/* v4 entries do not match v6 and the reverse. */
		{ false, "10.0.0.1", 443 }) },
	{ "keywords", LIST("private:80", "loopback"), NULL, PROBES(
		{ true, "10.9.9.9", 80 }, { true, "172.20.0.1", 80 }, { true, "192.168.0.1", 80 },
		{ true, "fd12::1", 80 }, { false, "10.9.9.9", 81 }, { false, "100.64.0.1", 80 },
		{ false, "8.8.8.8", 80 }, { true, "127.0.0.53", 5 }, { true, "::1", 5 }) },
	{ "never_allowed", LIST("0.0.0.0/0", "::/0"), NULL, PROBES(
		{ true, "93.184.216.34", 80 }, { false, "0.0.0.0", 80 }, { false, "0.1.2.3", 80 },
		{ false, "224.0.0.1", 80 }, { false, "255.255.255.255", 80 }, { false, "::", 80 },
		{ false, "ff02::1", 80 }, { false, "::ffff:0.0.0.0", 80 }) },
	{ "deny_beats_allow", LIST("100.64.0.0/10"), LIST("100.96.0.2", "fd7a::2"), PROBES(
		{ true, "100.96.0.3", 4180 }, { false, "100.96.0.2", 4180 },
		{ false, "::ffff:100.96.0.2", 80 }) },
	/* NAS.lan is stored lower case. */
	{ "names_exact_and_wildcard", LIST("NAS.lan:443", "*.home.arpa", "localhost:8080-8090"),
	  NULL, PROBES(
		{ true, "nas.lan", 443 }, { false, "nas.lan", 80 }, { false, "x.nas.lan", 443 },
		{ false, "nas.lan.evil.com", 443 }, { true, "printer.home.arpa", 631 },
		{ true, "a.b.home.arpa", 1 }, { false, "home.arpa", 1 }, { false, "xhome.arpa", 1 },
		{ false, "evil-home.arpa", 1 }, { true, "localhost", 8085 },
		{ false, "localhost", 8091 },
		/* Name entries give no address authority. */
		{ false, "127.0.0.1", 8085 }) },
	/* The agent's rule for names: the name must match, and the address it
	 * resolved to must match an address entry too. rebound.example.org
	 * now resolves into the LAN: refused. */
	{ "post_resolution_rule", LIST("*.example.org:443", "203.0.113.0/24:443"), NULL, PROBES(
		{ true, "rebound.example.org", 443 }, { false, "192.168.1.1", 443 },
		{ true, "203.0.113.5", 443 }) },
};

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
	RUN_CASES(check_allow_case, allow_cases);
	RUN(bad_entries);
	RUN(hub_checks_routes_against_reported_values);
	return unit_done();
}
