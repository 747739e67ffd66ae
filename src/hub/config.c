/* config.c - the hub's config file. */
#include "hub/config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/conf.h"
#include "core/num.h"

void hub_config_defaults(struct hub_config *cfg)
{
	struct front_settings *s = &cfg->set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	memset(cfg, 0, sizeof(*cfg));
	cfg->workers = n > 0 ? (unsigned)n : 1;
	addr_parse("0.0.0.0:80", &cfg->listen_http[0]);
	cfg->nlisten_http = 1;
	cfg->shutdown_timeout = 10 * NSEC_PER_SEC;
	s->limits = (struct http_limits){
		.max_line = 8192, .max_head = 32768, .max_headers = 100,
		.max_body = 0,
	};
	s->header_timeout = 10 * NSEC_PER_SEC;
	s->body_timeout = 30 * NSEC_PER_SEC;
	s->keepalive_timeout = 60 * NSEC_PER_SEC;
	s->send_timeout = 60 * NSEC_PER_SEC;
	s->up_connect_timeout = 5 * NSEC_PER_SEC;
	s->up_header_timeout = 60 * NSEC_PER_SEC;
	s->up_idle_timeout = 60 * NSEC_PER_SEC;
	s->up_pool_idle = 30 * NSEC_PER_SEC;
	s->tunnel_idle_timeout = 3600 * NSEC_PER_SEC;
	s->up_pool_max = 64;
	s->max_conns = 100000;
	s->max_conns_per_ip = 1000;
	s->h2_up_per_conn = 32;
	s->h2_up_per_ip = 256;
	snprintf(s->request_id_header, sizeof(s->request_id_header), "%s",
		 "X-Request-Id");
	s->access_log = true;
	tls_conf_default(&cfg->tls);
	cfg->wg.enabled = true;
	cfg->wg.port = 51820;
	cfg->wg.mtu = 1420;
	snprintf(cfg->wg.ifname, sizeof(cfg->wg.ifname), "postern0");
}

/* Reads [SECTION] KEY as a whole number in [min, max] into *out; an
 * absent key leaves *out as it was. Returns 0, or -1 with a message. */
static int hub_config_uint(struct conf *c, const char *section, const char *key,
			   uint64_t min, uint64_t max, unsigned *out, char *err,
			   size_t errlen)
{
	uint64_t v;
	int r = conf_get_u64(c, section, key, min, max, &v, err, errlen);

	if (r < 0)
		return -1;
	if (r == 0)
		*out = (unsigned)v;
	return 0;
}

