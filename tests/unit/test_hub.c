/* test_hub.c - route table compile and lookup, addresses, snapshots. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"

#include <arpa/inet.h>

#include "proto/agent_proto.h"
#include "proto/stream_hdr.h"
#include "core/buf.h"
#include "http/parse.h"
#include "core/addr.h"
#include "front/metrics.h"
#include "hub/route.h"
#include "hub/tunnel.h"
#include "front/snap.h"
#include "front/xchg_head.h"

/* The hub's registries, one set for the whole test (struct hub holds
 * them in the daemon). */
static struct route_pools test_pools;
static struct metrics test_metrics;
static struct hub_tunnel_online test_online;
static struct route_env test_env = {
	.pools = &test_pools, .metrics = &test_metrics, .online = &test_online,
};
static _Atomic uint64_t test_snap_version;

static const char *lookup(const struct route_table *t, const char *host,
			  const char *path)
{
	const struct route *r = route_lookup(t, str_cstr(host), str_cstr(path));
	return r ? r->name : "-";
}

TEST(route_lookup_order)
{
	struct route_spec specs[] = {
		{ .id = 1, .name = "exact", .host = "App.Example.com", .target = "http://127.0.0.1:1" },
		{ .id = 2, .name = "exact-api", .host = "app.example.com", .path_prefix = "/api/",
		  .target = "http://127.0.0.1:2" },
		{ .id = 3, .name = "exact-api-v2", .host = "app.example.com", .path_prefix = "/api/v2",
		  .target = "http://127.0.0.1:2" },
		{ .id = 4, .name = "wild", .host = "*.example.com", .target = "http://127.0.0.1:3" },
		{ .id = 5, .name = "wild-deep", .host = "*.b.example.com", .target = "http://127.0.0.1:3" },
		{ .id = 6, .name = "any", .host = "*", .path_prefix = "/only", .target = "http://127.0.0.1:4" },
		{ .id = 7, .name = "exact-img", .host = "img.example.com", .path_prefix = "/img",
		  .target = "http://127.0.0.1:4" },
	};
	char err[256];
	struct route_table *t = route_table_build(&test_env, specs, 7, err, sizeof(err));

	CHECK(t != NULL);
	if (!t)
		return;
	CHECK_EQ_STR(lookup(t, "app.example.com", "/"), "exact");
	CHECK_EQ_STR(lookup(t, "APP.example.com:443", "/x"), "exact");
	CHECK_EQ_STR(lookup(t, "app.example.com.", "/x"), "exact");
	CHECK_EQ_STR(lookup(t, "app.example.com", "/api"), "exact-api");
	CHECK_EQ_STR(lookup(t, "app.example.com", "/api/x"), "exact-api");
	CHECK_EQ_STR(lookup(t, "app.example.com", "/api?q"), "exact-api");
	CHECK_EQ_STR(lookup(t, "app.example.com", "/apix"), "exact");
	CHECK_EQ_STR(lookup(t, "app.example.com", "/api/v2/y"), "exact-api-v2");
	CHECK_EQ_STR(lookup(t, "app.example.com", "/api/v20"), "exact-api");
	CHECK_EQ_STR(lookup(t, "z.example.com", "/"), "wild");
	CHECK_EQ_STR(lookup(t, "a.b.example.com", "/"), "wild-deep");
	CHECK_EQ_STR(lookup(t, "x.a.b.example.com", "/"), "wild-deep");
	CHECK_EQ_STR(lookup(t, "example.com", "/"), "-");
	CHECK_EQ_STR(lookup(t, "example.com", "/only/x"), "any");
	/* An exact host without a matching path falls back to wildcards. */
	CHECK_EQ_STR(lookup(t, "img.example.com", "/other"), "wild");
	CHECK_EQ_STR(lookup(t, "img.example.com", "/img/a"), "exact-img");
	CHECK_EQ_STR(lookup(t, "", "/"), "-");
	CHECK_EQ_INT(route_table_count(t), 7);
	route_table_free(t);
}

/* An encoded slash that would move a request to another route (one with
 * a login) is ambiguous; one that leaves it where it is, is not. */
