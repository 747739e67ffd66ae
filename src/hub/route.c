/* route.c - route table: compile from specs, look up by host and path. */
#include "hub/route.h"

#include <errno.h>
#include <pthread.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "proto/agent_proto.h"
#include "core/num.h"
#include "front/metrics.h"
#include "http/target.h"
#include "hub/tunnel.h"

/* Routes sharing one host key, longest prefix first. */
struct route_host {
	const char *host;	/* points into the first route's host */
	size_t len;
	struct route **routes;
	unsigned n;
};

struct route_table {
	struct route *routes;
	unsigned n;
	struct route_host *exact, *wild;
	unsigned nexact, nwild;
	struct route **ptrs;	/* storage for all route_host.routes */
};

/* ---- upstream address registry: one pool id per distinct address ---- */

#define ROUTE_POOL_MAX 65536
struct route_pool_key {
	struct addr addr;
	char *key;		/* "" for plain upstreams */
};

void route_pools_init(struct route_pools *p)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
}

void route_pools_fini(struct route_pools *p)
{
	for (uint32_t i = 0; p->addrs && i < p->n; i++)
		free(p->addrs[i].key);
	free(p->addrs);
	p->addrs = NULL;
	p->n = 0;
	pthread_mutex_destroy(&p->lock);
}

static int route_pool_id(struct route_pools *p, const struct addr *a, const char *key,
			 uint32_t *id)
{
	uint32_t n;
	int r = 0;

	pthread_mutex_lock(&p->lock);
	n = p->n;
	for (uint32_t i = 0; i < n; i++)
		if (addr_eq(&p->addrs[i].addr, a) && !strcmp(p->addrs[i].key, key)) {
			*id = i;
			goto out;
		}
	if (!p->addrs)
		p->addrs = calloc(ROUTE_POOL_MAX, sizeof(*p->addrs));
	if (!p->addrs || n == ROUTE_POOL_MAX || !(p->addrs[n].key = strdup(key))) {
		r = -ENOMEM;
		goto out;
	}
	p->addrs[n].addr = *a;
	*id = n;
	p->n = n + 1;
out:
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* ---- compiling ---- */

static int route_host_norm(const char *in, char *out, size_t cap, bool *wild)
{
	size_t n = strlen(in);

	*wild = false;
	if (n >= 2 && in[0] == '*' && in[1] == '.') {
		*wild = true;
		in++;
		n--;
	} else if (n == 1 && in[0] == '*') {
		*wild = true;
		n = 0;
		in = "";
	}
	if (n >= cap || (n == 0 && !*wild))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = str_lower_ascii(in[i]);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return -EINVAL;
		out[i] = c;
	}
	out[n] = '\0';
	return 0;
}

/* The parts of "http(s)://host:port[/base]" (host without brackets). */
struct route_url {
	bool https;
	char host[256];
	uint16_t port;
	const char *path;	/* "/base" or "" */
	char label[300];	/* "host:port" as written */
};

static int route_url_parse(const char *t, struct route_url *u, char *why, size_t whylen)
{
	const char *hp, *slash, *colon = NULL, *hs, *he;
	uint64_t port;

	memset(u, 0, sizeof(*u));
	if (!strncmp(t, "http://", 7)) {
		hp = t + 7;
	} else if (!strncmp(t, "https://", 8)) {
		hp = t + 8;
		u->https = true;
	} else {
		snprintf(why, whylen, "target must be http://host:port[/path]");
		return -1;
	}
	slash = strchr(hp, '/');
	if (!slash)
		slash = hp + strlen(hp);
	if (hp[0] == '[') {
		const char *rb = memchr(hp, ']', (size_t)(slash - hp));
		if (rb && rb + 1 < slash && rb[1] == ':')
			colon = rb + 1;
	} else {
		colon = memchr(hp, ':', (size_t)(slash - hp));
	}
	if (!colon)
		port = u->https ? 443 : 80;
	else if (num_parse_u64(colon + 1, (size_t)(slash - colon - 1), 1, 65535, &port) < 0) {
		snprintf(why, whylen, "bad port in target");
		return -1;
	}
	hs = hp;
	he = colon ? colon : slash;
	if (hs[0] == '[') {
		hs++;
		he = memchr(hs, ']', (size_t)(he - hs));
		if (!he) {
			snprintf(why, whylen, "bad IPv6 literal in target");
			return -1;
		}
	}
	if (he == hs || (size_t)(he - hs) >= sizeof(u->host)) {
		snprintf(why, whylen, "bad host in target");
		return -1;
	}
	memcpy(u->host, hs, (size_t)(he - hs));
	u->port = (uint16_t)port;
	u->path = slash;
	snprintf(u->label, sizeof(u->label), "%.*s",
		 (int)((slash - hp) > 200 ? 200 : (slash - hp)), hp);
	return 0;
}