/* [wireguard] enabled, listen_port, interface, endpoint, mtu, uapi. */
static int hub_config_wg(struct conf *c, struct hub_wg_conf *w, char *err, size_t errlen)
{
	unsigned port = w->port;
	const char *v;

	if (conf_get_bool(c, "wireguard", "enabled", &w->enabled, err, errlen) < 0 ||
	    conf_get_bool(c, "wireguard", "uapi", &w->uapi, err, errlen) < 0 ||
	    hub_config_uint(c, "wireguard", "listen_port", 1, 65535, &port, err, errlen) < 0 ||
	    hub_config_uint(c, "wireguard", "mtu", 1280, 8920, &w->mtu, err, errlen) < 0)
		return -1;
	w->port = (uint16_t)port;
	if ((v = conf_get(c, "wireguard", "interface"))) {
		size_t len = strlen(v);
		if (len == 0 || len >= sizeof(w->ifname) || strspn(v,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != len) {
			snprintf(err, errlen, "%s: wireguard.interface: 1..15 letters, digits, '-', '_', '.'",
				 c->name);
			return -1;
		}
		memcpy(w->ifname, v, len + 1);
	}
	if ((v = conf_get(c, "wireguard", "endpoint"))) {
		if (strlen(v) >= sizeof(w->endpoint) || !strchr(v, ':') || strpbrk(v, " \t/")) {
			snprintf(err, errlen, "%s: wireguard.endpoint: want HOST:PORT", c->name);
			return -1;
		}
		snprintf(w->endpoint, sizeof(w->endpoint), "%s", v);
	}
	return 0;
}

/* Parses a comma-separated list of listen addresses. */
static int hub_config_listen(struct conf *c, const char *key, struct addr *out,
			     unsigned *n, char *err, size_t errlen)
{
	const char *v = conf_get(c, "hub", key);
	char tmp[1024], *save = NULL, *tok;

	if (!v)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s", v);
	*n = 0;
	for (tok = strtok_r(tmp, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (*n == HUB_MAX_LISTEN || addr_parse(tok, &out[*n]) < 0) {
			snprintf(err, errlen, "%s: %s: bad listen address '%s' (want ip:port or [ip6]:port, at most %d)",
				 c->name, key, tok, HUB_MAX_LISTEN);
			return -1;
		}
		(*n)++;
	}
	return 0;
}

static int hub_config_trusted(struct conf *c, struct front_settings *s, char *err,
			      size_t errlen)
{
	const char *v = conf_get(c, "hub", "trusted_proxies");
	char tmp[2048], *save = NULL, *tok;

	if (!v)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s", v);
	for (tok = strtok_r(tmp, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (s->ntrusted == HUB_MAX_TRUSTED ||
		    addr_cidr_parse(tok, strlen(tok), &s->trusted[s->ntrusted]) < 0) {
			snprintf(err, errlen, "%s: trusted_proxies: bad CIDR '%s'",
				 c->name, tok);
			return -1;
		}
		s->ntrusted++;
	}
	return 0;
}

static int hub_config_str(struct conf *c, const char *key, char *out, size_t cap,
			  char *err, size_t errlen)
{
	const char *v = conf_get(c, "hub", key);

	if (!v)
		return 0;
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "%s: %s: too long", c->name, key);
		return -1;
	}
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int hub_config_size(struct conf *c, const char *key, uint64_t min,
			   uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	const char *v = conf_get(c, "hub", key);

	if (!v)
		return 0;
	if (num_parse_size(v, min, max, out) < 0) {
		snprintf(err, errlen, "%s: %s: want a size between %llu and %llu",
			 c->name, key, (unsigned long long)min,
			 (unsigned long long)max);
		return -1;
	}
	return 0;
}

static int hub_config_durations(struct conf *c, struct hub_config *cfg,
				char *err, size_t errlen)
{
	struct front_settings *s = &cfg->set;
	const struct {
		const char *key;
		uint64_t *out;
	} d[] = {
		{ "header_timeout", &s->header_timeout },
		{ "body_timeout", &s->body_timeout },
		{ "keepalive_timeout", &s->keepalive_timeout },
		{ "send_timeout", &s->send_timeout },
		{ "upstream_connect_timeout", &s->up_connect_timeout },
		{ "upstream_header_timeout", &s->up_header_timeout },
		{ "upstream_idle_timeout", &s->up_idle_timeout },
		{ "upstream_keepalive_timeout", &s->up_pool_idle },
		{ "tunnel_idle_timeout", &s->tunnel_idle_timeout },
		{ "shutdown_timeout", &cfg->shutdown_timeout },
	};
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		if (conf_get_duration(c, "hub", d[i].key, NSEC_PER_MSEC,
				      7 * 86400 * NSEC_PER_SEC, d[i].out, err,
				      errlen) < 0)
			return -1;
	return 0;
}

static int hub_config_numbers(struct conf *c, struct hub_config *cfg, char *err,
			      size_t errlen)
{
	struct front_settings *s = &cfg->set;
	unsigned workers = 0;	/* 0: keep one per core */
	const struct {
		const char *key;
		uint64_t min, max;
		unsigned *out;
	} u[] = {
		{ "workers", 0, 256, &workers },
		{ "max_connections", 1, 10000000, &s->max_conns },
		{ "max_connections_per_ip", 1, 10000000, &s->max_conns_per_ip },
		{ "h2_upstream_streams", 1, 128, &s->h2_up_per_conn },
		{ "h2_upstream_streams_per_ip", 1, 1000000, &s->h2_up_per_ip },
		{ "max_headers", 1, HTTP_MAX_HEADERS, &s->limits.max_headers },
		{ "upstream_keepalive_max", 0, 100000, &s->up_pool_max },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (hub_config_uint(c, "hub", u[i].key, u[i].min, u[i].max, u[i].out, err,
				    errlen) < 0)
			return -1;
	if (workers > 0)
		cfg->workers = workers;
	v = s->limits.max_line;
	if (hub_config_size(c, "max_request_line", 64, 65536, &v, err, errlen) < 0)
		return -1;
	s->limits.max_line = v;
	v = s->limits.max_head;
	if (hub_config_size(c, "max_header_bytes", 256, 1 << 20, &v, err, errlen) < 0)
		return -1;
	s->limits.max_head = v;
	return hub_config_size(c, "max_body", 0, HTTP_LEN_MAX, &s->limits.max_body,
			       err, errlen);
}

/* [cert.NAME] sections: cert = FILE, key = FILE. */
static int hub_config_certs(struct conf *c, struct hub_config *cfg, char *err,
			    size_t errlen)
{
	for (size_t i = 0; i < c->n; i++) {
		struct conf_entry *e = &c->v[i];
		struct front_cert *hc;
		const char *crt, *key;

		if (strncmp(e->section, "cert.", 5) != 0 || strcmp(e->key, "cert"))
			continue;
		if (cfg->ncerts == HUB_MAX_CERTS) {
			snprintf(err, errlen, "%s: at most %d [cert.*] sections",
				 c->name, HUB_MAX_CERTS);
			return -1;
		}
		crt = conf_get(c, e->section, "cert");
		key = conf_get(c, e->section, "key");
		if (!key) {
			snprintf(err, errlen, "%s:%u: [%s] needs key = FILE",
				 c->name, e->line, e->section);
			return -1;
		}
		hc = &cfg->certs[cfg->ncerts++];
		snprintf(hc->cert, sizeof(hc->cert), "%s", crt);
		snprintf(hc->key, sizeof(hc->key), "%s", key);
	}
	return 0;
}

static int hub_config_read(struct conf *c, struct hub_config *cfg, char *err,
			   size_t errlen)
{
	struct front_settings *s = &cfg->set;
	const char *v;

	if (hub_config_listen(c, "listen_http", cfg->listen_http,
			      &cfg->nlisten_http, err, errlen) < 0 ||
	    hub_config_listen(c, "listen_https", cfg->listen_https,
			      &cfg->nlisten_https, err, errlen) < 0 ||
	    hub_config_trusted(c, s, err, errlen) < 0 ||
	    hub_config_durations(c, cfg, err, errlen) < 0 ||
	    hub_config_numbers(c, cfg, err, errlen) < 0 ||
	    hub_config_certs(c, cfg, err, errlen) < 0 ||
	    tls_conf_read(&cfg->tls, c, "tls", err, errlen) < 0)
		return -1;
	s->https_port = cfg->nlisten_https ? addr_port(&cfg->listen_https[0]) : 0;
	if (hub_config_str(c, "hostname", s->hostname, sizeof(s->hostname), err, errlen) < 0 ||
	    hub_config_str(c, "routes", cfg->routes_file, sizeof(cfg->routes_file), err, errlen) < 0 ||
	    hub_config_str(c, "control_socket", cfg->control_socket,
			   sizeof(cfg->control_socket), err, errlen) < 0 ||
	    hub_config_str(c, "data_dir", cfg->data_dir, sizeof(cfg->data_dir), err, errlen) < 0 ||
	    hub_config_str(c, "secret_key", cfg->secret_key, sizeof(cfg->secret_key),
			   err, errlen) < 0 ||
	    hub_config_str(c, "audit_key", cfg->audit_key, sizeof(cfg->audit_key),
			   err, errlen) < 0 ||
	    hub_config_str(c, "request_id_header", s->request_id_header,
			   sizeof(s->request_id_header), err, errlen) < 0)
		return -1;
	v = conf_get(c, "hub", "access_log");
	if (v) {
		s->access_log = strcmp(v, "off") != 0;
		if (s->access_log && strcmp(v, "-") != 0)
			snprintf(cfg->access_log_path, sizeof(cfg->access_log_path), "%s", v);
	}
	v = conf_get(c, "hub", "metrics_listen");
	if (v) {
		if (addr_parse(v, &cfg->metrics_listen) < 0) {
			snprintf(err, errlen, "%s: metrics_listen: bad address '%s'", c->name, v);
			return -1;
		}
		cfg->metrics = true;
	}
	if (acme_mgr_conf(c, &cfg->acme, err, errlen) < 0 ||
	    hub_config_wg(c, &cfg->wg, err, errlen) < 0)
		return -1;
	/* Certificates the hub obtains are served from where it stores them
	 * unless [tls] names another directory. */
	if (cfg->acme.enabled && !cfg->tls.cert_dir[0])
		snprintf(cfg->tls.cert_dir, sizeof(cfg->tls.cert_dir), "%s",
			 cfg->acme.state_dir);
	return conf_check_unused(c, err, errlen);
}

int hub_config_load(struct hub_config *cfg, const char *path, char *err,
		    size_t errlen)
{
	struct conf c;
	int r;

	hub_config_defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	if (conf_load(&c, path, err, errlen) < 0)
		return -1;
	r = hub_config_read(&c, cfg, err, errlen);
	conf_free(&c);
	return r;
}

int hub_config_make_dirs(const struct hub_config *cfg, char *err, size_t errlen)
{
	const char *d = cfg->tls.cert_dir;
	struct stat st;

	if (!d[0])
		return 0;
	if (mkdir(d, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cert_dir %s: %s", d, strerror(errno));
		return -1;
	}
	if (stat(d, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cert_dir %s: not a directory", d);
		return -1;
	}
	return 0;
}