TEST(route_encoded_slash_ambiguity)
{
	struct route_spec specs[] = {
		{ .id = 1, .name = "open", .host = "a.test", .target = "http://127.0.0.1:1" },
		{ .id = 2, .name = "admin", .host = "a.test", .path_prefix = "/admin",
		  .target = "http://127.0.0.1:2" },
		{ .id = 3, .name = "deep", .host = "a.test", .path_prefix = "/x/y",
		  .target = "http://127.0.0.1:3" },
		{ .id = 4, .name = "only", .host = "b.test", .path_prefix = "/p",
		  .target = "http://127.0.0.1:4" },
	};
	static const struct { const char *host, *path, *route; bool amb; } cases[] = {
		{ "a.test", "/admin%2F", "open", true },
		{ "a.test", "/ADMIN%5Cz", "open", true },
		{ "a.test", "/x%2Fy/z", "open", true },
		{ "a.test", "/%2Fadmin", "open", true },
		{ "a.test", "/x%2F%2Fy", "open", true },
		{ "a.test", "/group%2Fproject", "open", false },
		{ "a.test", "/admin/a%2Fb", "admin", false },
		{ "a.test", "/admin", "admin", false },
		{ "a.test", "/adminx%2F", "open", false },
		{ "a.test", "/q?r=/admin%2F", "open", false },
		{ "b.test", "/p%2Fq", "-", true },
		{ "b.test", "/q%2Fp", "-", false },
	};
	char err[256];
	struct route_table *t = route_table_build(&test_env, specs, 4, err, sizeof(err));

	CHECK(t != NULL);
	if (!t)
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct str h = str_cstr(cases[i].host), p = str_cstr(cases[i].path);
		const struct route *r = route_lookup(t, h, p);

		CHECK_EQ_STR(lookup(t, cases[i].host, cases[i].path), cases[i].route);
		CHECK(route_path_ambiguous(t, h, p, r) == cases[i].amb);
	}
	route_table_free(t);
}

/* A table of one route, a.test/api/ to http://127.0.0.1:8080/base/ with
 * the prefix stripped, and its route for /api/x in *r (the caller frees
 * the table; NULL when it could not be built). */
static struct route_table *api_route_table(const struct route **r)
{
	static const struct route_spec s = {
		.id = 1, .host = "a.test", .path_prefix = "/api/", .strip_prefix = true,
		.target = "http://127.0.0.1:8080/base/" };
	char err[256];
	struct route_table *t = route_table_build(&test_env, &s, 1, err, sizeof(err));

	CHECK(t != NULL);
	if (!t)
		return NULL;
	*r = route_lookup(t, STR_LIT("a.test"), STR_LIT("/api/x"));
	CHECK(*r != NULL);
	return t;
}

TEST(route_rewrite_fields)
{
	const struct route *r;
	struct route_table *t = api_route_table(&r);

	if (!t)
		return;
	CHECK_EQ_STR(r->prefix, "/api");
	CHECK_EQ_STR(r->target.base, "/base");
	CHECK_EQ_STR(r->target.label, "127.0.0.1:8080");
	CHECK_EQ_STR(r->name, "route-1");
	route_table_free(t);
}

/* The head sent upstream, byte for byte: the route's path rewrite, the
 * client's end-to-end fields, the hub's forwarding fields (replacing a
 * client's, appended to a trusted proxy's, IPv6 quoted and bracketed),
 * the request id and the framing the hub chose. */
static const struct http_limits head_lim = {
	.max_line = 8192, .max_head = 16384, .max_headers = 50, .max_body = 1u << 20,
};

static int head_for(const struct route *r, const char *in, const char *peer, bool https,
		    bool trusted, const char *rid, struct buf *out)
{
	struct http_msg m;
	size_t scan = 0;
	struct xchg_req rq;

	if (http_parse_request(&m, in, strlen(in), &head_lim, &scan) <= 0)
		return -1000;
	rq = (struct xchg_req){
		.msg = &m, .scheme_host = m.host, .peer_ip = peer, .https = https,
		.trusted_peer = trusted, .body = m.body, .body_len = m.content_length,
		.upgrade = (m.flags & HTTP_F_UPGRADE) != 0,
	};
	return xchg_head_build(out, r, &rq, "X-Request-Id", rid);
}

#define CHECK_HEAD(b, want)                                                   \
	do {                                                                  \
		CHECK_EQ_INT((b)->len, strlen(want));                          \
		if ((b)->len == strlen(want))                                  \
			CHECK_EQ_MEM(buf_head(b), want, strlen(want));         \
	} while (0)

