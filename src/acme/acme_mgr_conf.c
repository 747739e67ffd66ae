/* acme_mgr_conf.c - the [acme] and [acme.cert.NAME] config sections. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_mgr.h"
#include "acme/acme_name.h"
#include "core/clock.h"
#include "core/conf.h"

#define SEC "acme"

static int conf_str(struct conf *c, const char *sec, const char *key, char *out,
		    size_t cap, char *err, size_t errlen)
{
	const char *v = conf_get(c, sec, key);

	if (!v)
		return 0;
	if (strlen(v) >= cap) {
		snprintf(err, errlen, "%s: [%s] %s: too long", c->name, sec, key);
		return -1;
	}
	snprintf(out, cap, "%s", v);
	return 0;
}

/* Splits "a b,c" into names, each a valid DNS name (wildcards allowed). */
static int conf_names(struct conf *c, const char *sec, const char *v,
		      char (*out)[256], size_t max, size_t *n, char *err,
		      size_t errlen)
{
	char tmp[4096], *save = NULL;

	snprintf(tmp, sizeof(tmp), "%s", v);
	*n = 0;
	for (char *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (*n == max || strlen(t) > 253 || !acme_name_valid(t, true)) {
			snprintf(err, errlen, "%s: [%s] '%s': not a DNS name (or too many)",
				 c->name, sec, t);
			return -1;
		}
		snprintf(out[(*n)++], 256, "%s", t);
	}
	if (*n == 0) {
		snprintf(err, errlen, "%s: [%s] names: empty", c->name, sec);
		return -1;
	}
	return 0;
}

static int conf_wants(struct conf *c, struct acme_mgr_cfg *cfg, char *err,
		      size_t errlen)
{
	for (size_t i = 0; i < c->n; i++) {
		struct conf_entry *e = &c->v[i];
		struct acme_mgr_want *w;

		if (strncmp(e->section, "acme.cert.", 10) || strcmp(e->key, "names"))
			continue;
		if (cfg->n_want == ACME_MGR_MAX_WANT ||
		    strlen(e->section + 10) >= sizeof(w->id)) {
			snprintf(err, errlen, "%s:%u: at most %d [acme.cert.*] sections "
				 "with short names", c->name, e->line, ACME_MGR_MAX_WANT);
			return -1;
		}
		w = &cfg->want[cfg->n_want++];
		snprintf(w->id, sizeof(w->id), "%s", e->section + 10);
		if (conf_names(c, e->section, conf_get(c, e->section, "names"), w->names,
			       ACME_MGR_MAX_NAMES, &w->n_names, err, errlen))
			return -1;
	}
	return 0;
}

static int conf_servers(struct conf *c, struct acme_mgr_cfg *cfg, char *err,
			size_t errlen)
{
	const char *v = conf_get(c, SEC, "dns_check_servers");
	char tmp[1024], *save = NULL;

	if (!v)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s", v);
	for (char *t = strtok_r(tmp, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (cfg->n_dns_servers == ACME_DNS01_MAX_SERVERS || strlen(t) >= 64) {
			snprintf(err, errlen, "%s: [acme] dns_check_servers: too many", c->name);
			return -1;
		}
		snprintf(cfg->dns_servers[cfg->n_dns_servers++], 64, "%s", t);
	}
	return 0;
}

int acme_mgr_conf(struct conf *c, struct acme_mgr_cfg *cfg, char *err,
		  size_t errlen)
{
	const char *kt;
	uint64_t d;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	cfg->route_hosts = true;
	if (conf_str(c, SEC, "directory", cfg->directory, sizeof(cfg->directory), err, errlen) ||
	    conf_str(c, SEC, "ca_file", cfg->ca_file, sizeof(cfg->ca_file), err, errlen) ||
	    conf_str(c, SEC, "account_key", cfg->account_key, sizeof(cfg->account_key), err, errlen) ||
	    conf_str(c, SEC, "state_dir", cfg->state_dir, sizeof(cfg->state_dir), err, errlen) ||
	    conf_str(c, SEC, "email", cfg->email, sizeof(cfg->email), err, errlen) ||
	    conf_str(c, SEC, "eab_kid", cfg->eab_kid, sizeof(cfg->eab_kid), err, errlen) ||
	    conf_str(c, SEC, "eab_hmac_key_file", cfg->eab_key_file, sizeof(cfg->eab_key_file), err, errlen) ||
	    conf_str(c, SEC, "challenges", cfg->challenges, sizeof(cfg->challenges), err, errlen) ||
	    conf_str(c, SEC, "dns_provider", cfg->dns_provider, sizeof(cfg->dns_provider), err, errlen) ||
	    conf_str(c, SEC, "dns_conf", cfg->dns_conf, sizeof(cfg->dns_conf), err, errlen) ||
	    conf_servers(c, cfg, err, errlen) || conf_wants(c, cfg, err, errlen))
		return -1;
	if (conf_get_bool(c, SEC, "agree_tos", &cfg->agree_tos, err, errlen) < 0 ||
	    conf_get_bool(c, SEC, "route_hosts", &cfg->route_hosts, err, errlen) < 0)
		return -1;
	if ((r = conf_get_duration(c, SEC, "dns_timeout", NSEC_PER_SEC, 3600 * NSEC_PER_SEC,
				   &d, err, errlen)) < 0)
		return -1;
	if (r == 0)
		cfg->dns_timeout_s = (unsigned)(d / NSEC_PER_SEC);
	if ((r = conf_get_duration(c, SEC, "ari_interval", NSEC_PER_SEC,
				   7 * 86400 * NSEC_PER_SEC, &d, err, errlen)) < 0)
		return -1;
	if (r == 0)
		cfg->ari_interval_s = d / NSEC_PER_SEC;
	kt = conf_get(c, SEC, "key_type");
	if (kt && acme_key_type_parse(kt, &cfg->key_type)) {
		snprintf(err, errlen, "%s: [acme] key_type: ec256, rsa2048 or rsa3072", c->name);
		return -1;
	}
	if (!cfg->directory[0])
		return cfg->n_want ? (snprintf(err, errlen, "%s: [acme.cert.*] without "
					       "[acme] directory", c->name), -1) : 0;
	if (!cfg->state_dir[0]) {
		snprintf(err, errlen, "%s: [acme] state_dir is required", c->name);
		return -1;
	}
	if (!cfg->account_key[0])
		snprintf(cfg->account_key, sizeof(cfg->account_key), "%.400s/account.key",
			 cfg->state_dir);
	/* Credentials: dns_conf, or (with a control plane) set through the
	 * API; a job without either fails with a message saying so. */
	if (strstr(cfg->challenges, "dns-01") && !cfg->dns_provider[0]) {
		snprintf(err, errlen, "%s: [acme] dns-01 needs dns_provider (and dns_conf "
			 "or credentials set with 'postern dns-provider set')", c->name);
		return -1;
	}
	cfg->enabled = true;
	return 0;
}
