/* dns_provider.c - provider settings, zone discovery and the shared JSON
 * HTTP call the API providers use. */
#define LOG_SUBSYS "acme"
#include "acme/dns_provider.h"
#include "acme/dns_provider_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/compiler.h"
#include "core/enc.h"
#include "core/log.h"
#include "core/num.h"
#include "core/secure.h"

static const struct dns_provider_ops *const providers[] = {
	&dns_cloudflare_ops, &dns_hetzner_ops, &dns_digitalocean_ops,
	&dns_route53_ops, &dns_rfc2136_ops,
};

const char *const dns_provider_names[] = {
	"cloudflare", "hetzner", "digitalocean", "route53", "rfc2136", NULL,
};

const char *dns_provider_get(const struct dns_provider *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->keys[i], key))
			return p->vals[i];
	return NULL;
}

static bool key_known(const struct dns_provider_ops *ops, const char *key)
{
	if (!strcmp(key, "ttl") || !strcmp(key, "api_url"))
		return true;
	for (const char *const *k = ops->keys; *k; k++)
		if (!strcmp(*k + (**k == '!'), key))
			return true;
	return false;
}

static int provider_check(struct dns_provider *p, char *err, size_t errlen)
{
	uint64_t ttl = 0;
	const char *t = dns_provider_get(p, "ttl");

	for (size_t i = 0; i < p->n; i++)
		if (!key_known(p->ops, p->keys[i])) {
			snprintf(err, errlen, "%s: unknown setting '%s'",
				 p->ops->name, p->keys[i]);
			return -EINVAL;
		}
	for (const char *const *k = p->ops->keys; *k; k++)
		if (**k == '!' && !dns_provider_get(p, *k + 1)) {
			snprintf(err, errlen, "%s: missing setting '%s'",
				 p->ops->name, *k + 1);
			return -EINVAL;
		}
	if (t && num_parse_cstr(t, p->ops->min_ttl, 86400, &ttl)) {
		snprintf(err, errlen, "%s: ttl must be %u..86400", p->ops->name,
			 p->ops->min_ttl);
		return -EINVAL;
	}
	p->ttl = t ? (unsigned)ttl : MAX(60u, p->ops->min_ttl);
	p->url = dns_provider_get(p, "api_url");
	if (!p->url)
		p->url = p->ops->default_url;
	return 0;
}

int dns_provider_new(const char *name, const char *const *kv,
		     struct acme_http *http, struct dns_provider **out,
		     char *err, size_t errlen)
{
	const struct dns_provider_ops *ops = NULL;
	struct dns_provider *p;
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(providers); i++)
		if (!strcmp(providers[i]->name, name))
			ops = providers[i];
	if (!ops) {
		snprintf(err, errlen, "unknown DNS provider '%s'", name);
		return -EINVAL;
	}
	while (kv && kv[2 * n])
		n++;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->keys = calloc(n + 1, sizeof(char *))) ||
	    !(p->vals = calloc(n + 1, sizeof(char *))))
		goto nomem;
	p->ops = ops;
	p->http = http;
	for (; p->n < n; p->n++) {
		p->keys[p->n] = strdup(kv[2 * p->n]);
		p->vals[p->n] = strdup(kv[2 * p->n + 1] ? kv[2 * p->n + 1] : "");
		if (!p->keys[p->n] || !p->vals[p->n]) {
			p->n++;
			goto nomem;
		}
	}
	if (provider_check(p, err, errlen)) {
		dns_provider_free(p);
		return -EINVAL;
	}
	*out = p;
	return 0;
nomem:
	dns_provider_free(p);
	snprintf(err, errlen, "out of memory");
	return -ENOMEM;
}

void dns_provider_free(struct dns_provider *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->keys[i]);
		if (p->vals[i])
			secure_free(p->vals[i], strlen(p->vals[i]));
	}
	free(p->keys);
	free(p->vals);
	free(p);
}

void dns_record_relative(const struct dns_record *r, char *out, size_t cap)
{
	size_t fl = strlen(r->fqdn), zl = strlen(r->zone);

	if (fl > zl + 1 && r->fqdn[fl - zl - 1] == '.')
		snprintf(out, cap, "%.*s", (int)(fl - zl - 1), r->fqdn);
	else
		snprintf(out, cap, "@");
}

/* True when `zone` is `fqdn` or a parent of it. */
static bool zone_contains(const char *zone, const char *fqdn)
{
	size_t zl = strlen(zone), fl = strlen(fqdn);

	return fl >= zl && !strcasecmp(fqdn + fl - zl, zone) &&
	       (fl == zl || fqdn[fl - zl - 1] == '.');
}