TEST(upstream_head_bytes)
{
	const struct route *r;
	struct route_table *t = api_route_table(&r);
	struct buf b;

	if (!t)
		return;
	buf_init(&b, 8192);

	/* A client's forwarding fields and request id are replaced; fields
	 * named by Connection are dropped. */
	CHECK_EQ_INT(head_for(r,
		"POST /api/x?q=1 HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 1.2.3.4\r\n"
		"Forwarded: for=evil\r\nX-Request-Id: theirs\r\nConnection: keep-alive, X-Hop\r\n"
		"X-Hop: 1\r\nAccept: */*\r\nContent-Length: 5\r\n\r\n",
		"203.0.113.7", true, false, "0123abcd", &b), 0);
	CHECK_HEAD(&b, "POST /base/x?q=1 HTTP/1.1\r\nHost: a.test\r\nAccept: */*\r\n"
		"X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Proto: https\r\n"
		"X-Forwarded-Host: a.test\r\n"
		"Forwarded: for=203.0.113.7;host=\"a.test\";proto=https\r\n"
		"X-Request-Id: 0123abcd\r\nContent-Length: 5\r\n\r\n");

	/* A trusted proxy's lists are appended to and its request id kept;
	 * an IPv6 peer is quoted and bracketed in Forwarded. */
	buf_reset(&b);
	CHECK_EQ_INT(head_for(r,
		"POST /api HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 198.51.100.1\r\n"
		"Forwarded: for=198.51.100.1\r\nX-Request-Id: keep-me\r\n"
		"Transfer-Encoding: chunked\r\n\r\n",
		"2001:db8::7", false, true, NULL, &b), 0);
	CHECK_HEAD(&b, "POST /base/ HTTP/1.1\r\nHost: a.test\r\nX-Request-Id: keep-me\r\n"
		"X-Forwarded-For: 198.51.100.1, 2001:db8::7\r\nX-Forwarded-Proto: http\r\n"
		"X-Forwarded-Host: a.test\r\n"
		"Forwarded: for=198.51.100.1, for=\"[2001:db8::7]\";host=\"a.test\";proto=http\r\n"
		"Transfer-Encoding: chunked\r\n\r\n");

	/* An upgrade is forwarded as one. */
	buf_reset(&b);
	CHECK_EQ_INT(head_for(r,
		"GET /api/ws HTTP/1.1\r\nHost: a.test\r\nConnection: Upgrade\r\n"
		"Upgrade: websocket\r\n\r\n",
		"192.0.2.1", false, false, "ff", &b), 0);
	CHECK_HEAD(&b, "GET /base/ws HTTP/1.1\r\nHost: a.test\r\n"
		"X-Forwarded-For: 192.0.2.1\r\nX-Forwarded-Proto: http\r\n"
		"X-Forwarded-Host: a.test\r\n"
		"Forwarded: for=192.0.2.1;host=\"a.test\";proto=http\r\n"
		"X-Request-Id: ff\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");

	/* A head that outgrows the buffer's bound is -ENOBUFS. */
	buf_free(&b);
	buf_init(&b, 64);
	CHECK_EQ_INT(head_for(r, "GET /api/x HTTP/1.1\r\nHost: a.test\r\n\r\n",
			      "192.0.2.1", false, false, "ff", &b), -ENOBUFS);
	buf_free(&b);
	route_table_free(t);
}

TEST(route_rejects)
{
	static const struct route_spec bad[] = {
		{ .id = 1, .host = "a b", .target = "http://127.0.0.1:1" },
		{ .id = 2, .host = "a.test", .target = "ftp://127.0.0.1:1" },
		{ .id = 3, .host = "a.test", .target = "http://127.0.0.1:99999" },
		{ .id = 4, .host = "a.test", .path_prefix = "x", .target = "http://127.0.0.1:1" },
		{ .id = 5, .host = NULL, .target = "http://127.0.0.1:1" },
		{ .id = 6, .host = "a.test", .target = NULL },
	};
	char err[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct route_table *t = route_table_build(&test_env, &bad[i], 1, err, sizeof(err));
		if (t) {
			UNIT_FAIL("spec %zu accepted", i);
			route_table_free(t);
		}
	}
	struct route_spec dup[] = {
		{ .id = 1, .name = "a", .host = "a.test", .target = "http://127.0.0.1:1" },
		{ .id = 2, .name = "b", .host = "A.test", .path_prefix = "/", .target = "http://127.0.0.1:2" },
	};
	CHECK(route_table_build(&test_env, dup, 2, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "same host and path") != NULL);
}

