/* test_wg_tables.c - the replay window and cryptokey routing tables. */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#include "unit.h"

#include "wg/allowedips.h"
#include "wg/proto.h"
#include "wg/replay.h"

/* ---- replay window ---- */

TEST(replay_in_order_and_duplicates)
{
	struct wg_replay r;

	wg_replay_init(&r);
	for (uint64_t i = 0; i < 5000; i++) {
		CHECK(wg_replay_check(&r, i));
		CHECK(wg_replay_update(&r, i));
		CHECK(!wg_replay_update(&r, i));
		CHECK(!wg_replay_check(&r, i));
	}
}

TEST(replay_out_of_order_inside_window)
{
	struct wg_replay r;

	wg_replay_init(&r);
	CHECK(wg_replay_update(&r, 3000));
	/* Everything up to WG_REPLAY_WINDOW behind the top is accepted once. */
	for (uint64_t i = 3000 - WG_REPLAY_WINDOW; i < 3000; i += 7)
		CHECK(wg_replay_update(&r, i));
	for (uint64_t i = 3000 - WG_REPLAY_WINDOW; i < 3000; i += 7)
		CHECK(!wg_replay_update(&r, i));
	CHECK(wg_replay_update(&r, 3000 - WG_REPLAY_WINDOW + 1));
	/* One further back is too old. */
	CHECK(!wg_replay_check(&r, 3000 - WG_REPLAY_WINDOW - 1));
	CHECK(!wg_replay_update(&r, 3000 - WG_REPLAY_WINDOW - 1));
	CHECK(!wg_replay_update(&r, 0));
	CHECK(wg_replay_update(&r, 2999));
}

TEST(replay_window_jump_clears_history)
{
	struct wg_replay r;

	wg_replay_init(&r);
	for (uint64_t i = 0; i < 64; i++)
		CHECK(wg_replay_update(&r, i));
	/* A jump far ahead: the old counters are now out of the window... */
	CHECK(wg_replay_update(&r, 1000000));
	CHECK(!wg_replay_check(&r, 10));
	/* ...and counters the ring slid over are fresh, not "seen": the
	 * recycled blocks were cleared. */
	CHECK(wg_replay_update(&r, 1000000 - 64));
	CHECK(wg_replay_update(&r, 1000000 - 1));
	CHECK(wg_replay_update(&r, 1000000 - WG_REPLAY_WINDOW));
	CHECK(!wg_replay_update(&r, 1000000 - 64));
	/* A jump of exactly one block boundary. */
	CHECK(wg_replay_update(&r, 1000064));
	CHECK(wg_replay_update(&r, 1000063));
	CHECK(!wg_replay_update(&r, 1000064));
	/* A fresh window starting at a high counter. */
	wg_replay_init(&r);
	CHECK(wg_replay_update(&r, 1ULL << 40));
	CHECK(wg_replay_update(&r, (1ULL << 40) - 5));
	CHECK(!wg_replay_update(&r, (1ULL << 40) - 5));
}

TEST(replay_counter_limit)
{
	struct wg_replay r;

	wg_replay_init(&r);
	CHECK(!wg_replay_check(&r, WG_REJECT_AFTER_MESSAGES));
	CHECK(!wg_replay_update(&r, WG_REJECT_AFTER_MESSAGES));
	CHECK(!wg_replay_update(&r, UINT64_MAX));
	CHECK(wg_replay_update(&r, WG_REJECT_AFTER_MESSAGES - 1));
	CHECK(!wg_replay_update(&r, WG_REJECT_AFTER_MESSAGES - 1));
	CHECK(wg_replay_update(&r, WG_REJECT_AFTER_MESSAGES - 2));
	CHECK(!wg_replay_update(&r, WG_REJECT_AFTER_MESSAGES));
}

/* ---- allowed IPs ---- */

static int A, B, C, D; /* peers: only their addresses matter */

static void *lk4(struct wg_allowedips *t, const char *ip)
{
	struct in_addr a;
	inet_pton(AF_INET, ip, &a);
	return wg_allowedips_lookup(t, AF_INET, &a);
}

static void *lk6(struct wg_allowedips *t, const char *ip)
{
	struct in6_addr a;
	inet_pton(AF_INET6, ip, &a);
	return wg_allowedips_lookup(t, AF_INET6, &a);
}