static void route_target_base(struct route_target *rt, const char *path)
{
	if (strlen(path) >= sizeof(rt->base) || strcmp(path, "/") == 0)
		rt->base_len = 0;
	else
		rt->base_len = (size_t)snprintf(rt->base, sizeof(rt->base), "%s", path);
	if (rt->base_len && rt->base[rt->base_len - 1] == '/')
		rt->base[--rt->base_len] = '\0';
}

/* A pool per address, and for streams per target too: a connection to
 * an agent is bound to the target its header named. */
static int route_target_pool(const struct route_env *env, struct route_target *rt)
{
	char key[700];

	if (!rt->stream)
		key[0] = 0;
	else
		snprintf(key, sizeof(key), "%s|%s|%u|%s", rt->agent, rt->label,
			 rt->hdr.flags, rt->hdr.tls_name);
	return route_pool_id(env->pools, &rt->addr, key, &rt->pool_id);
}

int route_stream_hdr_init(struct stream_hdr *h, const char *host, uint16_t port)
{
	struct sockaddr_in *in4 = &h->target.in4;
	struct sockaddr_in6 *in6 = &h->target.in6;
	size_t n = strlen(host);

	memset(h, 0, sizeof(*h));
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
	} else {
		if (n >= sizeof(h->host))
			return -1;
		for (size_t i = 0; i < n; i++)
			h->host[i] = str_lower_ascii(host[i]);
		if (!stream_hdr_name_valid(str_cstr(h->host)))
			return -1;
		in4->sin_port = htons(port);	/* family set per connection */
	}
	return 0;
}

/* The stream header's target: an address, or a name the agent resolves. */
static int route_stream_target(struct route_target *rt, const struct route_url *u,
			       const struct route_spec *s, char *why, size_t whylen)
{
	struct stream_hdr *h = &rt->hdr;

	if (route_stream_hdr_init(h, u->host, u->port) < 0) {
		snprintf(why, whylen, "bad target host name");
		return -1;
	}
	if (u->https)
		h->flags = AGENT_F_TLS | (s->tls_verify ? 0 : AGENT_F_TLS_NO_VERIFY);
	if (u->https && s->tls_server_name)
		snprintf(h->tls_name, sizeof(h->tls_name), "%s", s->tls_server_name);
	return 0;
}

/* A route through an agent or an agentless node. */
static int route_target_agent(const struct route_env *env, const struct route_spec *s,
			      struct route_target *rt, const struct route_url *u,
			      char *why, size_t whylen)
{
	rt->via_agent = true;
	rt->stream = !s->agent_node;
	rt->online = env->online;
	rt->agent_slot = env->online ? hub_tunnel_slot(env->online, s->agent_id) : 0;
	snprintf(rt->agent, sizeof(rt->agent), "%s", s->agent);
	if (rt->stream && route_stream_target(rt, u, s, why, whylen) < 0)
		return -1;
	if (!rt->stream && u->https) {
		snprintf(why, whylen, "https targets on agentless nodes are not supported");
		return -1;
	}
	if (!s->agent_addr)
		return 0;	/* not enrolled: always offline, nothing to dial */
	if (rt->stream ? addr_resolve(s->agent_addr, AGENT_STREAM_PORT, &rt->addr) < 0
		       : addr_resolve(u->host, u->port, &rt->addr) < 0) {
		snprintf(why, whylen, "bad tunnel address");
		return -1;
	}
	return route_target_pool(env, rt);
}

static int route_target_parse(const struct route_env *env, const struct route_spec *s,
			      struct route_target *rt, char *why, size_t whylen)
{
	struct route_url u;

	memset(rt, 0, sizeof(*rt));
	if (route_url_parse(s->target, &u, why, whylen) < 0)
		return -1;
	rt->https = u.https;
	route_target_base(rt, u.path);
	snprintf(rt->sni, sizeof(rt->sni), "%s", u.host);
	memcpy(rt->label, u.label, sizeof(rt->label));
	if (s->agent)
		return route_target_agent(env, s, rt, &u, why, whylen);
	if (u.https) {
		/* Never send plaintext to a target declared https: the hub has
		 * no upstream TLS client; agents do (AGENT_F_TLS). */
		snprintf(why, whylen, "https targets are supported through agents only");
		return -1;
	}
	if (addr_resolve(u.host, u.port, &rt->addr) < 0) {
		snprintf(why, whylen, "cannot resolve target host '%.64s'", u.host);
		return -1;
	}
	return route_target_pool(env, rt);
}