TEST(route_pool_ids_stable)
{
	struct route_spec s[] = {
		{ .id = 1, .host = "a.test", .target = "http://127.0.0.1:7001" },
		{ .id = 2, .host = "b.test", .target = "http://127.0.0.1:7001/x" },
		{ .id = 3, .host = "c.test", .target = "http://127.0.0.1:7002" },
	};
	char err[256];
	struct route_table *t1 = route_table_build(&test_env, s, 3, err, sizeof(err));
	struct route_table *t2 = route_table_build(&test_env, s, 3, err, sizeof(err));
	const struct route *a = route_lookup(t1, STR_LIT("a.test"), STR_LIT("/"));
	const struct route *b = route_lookup(t1, STR_LIT("b.test"), STR_LIT("/"));
	const struct route *c = route_lookup(t1, STR_LIT("c.test"), STR_LIT("/"));
	const struct route *a2 = route_lookup(t2, STR_LIT("a.test"), STR_LIT("/"));

	CHECK(a && b && c && a2);
	if (a && b && c && a2) {
		CHECK_EQ_INT(a->target.pool_id, b->target.pool_id);
		CHECK(a->target.pool_id != c->target.pool_id);
		CHECK_EQ_INT(a->target.pool_id, a2->target.pool_id);
		CHECK_EQ_INT(a->stats_id, a2->stats_id);
	}
	route_table_free(t1);
	route_table_free(t2);
}

/* The registries are the hub's objects, not the process's: a second set
 * hands out its own ids, and without a metrics registry a route counts
 * as no route. */
TEST(route_registries_are_per_owner)
{
	struct route_spec s = { .id = 3, .host = "c.test", .target = "http://127.0.0.1:7002" };
	struct route_pools other;
	struct route_env env = { .pools = &other };
	char err[256];
	struct route_table *t;
	const struct route *c;

	route_pools_init(&other);
	t = route_table_build(&env, &s, 1, err, sizeof(err));
	c = route_lookup(t, STR_LIT("c.test"), STR_LIT("/"));
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ_INT(c->target.pool_id, 0);
		CHECK_EQ_INT(c->stats_id, METRICS_NO_ROUTE);
	}
	route_table_free(t);
	route_pools_fini(&other);
}

TEST(snapshot_holders)
{
	struct front_settings set = { 0 };
	char err[64];
	struct front_snap *s = snap_new(&test_snap_version, &set, route_table_build(&test_env, NULL, 0, err, sizeof(err)), route_table_free);
	struct snap_hold *h;

	CHECK(s != NULL);
	snap_ref(s);			/* the worker's reference */
	h = snap_hold_new(s);
	snap_hold_get(h);		/* a request */
	snap_unref(s);			/* publisher moved on */
	CHECK_EQ_INT(atomic_load(&s->refs), 1);
	snap_hold_put(h);		/* worker switched away */
	CHECK_EQ_INT(atomic_load(&s->refs), 1);
	snap_hold_put(h);		/* last request ends: freed (ASan checks) */
}

TEST(addresses)
{
	struct addr a;
	struct cidr c;
	char ip[64];

	CHECK_EQ_INT(addr_parse("127.0.0.1:80", &a), 0);
	addr_ip_str(&a, ip, sizeof(ip));
	CHECK_EQ_STR(ip, "127.0.0.1");
	CHECK_EQ_INT(addr_parse("[::1]:443", &a), 0);
	addr_ip_str(&a, ip, sizeof(ip));
	CHECK_EQ_STR(ip, "::1");
	CHECK_EQ_INT(addr_parse("127.0.0.1", &a), -EINVAL);
	CHECK_EQ_INT(addr_parse("127.0.0.1:0", &a), -EINVAL);
	CHECK_EQ_INT(addr_parse("host:80", &a), -EINVAL);
	CHECK_EQ_INT(addr_cidr_parse("10.0.0.0/8", 10, &c), 0);
	addr_parse("10.1.2.3:1", &a);
	CHECK(addr_cidr_match(&c, &a));
	addr_parse("11.1.2.3:1", &a);
	CHECK(!addr_cidr_match(&c, &a));
	/* v4-mapped IPv6 peers match IPv4 ranges. */
	addr_parse("[::ffff:10.9.9.9]:1", &a);
	CHECK(addr_cidr_match(&c, &a));
	CHECK_EQ_INT(addr_cidr_parse("fd00::/8", 8, &c), 0);
	addr_parse("[fd12::1]:1", &a);
	CHECK(addr_cidr_match(&c, &a));
	CHECK_EQ_INT(addr_cidr_parse("10.0.0.0/33", 11, &c), -EINVAL);
}