static int ins(struct wg_allowedips *t, const char *ip, unsigned cidr, void *p)
{
	uint8_t a[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
	inet_pton(fam, ip, a);
	return wg_allowedips_insert(t, fam, a, cidr, p);
}

static int rm(struct wg_allowedips *t, const char *ip, unsigned cidr, void *p)
{
	uint8_t a[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
	inet_pton(fam, ip, a);
	return wg_allowedips_remove(t, fam, a, cidr, p);
}

/* A prefix and the peer it is inserted for. */
struct pfx {
	const char *ip;
	unsigned cidr;
	void *peer;
};

/* Inserts every prefix of the list; each must be accepted. */
static void ins_all(struct wg_allowedips *t, const struct pfx *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ins(t, p[i].ip, p[i].cidr, p[i].peer) != 0)
			UNIT_FAIL("insert %s/%u refused", p[i].ip, p[i].cidr);
}

/* An address (IPv6 when it holds a ':') and the peer its lookup must
 * find, NULL for none. */
struct want {
	const char *ip;
	void *peer;
};

static void check_lookups(struct wg_allowedips *t, const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		void *got = strchr(w[i].ip, ':') ? lk6(t, w[i].ip) : lk4(t, w[i].ip);

		if (got != w[i].peer)
			UNIT_FAIL("lookup %s: wrong peer", w[i].ip);
	}
}

TEST(allowedips_v4_longest_prefix)
{
	static const struct pfx pfx[] = {
		{ "10.0.0.0", 8, &A }, { "10.1.0.0", 16, &B }, { "10.1.2.3", 32, &C },
		{ "10.1.2.128", 25, &D },
	};
	static const struct want want[] = {
		{ "10.9.9.9", &A }, { "10.1.9.9", &B }, { "10.1.2.3", &C }, { "10.1.2.4", &B },
		{ "10.1.2.200", &D }, { "11.0.0.0", NULL }, { "9.255.255.255", NULL },
	};
	struct wg_allowedips t;

	wg_allowedips_init(&t);
	CHECK(lk4(&t, "10.0.0.1") == NULL);
	ins_all(&t, pfx, UNIT_NCASES(pfx));
	check_lookups(&t, want, UNIT_NCASES(want));
	/* /0 catches the rest, and loses to anything longer. */
	CHECK_EQ_INT(ins(&t, "0.0.0.0", 0, &D), 0);
	CHECK(lk4(&t, "11.0.0.0") == &D);
	CHECK(lk4(&t, "10.1.2.3") == &C);
	/* Host bits are ignored on insert. */
	CHECK_EQ_INT(ins(&t, "192.168.77.99", 24, &B), 0);
	CHECK(lk4(&t, "192.168.77.1") == &B);
	CHECK_EQ_INT(wg_allowedips_walk_peer(&t, &B, NULL, NULL), 2);
	CHECK_EQ_INT(ins(&t, "10.0.0.0", 33, &A), -EINVAL);
	wg_allowedips_free(&t);
}

TEST(allowedips_replace_and_remove)
{
	static const struct pfx first[] = { { "10.1.0.0", 16, &A }, { "10.1.2.0", 24, &B } };
	static const struct pfx more[] = {
		{ "172.16.0.1", 32, &D }, { "fd00::", 8, &D }, { "172.16.0.0", 12, &A },
	};
	struct wg_allowedips t;

	wg_allowedips_init(&t);
	ins_all(&t, first, UNIT_NCASES(first));
	/* Inserting an existing prefix moves it to the new peer. */
	CHECK_EQ_INT(ins(&t, "10.1.0.0", 16, &C), 0);
	CHECK(lk4(&t, "10.1.9.9") == &C);
	CHECK_EQ_INT(wg_allowedips_walk_peer(&t, &A, NULL, NULL), 0);
	/* Removing the /24 exposes the /16 again. */
	CHECK_EQ_INT(rm(&t, "10.1.2.0", 24, &A), -ENOENT); /* not A's */
	CHECK_EQ_INT(rm(&t, "10.1.2.0", 24, &B), 0);
	CHECK(lk4(&t, "10.1.2.1") == &C);
	CHECK_EQ_INT(rm(&t, "10.1.2.0", 24, NULL), -ENOENT);
	/* Removing a peer removes all its prefixes, both families. */
	ins_all(&t, more, UNIT_NCASES(more));
	CHECK_EQ_INT(wg_allowedips_walk_peer(&t, &D, NULL, NULL), 2);
	wg_allowedips_remove_peer(&t, &D);
	CHECK(lk4(&t, "172.16.0.1") == &A);
	CHECK(lk6(&t, "fd00::1") == NULL);
	CHECK_EQ_INT(wg_allowedips_walk_peer(&t, &D, NULL, NULL), 0);
	CHECK_EQ_INT(wg_allowedips_walk_peer(&t, &C, NULL, NULL), 1);
	wg_allowedips_remove_peer(&t, &A);
	wg_allowedips_remove_peer(&t, &C);
	CHECK(t.root4 == NULL && t.root6 == NULL);
	wg_allowedips_free(&t);
}