static int route_compile(const struct route_env *env, const struct route_spec *s,
			 struct route *r, char *why, size_t whylen)
{
	const char *prefix = s->path_prefix ? s->path_prefix : "/";

	memset(r, 0, sizeof(*r));
	r->id = s->id;
	if (s->name)
		snprintf(r->name, sizeof(r->name), "%s", s->name);
	else
		snprintf(r->name, sizeof(r->name), "route-%llu", (unsigned long long)s->id);
	if (!s->host || route_host_norm(s->host, r->host, sizeof(r->host), &r->wildcard) < 0) {
		snprintf(why, whylen, "bad host (want name, *.domain or *)");
		return -1;
	}
	r->host_len = strlen(r->host);
	if (prefix[0] != '/' || strlen(prefix) >= sizeof(r->prefix) ||
	    strpbrk(prefix, " ?#\t\r\n")) {
		snprintf(why, whylen, "bad path prefix (must start with '/')");
		return -1;
	}
	r->prefix_len = (size_t)snprintf(r->prefix, sizeof(r->prefix), "%s", prefix);
	if (r->prefix_len > 1 && r->prefix[r->prefix_len - 1] == '/')
		r->prefix[--r->prefix_len] = '\0';
	r->strip_prefix = s->strip_prefix;
	r->redirect_https = s->redirect_https;
	r->hsts_max_age = s->hsts_max_age;
	if (access_policy_parse(s->policy, &r->access, why, whylen) < 0)
		return -1;
	if (!s->target || route_target_parse(env, s, &r->target, why, whylen) < 0) {
		if (!s->target)
			snprintf(why, whylen, "missing target");
		return -1;
	}
	r->target.tls_verify = s->tls_verify;
	if (s->tls_server_name)
		snprintf(r->target.sni, sizeof(r->target.sni), "%s", s->tls_server_name);
	r->stats_id = metrics_route_register(env->metrics, r->name);
	return 0;
}

static int route_cmp_key(const struct route *a, const struct route *b)
{
	int c;

	if (a->wildcard != b->wildcard)
		return a->wildcard ? 1 : -1;
	c = strcmp(a->host, b->host);
	if (c)
		return c;
	/* Longer prefixes first within a host. */
	return a->prefix_len < b->prefix_len ? 1 : a->prefix_len > b->prefix_len ? -1 : 0;
}

static int route_cmp_ptr(const void *pa, const void *pb)
{
	return route_cmp_key(*(struct route *const *)pa, *(struct route *const *)pb);
}

/* Groups the sorted pointers into host entries. */
static int route_group(struct route_table *t)
{
	t->exact = calloc(t->n ? t->n : 1, sizeof(*t->exact));
	t->wild = calloc(t->n ? t->n : 1, sizeof(*t->wild));
	if (!t->exact || !t->wild)
		return -1;
	for (unsigned i = 0; i < t->n;) {
		struct route *r = t->ptrs[i];
		struct route_host *h = r->wildcard ? &t->wild[t->nwild++]
						   : &t->exact[t->nexact++];
		h->host = r->host;
		h->len = r->host_len;
		h->routes = &t->ptrs[i];
		while (i < t->n && t->ptrs[i]->wildcard == r->wildcard &&
		       !strcmp(t->ptrs[i]->host, r->host)) {
			h->n++;
			i++;
		}
	}
	return 0;
}

static int route_check_dups(const struct route_table *t, char *err, size_t errlen)
{
	for (unsigned i = 1; i < t->n; i++) {
		const struct route *a = t->ptrs[i - 1], *b = t->ptrs[i];
		if (a->wildcard == b->wildcard && !strcmp(a->host, b->host) &&
		    !strcmp(a->prefix, b->prefix)) {
			snprintf(err, errlen, "routes '%s' and '%s' have the same host and path",
				 a->name, b->name);
			return -1;
		}
	}
	return 0;
}