static int provider_zone(struct dns_provider *p, struct dns_record *r,
			 char *err, size_t errlen)
{
	const char *zone = dns_provider_get(p, "zone");
	const char *cand = strchr(r->fqdn, '.');
	int rc;

	if (dns_provider_get(p, "zone_id")) {
		/* A configured zone id skips the lookup; the name is still
		 * needed for relative record names. */
		if (!zone || !dns_id_ok(dns_provider_get(p, "zone_id"), 64)) {
			snprintf(err, errlen, "%s: zone_id needs a plain id and "
				 "the zone setting", p->ops->name);
			return -EINVAL;
		}
		snprintf(r->zone_id, sizeof(r->zone_id), "%s",
			 dns_provider_get(p, "zone_id"));
	}
	if (zone) {
		if (!zone_contains(zone, r->fqdn)) {
			snprintf(err, errlen, "%s: %s is not inside zone %s",
				 p->ops->name, r->fqdn, zone);
			return -EINVAL;
		}
		snprintf(r->zone, sizeof(r->zone), "%s", zone);
		if (r->zone_id[0])
			return 0;
		return p->ops->zone_find(p, zone, r->zone_id, sizeof(r->zone_id),
					 err, errlen);
	}
	/* Walk up from the challenge's parent to the last two labels. */
	for (; cand && strchr(cand + 1, '.'); cand = strchr(cand + 1, '.')) {
		rc = p->ops->zone_find(p, cand + 1, r->zone_id,
				       sizeof(r->zone_id), err, errlen);
		if (rc == 0) {
			snprintf(r->zone, sizeof(r->zone), "%s", cand + 1);
			return 0;
		}
		if (rc != -ENOENT)
			return rc;
	}
	snprintf(err, errlen, "%s: no zone in this account holds %s",
		 p->ops->name, r->fqdn);
	return -ENOENT;
}

int dns_provider_add(struct dns_provider *p, struct dns_record *r, char *err,
		     size_t errlen)
{
	int rc = provider_zone(p, r, err, errlen);

	if (rc == 0)
		rc = p->ops->add(p, r, err, errlen);
	if (rc == 0)
		log_info("%s: TXT %s added in zone %s", p->ops->name, r->fqdn,
			 r->zone);
	return rc;
}

int dns_provider_del(struct dns_provider *p, const struct dns_record *r,
		     char *err, size_t errlen)
{
	int rc = p->ops->del(p, r, err, errlen);

	if (rc == 0)
		log_info("%s: TXT %s removed", p->ops->name, r->fqdn);
	else
		log_warn("%s", err);
	return rc;
}

bool dns_id_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && enc_b64url_chars(s, n);
}

int dns_http_json(struct dns_provider *p, const char *method, const char *path,
		  const char *auth_header, const char *body, long *status,
		  json_t **out, char *err, size_t errlen)
{
	const char *hdrs[] = { auth_header, "Accept: application/json",
			       body ? "Content-Type: application/json" : NULL,
			       NULL };
	struct acme_http_resp r;
	char *url;
	int rc;

	*out = NULL;
	if (asprintf(&url, "%s%s", p->url, path) < 0)
		return -ENOMEM;
	struct acme_http_req req = { .method = method, .url = url,
				     .headers = hdrs, .body = body,
				     .body_len = body ? strlen(body) : 0 };
	rc = acme_http_do(p->http, &req, &r, err, errlen);
	free(url);
	if (rc)
		return rc;
	*status = r.status;
	if (r.body.len)
		*out = json_loadb((const char *)buf_head(&r.body), r.body.len, 0,
				  NULL);
	acme_http_resp_free(&r);
	return 0;
}

/* The value at a dotted path (arrays step into element 0), or NULL. */
static json_t *dns_json_at(json_t *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o && (dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		if (json_is_array(o))
			o = json_array_get(o, 0);
		path = dot + 1;
	}
	o = o ? json_object_get(o, path) : NULL;
	if (json_is_array(o))
		o = json_array_get(o, 0);
	return o;
}

const char *dns_json_str(json_t *o, const char *path)
{
	o = dns_json_at(o, path);
	return json_is_string(o) ? json_string_value(o) : NULL;
}

const char *dns_json_id(json_t *o, const char *path, char *buf, size_t cap)
{
	o = dns_json_at(o, path);
	if (json_is_integer(o) && json_integer_value(o) > 0) {
		snprintf(buf, cap, "%lld", (long long)json_integer_value(o));
		return buf;
	}
	return json_is_string(o) ? json_string_value(o) : NULL;
}

void dns_fail(char *err, size_t errlen, const struct dns_provider *p,
	      const char *what, long status, const char *detail)
{
	snprintf(err, errlen, "%s: %s failed (HTTP %ld): %.200s", p->ops->name,
		 what, status, detail && *detail ? detail : "no error message");
}