TEST(allowedips_v6)
{
	static const struct pfx pfx[] = {
		{ "2001:db8::", 32, &A }, { "2001:db8:1::", 48, &B }, { "2001:db8:1::1", 128, &C },
		{ "::", 0, &D },
	};
	static const struct want want[] = {
		{ "2001:db8:1::1", &C }, { "2001:db8:1::2", &B }, { "2001:db8:2::2", &A },
		{ "2001:db9::", &D }, { "::1", &D },
		/* The families are separate tables. */
		{ "1.2.3.4", NULL },
	};
	struct wg_allowedips t;

	wg_allowedips_init(&t);
	ins_all(&t, pfx, UNIT_NCASES(pfx));
	check_lookups(&t, want, UNIT_NCASES(want));
	CHECK_EQ_INT(ins(&t, "2001:db8::", 129, &A), -EINVAL);
	/* Prefixes that differ only in the last bit. */
	CHECK_EQ_INT(ins(&t, "fe80::", 127, &A), 0);
	CHECK_EQ_INT(ins(&t, "fe80::1", 128, &B), 0);
	CHECK(lk6(&t, "fe80::") == &A);
	CHECK(lk6(&t, "fe80::1") == &B);
	CHECK_EQ_INT(rm(&t, "fe80::1", 128, &B), 0);
	CHECK(lk6(&t, "fe80::1") == &A);
	wg_allowedips_free(&t);
}

struct walk_acc {
	unsigned n;
	char seen[4][64];
};

static void walk_cb(void *ctx, int family, const uint8_t *addr, unsigned cidr)
{
	struct walk_acc *w = ctx;
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, ip, sizeof(ip));
	if (w->n < 4)
		snprintf(w->seen[w->n], sizeof(w->seen[0]), "%s/%u", ip, cidr);
	w->n++;
}

TEST(allowedips_walk_reports_masked_prefixes)
{
	static const struct pfx pfx[] = {
		{ "10.9.8.7", 16, &A }, { "fd00::1:2", 64, &A }, { "10.9.0.0", 24, &B },
	};
	struct wg_allowedips t;
	struct walk_acc w = { 0 };

	wg_allowedips_init(&t);
	ins_all(&t, pfx, UNIT_NCASES(pfx));
	CHECK_EQ_INT(wg_allowedips_walk_peer(&t, &A, walk_cb, &w), 2);
	CHECK_EQ_STR(w.seen[0], "10.9.0.0/16");
	CHECK_EQ_STR(w.seen[1], "fd00::/64");
	wg_allowedips_free(&t);
}

/* Many random prefixes: the trie agrees with a linear longest match. */
TEST(allowedips_random_against_linear)
{
	struct wg_allowedips t;
	struct { uint32_t a; unsigned cidr; int *peer; } v[300];
	int peers[300];
	uint32_t x = 12345;

	wg_allowedips_init(&t);
	for (int i = 0; i < 300; i++) {
		x = x * 1103515245 + 12345;
		v[i].cidr = (x >> 8) % 33;
		x = x * 1103515245 + 12345;
		v[i].a = x & (v[i].cidr ? ~0u << (32 - v[i].cidr) : 0);
		v[i].a &= 0xff0fffff; /* cluster them so prefixes overlap */
		v[i].peer = &peers[i];
		uint32_t be = htonl(v[i].a);
		CHECK_EQ_INT(wg_allowedips_insert(&t, AF_INET, &be, v[i].cidr,
						  v[i].peer), 0);
	}
	for (int k = 0; k < 3000; k++) {
		x = x * 1103515245 + 12345;
		uint32_t q = x & 0xff0fffff, be = htonl(q);
		int *want = NULL;
		int best = -1;
		for (int i = 0; i < 300; i++) {
			uint32_t m = v[i].cidr ? ~0u << (32 - v[i].cidr) : 0;
			/* a later insert of the same prefix wins */
			if ((q & m) == (v[i].a & m) && (int)v[i].cidr >= best) {
				best = (int)v[i].cidr;
				want = v[i].peer;
			}
		}
		if (wg_allowedips_lookup(&t, AF_INET, &be) != want)
			UNIT_FAIL("lookup %08x", q);
	}
	wg_allowedips_free(&t);
}

int main(void)
{
	RUN(replay_in_order_and_duplicates);
	RUN(replay_out_of_order_inside_window);
	RUN(replay_window_jump_clears_history);
	RUN(replay_counter_limit);
	RUN(allowedips_v4_longest_prefix);
	RUN(allowedips_replace_and_remove);
	RUN(allowedips_v6);
	RUN(allowedips_walk_reports_masked_prefixes);
	RUN(allowedips_random_against_linear);
	return unit_done();
}
