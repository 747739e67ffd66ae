/* route.c - route table: compile from specs, look up by host and path. */
#include "hub/route.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/num.h"
#include "hub/metrics.h"

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
static pthread_mutex_t route_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct addr *route_pool_addrs;
static _Atomic uint32_t route_pool_n;

static int route_pool_id(const struct addr *a, uint32_t *id)
{
	uint32_t n;
	int r = 0;

	pthread_mutex_lock(&route_pool_lock);
	n = route_pool_n;
	for (uint32_t i = 0; i < n; i++)
		if (addr_eq(&route_pool_addrs[i], a)) {
			*id = i;
			goto out;
		}
	if (!route_pool_addrs)
		route_pool_addrs = calloc(ROUTE_POOL_MAX, sizeof(*route_pool_addrs));
	if (!route_pool_addrs || n == ROUTE_POOL_MAX) {
		r = -ENOMEM;
		goto out;
	}
	route_pool_addrs[n] = *a;
	*id = n;
	route_pool_n = n + 1;
out:
	pthread_mutex_unlock(&route_pool_lock);
	return r;
}

uint32_t route_pool_count(void)
{
	return route_pool_n;
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

/* "http://host:port[/base]" */
static int route_target_parse(const char *t, struct route_target *rt,
			      char *why, size_t whylen)
{
	const char *hp, *slash, *colon;
	char host[256];
	uint64_t port;

	memset(rt, 0, sizeof(*rt));
	if (!strncmp(t, "http://", 7)) {
		hp = t + 7;
	} else if (!strncmp(t, "https://", 8)) {
		/* Never send plaintext to a target declared https: until the
		 * upstream TLS client is wired in, such routes are refused. */
		snprintf(why, whylen, "https targets are not supported yet");
		return -1;
	} else {
		snprintf(why, whylen, "target must be http://host:port[/path]");
		return -1;
	}
	slash = strchr(hp, '/');
	if (!slash)
		slash = hp + strlen(hp);
	colon = NULL;
	if (hp[0] == '[') {
		const char *rb = memchr(hp, ']', (size_t)(slash - hp));
		if (rb && rb + 1 < slash && rb[1] == ':')
			colon = rb + 1;
	} else {
		colon = memchr(hp, ':', (size_t)(slash - hp));
	}
	if (!colon)
		port = rt->https ? 443 : 80;
	else if (num_parse_u64(colon + 1, (size_t)(slash - colon - 1), 1, 65535, &port) < 0) {
		snprintf(why, whylen, "bad port in target");
		return -1;
	}
	{
		const char *he = colon ? colon : slash;
		const char *hs = hp;
		if (hs[0] == '[') {
			hs++;
			he = memchr(hs, ']', (size_t)(he - hs));
			if (!he) {
				snprintf(why, whylen, "bad IPv6 literal in target");
				return -1;
			}
		}
		if (he == hs || (size_t)(he - hs) >= sizeof(host)) {
			snprintf(why, whylen, "bad host in target");
			return -1;
		}
		memcpy(host, hs, (size_t)(he - hs));
		host[he - hs] = '\0';
	}
	if (addr_resolve(host, (uint16_t)port, &rt->addr) < 0) {
		snprintf(why, whylen, "cannot resolve target host '%.64s'", host);
		return -1;
	}
	if (strlen(slash) >= sizeof(rt->base) || strcmp(slash, "/") == 0)
		rt->base_len = 0;
	else
		rt->base_len = (size_t)snprintf(rt->base, sizeof(rt->base), "%s", slash);
	if (rt->base_len && rt->base[rt->base_len - 1] == '/')
		rt->base[--rt->base_len] = '\0';
	snprintf(rt->sni, sizeof(rt->sni), "%s", host);
	snprintf(rt->label, sizeof(rt->label), "%.*s", (int)((slash - hp) > 200 ? 200 : (slash - hp)), hp);
	return route_pool_id(&rt->addr, &rt->pool_id) < 0 ? -1 : 0;
}

static int route_compile(const struct route_spec *s, struct route *r, char *why,
			 size_t whylen)
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
	if (!s->target || route_target_parse(s->target, &r->target, why, whylen) < 0) {
		if (!s->target)
			snprintf(why, whylen, "missing target");
		return -1;
	}
	r->target.tls_verify = s->tls_verify;
	if (s->tls_server_name)
		snprintf(r->target.sni, sizeof(r->target.sni), "%s", s->tls_server_name);
	r->stats_id = metrics_route_register(r->name);
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

struct route_table *route_table_build(const struct route_spec *specs, size_t n,
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
		if (route_compile(&specs[i], &t->routes[i], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "route %s: %s",
				 specs[i].name ? specs[i].name : "?", why);
			route_table_free(t);
			return NULL;
		}
		t->ptrs[i] = &t->routes[i];
	}
	qsort(t->ptrs, n, sizeof(*t->ptrs), route_cmp_ptr);
	if (route_check_dups(t, err, errlen) < 0) {
		route_table_free(t);
		return NULL;
	}
	if (route_group(t) < 0)
		goto oom;
	return t;
oom:
	snprintf(err, errlen, "out of memory");
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

static bool route_prefix_match(const struct route *r, struct str path)
{
	if (path.len < r->prefix_len || memcmp(path.p, r->prefix, r->prefix_len))
		return false;
	if (r->prefix_len == 1 || path.len == r->prefix_len)
		return true;
	return path.p[r->prefix_len] == '/' || path.p[r->prefix_len] == '?';
}

static const struct route *route_host_match(const struct route_host *h,
					    struct str path)
{
	if (!h)
		return NULL;
	for (unsigned i = 0; i < h->n; i++)
		if (route_prefix_match(h->routes[i], path))
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

const struct route *route_lookup(const struct route_table *t, struct str host,
				 struct str path)
{
	char key[256];
	size_t n = route_host_key(host, key, sizeof(key));
	const struct route *r;

	if (!t)
		return NULL;
	if (n) {
		r = route_host_match(route_host_find(t->exact, t->nexact, key, n), path);
		if (r)
			return r;
		for (size_t i = 1; i < n; i++) {
			if (key[i] != '.')
				continue;
			r = route_host_match(route_host_find(t->wild, t->nwild,
							     key + i, n - i), path);
			if (r)
				return r;
		}
	}
	return route_host_match(route_host_find(t->wild, t->nwild, "", 0), path);
}