/* Route names come from the store: a quote, a backslash or a newline in
 * one must not break the exposition. Each family is one group even with
 * several routes. */
TEST(metrics_render_labels_and_groups)
{
	struct buf b;
	struct metrics m;
	struct metrics_block *blk;
	uint32_t odd, plain;
	const char *t, *first_dur, *last_req;

	metrics_init(&m);
	odd = metrics_route_register(&m, "we\"ird\\na\nme");
	plain = metrics_route_register(&m, "plain");
	CHECK(odd != METRICS_NO_ROUTE && plain != METRICS_NO_ROUTE && odd != plain);
	CHECK_EQ_INT(metrics_route_register(&m, "plain"), (int)plain);
	buf_init(&b, 1u << 20);
	CHECK_EQ_INT(metrics_worker_init(&m, 0, &blk), 0);
	metrics_observe(blk, odd, 200, 2000000, 5, 7);
	metrics_observe(blk, plain, 503, 20000000000ULL, 0, 9);
	CHECK_EQ_INT(metrics_render(&m, &b), 0);
	CHECK_EQ_INT(buf_append(&b, "", 1), 0);
	t = (const char *)buf_head(&b);
	CHECK(strstr(t, "postern_requests_total{route=\"we\\\"ird\\\\na\\nme\",code=\"2xx\"} 1\n"));
	CHECK(strstr(t, "postern_requests_total{route=\"plain\",code=\"5xx\"} 1\n"));
	CHECK(strstr(t, "postern_request_duration_seconds_bucket{route=\"plain\",le=\"10\"} 0\n"));
	CHECK(strstr(t, "postern_request_duration_seconds_bucket{route=\"plain\",le=\"+Inf\"} 1\n"));
	CHECK(strstr(t, "postern_response_bytes_total{route=\"plain\"} 9\n"));
	/* Every requests_total sample comes before the first histogram line. */
	first_dur = strstr(t, "postern_request_duration_seconds_bucket");
	last_req = strstr(t, "postern_requests_total{route=\"plain\"");
	CHECK(first_dur && last_req && last_req < first_dur);
	CHECK(!strstr(t, "postern_request_bytes_total{route=\"(none)\"}"));
	buf_free(&b);
	metrics_fini(&m);
}

/* Routes through an agent: the upstream is the agent's stream port, the
 * target travels in the header template, pools are per target. */
