/* route_file.c - the routes file: [route.NAME] sections in core/conf
 * format, turned into route_specs and compiled. The store will produce
 * the same specs; this file exists until it does (and for tests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "hub/route.h"

#define ROUTE_FILE_MAX 4096

static int route_file_bool(struct conf *c, const char *sec, const char *key,
			   bool *out, char *err, size_t errlen)
{
	*out = false;
	return conf_get_bool(c, sec, key, out, err, errlen) < 0 ? -1 : 0;
}

/* Fills one spec from section `sec` ("route.NAME"). */
static int route_file_spec(struct conf *c, const char *sec, struct route_spec *s,
			   uint64_t id, char *err, size_t errlen)
{
	uint64_t v = 0;

	memset(s, 0, sizeof(*s));
	s->id = id;
	s->name = sec + 6;
	s->host = conf_get(c, sec, "host");
	s->path_prefix = conf_get(c, sec, "path");
	s->target = conf_get(c, sec, "target");
	s->tls_server_name = conf_get(c, sec, "tls_server_name");
	s->policy = conf_get(c, sec, "policy");
	if (route_file_bool(c, sec, "strip_prefix", &s->strip_prefix, err, errlen) < 0 ||
	    route_file_bool(c, sec, "redirect_https", &s->redirect_https, err, errlen) < 0)
		return -1;
	s->tls_verify = true;
	if (conf_get_bool(c, sec, "tls_verify", &s->tls_verify, err, errlen) < 0)
		return -1;
	if (conf_get_u64(c, sec, "hsts_max_age", 0, 1u << 30, &v, err, errlen) < 0)
		return -1;
	s->hsts_max_age = (uint32_t)v;
	if (!s->host || !s->target) {
		snprintf(err, errlen, "%s: [%s] needs host and target", c->name, sec);
		return -1;
	}
	return 0;
}

struct route_table *route_file_load(const struct route_env *env, const char *path,
				    char *err, size_t errlen)
{
	struct conf c;
	struct route_spec *specs = NULL;
	struct route_table *t = NULL;
	size_t n = 0;

	if (conf_load(&c, path, err, errlen) < 0)
		return NULL;
	specs = calloc(ROUTE_FILE_MAX, sizeof(*specs));
	if (!specs) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		const char *sec = c.v[i].section;
		bool seen = false;
		if (strncmp(sec, "route.", 6) != 0 || sec[6] == '\0') {
			snprintf(err, errlen, "%s:%u: keys belong in [route.NAME] sections",
				 c.name, c.v[i].line);
			goto out;
		}
		for (size_t k = 0; k < n && !seen; k++)
			seen = !strcmp(specs[k].name, sec + 6);
		if (seen)
			continue;
		if (n == ROUTE_FILE_MAX) {
			snprintf(err, errlen, "%s: more than %d routes", c.name, ROUTE_FILE_MAX);
			goto out;
		}
		if (route_file_spec(&c, sec, &specs[n], n + 1, err, errlen) < 0)
			goto out;
		n++;
	}
	if (conf_check_unused(&c, err, errlen) < 0)
		goto out;
	t = route_table_build(env, specs, n, err, errlen);
out:
	free(specs);
	conf_free(&c);
	return t;
}
