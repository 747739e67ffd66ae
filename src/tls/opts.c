/* opts.c - TLS settings: defaults and the [tls] config section. */
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "tls/tls.h"

/* The defaults the options and the config section share (tls.h). */
#define TLS_DEFAULTS .tickets = true, .ocsp_stapling = true,		\
	.ticket_rotate_ns = TLS_TICKET_ROTATE_DEFAULT_NS,		\
	.ticket_lifetime_ns = TLS_TICKET_LIFETIME_DEFAULT_NS

void tls_opts_default(struct tls_opts *o)
{
	*o = (struct tls_opts){ TLS_DEFAULTS };
}

void tls_conf_default(struct tls_conf *tc)
{
	*tc = (struct tls_conf){ TLS_DEFAULTS };
}

/* The string-valued keys and where they go. Returns 0 or -1 (too long). */
static int conf_strings(struct tls_conf *tc, struct conf *c, const char *sec,
			char *err, size_t errlen)
{
	const struct {
		const char *key;
		char *dst;
		size_t size;
	} keys[] = {
		{ "alpn", tc->alpn, sizeof(tc->alpn) },
		{ "ciphers", tc->ciphers, sizeof(tc->ciphers) },
		{ "ciphersuites", tc->ciphersuites, sizeof(tc->ciphersuites) },
		{ "groups", tc->groups, sizeof(tc->groups) },
		{ "cert_dir", tc->cert_dir, sizeof(tc->cert_dir) },
		{ "cert_default", tc->cert_default, sizeof(tc->cert_default) },
		{ "selfsigned_name", tc->selfsigned_name,
		  sizeof(tc->selfsigned_name) },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = conf_get(c, sec, keys[i].key);

		if (!v)
			continue;
		if (strlen(v) >= keys[i].size) {
			snprintf(err, errlen, "[%s] %s: longer than %zu bytes",
				 sec, keys[i].key, keys[i].size - 1);
			return -1;
		}
		memcpy(keys[i].dst, v, strlen(v) + 1);
	}
	return 0;
}

int tls_conf_read(struct tls_conf *tc, struct conf *c, const char *sec,
		  char *err, size_t errlen)
{
	const uint64_t week = 7ULL * 86400 * 1000000000ULL;

	if (conf_strings(tc, c, sec, err, errlen) < 0 ||
	    conf_get_bool(c, sec, "tickets", &tc->tickets, err, errlen) < 0 ||
	    conf_get_bool(c, sec, "ocsp_stapling", &tc->ocsp_stapling, err,
			  errlen) < 0 ||
	    conf_get_duration(c, sec, "ticket_rotate", 1000000000ULL, week,
			      &tc->ticket_rotate_ns, err, errlen) < 0 ||
	    conf_get_duration(c, sec, "ticket_lifetime", 1000000000ULL, week,
			      &tc->ticket_lifetime_ns, err, errlen) < 0)
		return -1;
	return 0;
}

static const char *conf_or_null(const char *s)
{
	return s[0] ? s : NULL;
}

void tls_conf_opts(const struct tls_conf *tc, struct tls_opts *o)
{
	tls_opts_default(o);
	o->alpn = conf_or_null(tc->alpn);
	o->ciphers = conf_or_null(tc->ciphers);
	o->ciphersuites = conf_or_null(tc->ciphersuites);
	o->groups = conf_or_null(tc->groups);
	o->cert_dir = conf_or_null(tc->cert_dir);
	o->cert_default = conf_or_null(tc->cert_default);
	o->selfsigned_name = conf_or_null(tc->selfsigned_name);
	o->tickets = tc->tickets;
	o->ocsp_stapling = tc->ocsp_stapling;
	o->ticket_rotate_ns = tc->ticket_rotate_ns;
	o->ticket_lifetime_ns = tc->ticket_lifetime_ns;
}
