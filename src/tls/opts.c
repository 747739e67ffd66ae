/* opts.c - TLS settings: defaults and the [tls] config section. */
#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "tls/tls.h"

void tls_opts_default(struct tls_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->tickets = true;
	o->ticket_rotate_ns = TLS_TICKET_ROTATE_DEFAULT_NS;
	o->ticket_lifetime_ns = TLS_TICKET_LIFETIME_DEFAULT_NS;
	o->ocsp_stapling = true;
}

/* The string-valued keys and where they go. */
static void opts_strings(struct tls_opts *o, struct conf *c, const char *sec)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "alpn", offsetof(struct tls_opts, alpn) },
		{ "ciphers", offsetof(struct tls_opts, ciphers) },
		{ "ciphersuites", offsetof(struct tls_opts, ciphersuites) },
		{ "groups", offsetof(struct tls_opts, groups) },
		{ "cert_dir", offsetof(struct tls_opts, cert_dir) },
		{ "cert_default", offsetof(struct tls_opts, cert_default) },
		{ "selfsigned_name", offsetof(struct tls_opts, selfsigned_name) },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = conf_get(c, sec, keys[i].key);

		if (v)
			*(const char **)(void *)((char *)o + keys[i].off) = v;
	}
}

int tls_opts_from_conf(struct tls_opts *o, struct conf *c, const char *sec,
		       char *err, size_t errlen)
{
	const uint64_t week = 7ULL * 86400 * 1000000000ULL;

	opts_strings(o, c, sec);
	if (conf_get_bool(c, sec, "tickets", &o->tickets, err, errlen) < 0 ||
	    conf_get_bool(c, sec, "ocsp_stapling", &o->ocsp_stapling, err,
			  errlen) < 0 ||
	    conf_get_duration(c, sec, "ticket_rotate", 1000000000ULL, week,
			      &o->ticket_rotate_ns, err, errlen) < 0 ||
	    conf_get_duration(c, sec, "ticket_lifetime", 1000000000ULL, week,
			      &o->ticket_lifetime_ns, err, errlen) < 0)
		return -1;
	return 0;
}