TEST(route_through_agents)
{
	struct route_spec s[] = {
		{ .id = 1, .name = "tls", .host = "a.test", .agent = "nas", .agent_id = 7,
		  .agent_addr = "100.96.0.2", .target = "https://NAS.lan:8443/x/",
		  .tls_verify = false, .tls_server_name = "nas.example" },
		{ .id = 2, .name = "ip", .host = "b.test", .agent = "nas", .agent_id = 7,
		  .agent_addr = "100.96.0.2", .target = "http://192.168.1.10:80" },
		{ .id = 3, .name = "pending", .host = "c.test", .agent = "new", .agent_id = 8,
		  .target = "http://192.168.1.10:80" },
		{ .id = 4, .name = "node", .host = "d.test", .agent = "router", .agent_id = 9,
		  .agent_addr = "100.96.0.5", .agent_node = true, .target = "http://100.96.0.5:8080" },
	};
	char err[256];
	struct route_table *t = route_table_build(&test_env, s, 4, err, sizeof(err));
	const struct route *tls, *ip, *pending, *node;

	CHECK(t != NULL);
	if (!t)
		return;
	tls = route_lookup(t, str_cstr("a.test"), str_cstr("/"));
	ip = route_lookup(t, str_cstr("b.test"), str_cstr("/"));
	pending = route_lookup(t, str_cstr("c.test"), str_cstr("/"));
	node = route_lookup(t, str_cstr("d.test"), str_cstr("/"));
	CHECK(tls->target.stream && tls->target.via_agent);
	CHECK_EQ_INT(ntohs(((struct sockaddr_in *)&tls->target.addr.ss)->sin_port), 4180);
	CHECK_EQ_STR(tls->target.hdr.host, "nas.lan");
	CHECK_EQ_INT(stream_hdr_port(&tls->target.hdr.target), 8443);
	CHECK_EQ_INT(tls->target.hdr.flags, AGENT_F_TLS | AGENT_F_TLS_NO_VERIFY);
	CHECK_EQ_STR(tls->target.hdr.tls_name, "nas.example");
	CHECK_EQ_STR(tls->target.base, "/x");
	CHECK_EQ_INT(ip->target.hdr.target.sa.sa_family, AF_INET);
	CHECK_EQ_INT(ip->target.hdr.flags, 0);
	CHECK(ip->target.pool_id != tls->target.pool_id);	/* same address, other target */
	CHECK(ip->target.agent_slot == tls->target.agent_slot && ip->target.agent_slot != 0);
	/* No handshake yet, and an agent that never enrolled: offline. */
	CHECK(route_agent_offline(ip));
	CHECK(route_agent_offline(pending) && pending->target.addr.len == 0);
	CHECK_EQ_STR(pending->target.agent, "new");
	/* A node is dialled directly, no header. */
	CHECK(node->target.via_agent && !node->target.stream);
	CHECK_EQ_INT(ntohs(((struct sockaddr_in *)&node->target.addr.ss)->sin_port), 8080);
	route_table_free(t);
	/* https: only through an agent (which does the TLS). */
	s[3].target = "https://100.96.0.5:8443";
	CHECK(route_table_build(&test_env, &s[3], 1, err, sizeof(err)) == NULL);
	s[1].agent = NULL;
	s[1].target = "https://192.168.1.10";
	CHECK(route_table_build(&test_env, &s[1], 1, err, sizeof(err)) == NULL);
}

/* The header names the client; families are made to match. */
TEST(stream_header_for_clients)
{
	struct stream_hdr tmpl, got;
	struct addr v6, v4;
	struct buf b;

	CHECK(addr_parse("[2001:db8::7]:40000", &v6) == 0);
	CHECK(addr_parse("203.0.113.7:40000", &v4) == 0);
	CHECK(route_stream_hdr_init(&tmpl, "192.168.1.10", 80) == 0);
	buf_init(&b, 4096);
	CHECK(xchg_agent_stream_hdr(&tmpl, &v6, &b) == 0);
	CHECK(stream_hdr_parse(buf_head(&b), b.len, &got) == (int)b.len);
	CHECK_EQ_INT(got.target.sa.sa_family, AF_INET6);	/* ::ffff:192.168.1.10 */
	CHECK(IN6_IS_ADDR_V4MAPPED(&got.target.in6.sin6_addr));
	CHECK_EQ_INT(got.client.sa.sa_family, AF_INET6);
	buf_reset(&b);
	CHECK(route_stream_hdr_init(&tmpl, "Nas.Lan", 443) == 0);
	CHECK(xchg_agent_stream_hdr(&tmpl, &v4, &b) == 0);
	CHECK(stream_hdr_parse(buf_head(&b), b.len, &got) == (int)b.len);
	CHECK_EQ_STR(got.host, "nas.lan");
	CHECK_EQ_INT(stream_hdr_port(&got.target), 443);
	CHECK_EQ_INT(ntohs(got.client.in4.sin_port), 40000);
	CHECK(route_stream_hdr_init(&tmpl, "bad name!", 1) < 0);
	buf_free(&b);
}

int main(void)
{
	route_pools_init(&test_pools);
	metrics_init(&test_metrics);
	RUN(route_lookup_order);
	RUN(route_encoded_slash_ambiguity);
	RUN(route_rewrite_fields);
	RUN(upstream_head_bytes);
	RUN(route_rejects);
	RUN(route_pool_ids_stable);
	RUN(route_registries_are_per_owner);
	RUN(route_through_agents);
	RUN(stream_header_for_clients);
	RUN(snapshot_holders);
	RUN(addresses);
	RUN(metrics_render_labels_and_groups);
	route_pools_fini(&test_pools);
	metrics_fini(&test_metrics);
	return unit_done();
}