struct route_table *route_table_build(const struct route_env *env,
				      const struct route_spec *specs, size_t n,
				      char *err, size_t errlen)
{
	struct route_table *t = calloc(1, sizeof(*t));
	char why[256];

	if (!t)
		goto oom;
	t->n = (unsigned)n;
	t->routes = calloc(n ? n : 1, sizeof(*t->routes));
	t->ptrs = calloc(n ? n : 1, sizeof(*t->ptrs));
	if (!t->routes || !t->ptrs)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		if (route_compile(env, &specs[i], &t->routes[i], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "route %s: %s",
				 specs[i].name ? specs[i].name : "?", why);
			goto fail;
		}
		t->ptrs[i] = &t->routes[i];
	}
	qsort(t->ptrs, n, sizeof(*t->ptrs), route_cmp_ptr);
	if (route_check_dups(t, err, errlen) < 0)
		goto fail;
	if (route_group(t) < 0)
		goto oom;
	return t;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	route_table_free(t);
	return NULL;
}

void route_table_free(struct route_table *t)
{
	if (!t)
		return;
	free(t->routes);
	free(t->ptrs);
	free(t->exact);
	free(t->wild);
	free(t);
}

unsigned route_table_count(const struct route_table *t)
{
	return t ? t->n : 0;
}

const struct route *route_table_at(const struct route_table *t, unsigned i)
{
	return t && i < t->n ? &t->routes[i] : NULL;
}

/* ---- lookup ---- */

static const struct route_host *route_host_find(const struct route_host *v,
						unsigned n, const char *h,
						size_t len)
{
	unsigned lo = 0, hi = n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		size_t ml = v[mid].len;
		int c = memcmp(v[mid].host, h, ml < len ? ml : len);
		if (c == 0)
			c = ml < len ? -1 : ml > len ? 1 : 0;
		if (c == 0)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Case folded: a backend that folds case (or takes ';' parameters off a
 * segment) must not be reachable around the route that owns the prefix.
 * The path is normalised already (pipeline.c). `decoded`: read "%2F" and
 * "%5C" as '/' (route_path_ambiguous). */
static bool route_prefix_match(const struct route *r, struct str path, bool decoded)
{
	return decoded ? http_path_prefix_match_decoded(path, r->prefix, r->prefix_len)
		       : http_path_prefix_match(path, r->prefix, r->prefix_len);
}

static const struct route *route_host_match(const struct route_host *h,
					    struct str path, bool decoded)
{
	if (!h)
		return NULL;
	for (unsigned i = 0; i < h->n; i++)
		if (route_prefix_match(h->routes[i], path, decoded))
			return h->routes[i];
	return NULL;
}

/* Lower-cases the host without its port and trailing dot into buf. */
static size_t route_host_key(struct str host, char *buf, size_t cap)
{
	size_t n = host.len;

	if (n && host.p[0] == '[') {
		const char *rb = memchr(host.p, ']', n);
		n = rb ? (size_t)(rb - host.p) + 1 : n;
	} else {
		const char *colon = memchr(host.p, ':', n);
		if (colon)
			n = (size_t)(colon - host.p);
	}
	if (n && host.p[n - 1] == '.')
		n--;
	if (n >= cap)
		return 0;
	for (size_t i = 0; i < n; i++)
		buf[i] = str_lower_ascii(host.p[i]);
	return n;
}

static const struct route *route_find(const struct route_table *t, struct str host,
				      struct str path, bool decoded)
{
	char key[256];
	size_t n = route_host_key(host, key, sizeof(key));
	const struct route *r;

	if (!t)
		return NULL;
	if (n) {
		r = route_host_match(route_host_find(t->exact, t->nexact, key, n), path, decoded);
		if (r)
			return r;
		for (size_t i = 1; i < n; i++) {
			if (key[i] != '.')
				continue;
			r = route_host_match(route_host_find(t->wild, t->nwild,
							     key + i, n - i), path, decoded);
			if (r)
				return r;
		}
	}
	return route_host_match(route_host_find(t->wild, t->nwild, "", 0), path, decoded);
}

const struct route *route_lookup(const struct route_table *t, struct str host,
				 struct str path)
{
	return route_find(t, host, path, false);
}

bool route_path_ambiguous(const struct route_table *t, struct str host, struct str path,
			  const struct route *r)
{
	return http_path_has_encoded_slash(path) && route_find(t, host, path, true) != r;
}

bool route_agent_offline(const struct route *r)
{
	const struct route_target *t = &r->target;

	return t->via_agent && (t->addr.len == 0 || !hub_tunnel_slot_online(t->online, t->agent_slot));
}