int dns_api_call(struct dns_provider *p, const struct dns_api *api,
		 const char *method, const char *path, const char *body,
		 const char *what, json_t **out, char *err, size_t errlen)
{
	char auth[512], detail[300] = "";
	long status = 0;
	json_t *j = NULL;
	int rc;

	snprintf(auth, sizeof(auth), "%s%s", api->auth_prefix,
		 dns_provider_get(p, "api_token"));
	rc = dns_http_json(p, method, path, auth, body, &status, &j, err, errlen);
	secure_wipe(auth, sizeof(auth));
	if (rc)
		return rc;
	if (status / 100 == 2 && (!api->ok || api->ok(j))) {
		*out = j;
		return 0;
	}
	if (status == 404 && !strcmp(what, DNS_WHAT_ZONE)) {
		json_decref(j);
		return -ENOENT;
	}
	api->detail(j, detail, sizeof(detail));
	dns_fail(err, errlen, p, what, status, detail);
	json_decref(j);
	return -EPROTO;
}

int dns_api_zone_find(struct dns_provider *p, const char *cand, char *id,
		      size_t cap, char *err, size_t errlen)
{
	const struct dns_api *api = p->ops->api;
	const char *got, *name;
	char path[300];
	json_t *j;
	int rc;

	snprintf(path, sizeof(path), "%s%s", api->zone_path, cand);
	rc = dns_api_call(p, api, "GET", path, NULL, DNS_WHAT_ZONE, &j, err, errlen);
	if (rc)
		return rc;
	got = api->zone_id_at ? dns_json_str(j, api->zone_id_at) : cand;
	name = api->zone_name_at ? dns_json_str(j, api->zone_name_at) : cand;
	rc = got && name && !strcmp(name, cand) && (!api->zone_id_at || dns_id_ok(got, 64))
		     ? 0 : -ENOENT;
	if (rc == 0)
		snprintf(id, cap, "%s", got);
	json_decref(j);
	return rc;
}

/* The records path of the API with "{zone_id}" or "{zone}" replaced by
 * the record's, then "/" + `id` when `id` is given. Returns 0, or
 * -ENAMETOOLONG with a message. */
static int dns_api_path(const struct dns_provider *p, const struct dns_record *r,
			const char *id, char *out, size_t cap, char *err, size_t errlen)
{
	const char *t = p->ops->api->records_path, *at = strchr(t, '{');
	const char *val = "", *rest = "";
	int n;

	if (at) {
		bool by_id = !strncmp(at, "{zone_id}", 9);

		val = by_id ? r->zone_id : r->zone;
		rest = at + (by_id ? 9 : 6);
	} else {
		at = t + strlen(t);
	}
	n = snprintf(out, cap, "%.*s%s%s%s%s", (int)(at - t), t, val, rest, id ? "/" : "",
		     id ? id : "");
	if (n < 0 || (size_t)n >= cap) {
		snprintf(err, errlen, "%s: record path too long", p->ops->name);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* The creation body: {["zone_id",] "type":"TXT", "name", <value_key>,
 * "ttl"}; NULL when a member cannot be made. */
static json_t *dns_api_body(const struct dns_provider *p, const struct dns_record *r)
{
	const struct dns_api *api = p->ops->api;
	json_t *o = json_object();
	char rel[DNS_NAME_MAX + 1];

	if (api->name_relative)
		dns_record_relative(r, rel, sizeof(rel));
	if (!o || (api->zone_id_in_body &&
		   json_object_set_new(o, "zone_id", json_string(r->zone_id))) ||
	    json_object_set_new(o, "type", json_string("TXT")) ||
	    json_object_set_new(o, "name", json_string(api->name_relative ? rel : r->fqdn)) ||
	    json_object_set_new(o, api->value_key, json_string(r->value)) ||
	    json_object_set_new(o, "ttl", json_integer(p->ttl))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int dns_api_add(struct dns_provider *p, struct dns_record *r, char *err, size_t errlen)
{
	const struct dns_api *api = p->ops->api;
	char path[600], idbuf[32], *s = NULL;
	json_t *body, *j;
	int rc = dns_api_path(p, r, NULL, path, sizeof(path), err, errlen);

	if (rc)
		return rc;
	body = dns_api_body(p, r);
	s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	rc = s ? dns_api_call(p, api, "POST", path, s, "creating the TXT record", &j, err,
			      errlen) : -ENOMEM;
	free(s);
	if (rc)
		return rc;
	rc = dns_record_set_id(r, dns_json_id(j, api->record_id_at, idbuf, sizeof(idbuf)),
			       p->ops->name, err, errlen);
	json_decref(j);
	return rc;
}

int dns_api_del(struct dns_provider *p, const struct dns_record *r, char *err, size_t errlen)
{
	char path[600];
	json_t *j;
	int rc = dns_api_path(p, r, r->id, path, sizeof(path), err, errlen);

	if (rc == 0)
		rc = dns_api_call(p, p->ops->api, "DELETE", path, NULL,
				  "deleting the TXT record", &j, err, errlen);
	if (rc == 0)
		json_decref(j);
	return rc;
}

int dns_record_set_id(struct dns_record *r, const char *id, const char *who,
		      char *err, size_t errlen)
{
	if (!id || !dns_id_ok(id, 64)) {
		snprintf(err, errlen, "%s: answer has no record id", who);
		return -EPROTO;
	}
	snprintf(r->id, sizeof(r->id), "%s", id);
	return 0;
}
