/* reload.c - replacing the live certificate set, and the control timers.
 *
 * Everything here runs on the control thread. A new set is built aside
 * and installed in one pointer swap (tls_server_certset_install); nothing
 * a worker reads is ever modified in place. */
#define LOG_SUBSYS "tls"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "tls/internal.h"
#include "tls/ocsp.h"

/* True when the set has a certificate (not the default) for `name`. */
static bool reload_covers(struct tls_certset *set, const char *name)
{
	bool def;

	return tls_certset_lookup(set, name, strlen(name), &def) && !def;
}

int tls_certset_fill(struct tls_certset *set, const char *dir,
		     const char *selfsigned_name, const char *default_name,
		     char *err, size_t errlen)
{
	if (dir && tls_certset_add_dir(set, dir, err, errlen) < 0)
		return -1;
	if (selfsigned_name && !reload_covers(set, selfsigned_name) &&
	    tls_certdir_selfsigned(set, dir, selfsigned_name, err, errlen) < 0)
		return -1;
	if (tls_certset_count(set) == 0) {
		snprintf(err, errlen, "no certificate%s%s", dir ? " in " : "",
			 dir ? dir : "");
		return -1;
	}
	if (default_name && tls_certset_set_default(set, default_name) < 0) {
		snprintf(err, errlen, "cert_default: no certificate for %s",
			 default_name);
		return -1;
	}
	return 0;
}

int tls_server_certs_reload(struct tls_server *srv, char *err, size_t errlen)
{
	struct tls_certset *set = tls_certset_new(srv);
	int ret;

	if (!set) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&srv->install_lock);
	if (tls_certset_fill(set, srv->cert_dir, srv->selfsigned_name,
			     srv->cert_default, err, errlen) < 0) {
		tls_certset_put(set);
		ret = -1;
	} else {
		ret = tls_server_certset_install(srv, set) < 0 ? -1 : 0;
		if (ret < 0)
			snprintf(err, errlen, "install failed");
	}
	pthread_mutex_unlock(&srv->install_lock);
	return ret;
}

/* True when every name of `old` is also a name of `new`. */
static bool upsert_replaces(const struct tls_cert *new,
			    const struct tls_cert *old)
{
	for (size_t i = 0; i < old->n_names; i++) {
		bool found = false;

		for (size_t j = 0; j < new->n_names && !found; j++)
			found = strcmp(old->names[i], new->names[j]) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* Copies `cur` (minus what `cert` replaces) plus `cert` into `set`. */
static int upsert_build(struct tls_certset *set, struct tls_certset *cur,
			struct tls_cert *cert)
{
	size_t n = cur ? cur->n : 0;

	for (size_t i = 0; i < n; i++)
		if (!upsert_replaces(cert, cur->certs[i]) &&
		    tls_certset_add_cert(set, cur->certs[i]) < 0)
			return -1;
	if (tls_certset_add_cert(set, cert) < 0)
		return -1;
	/* The default stays unless it was replaced. */
	if (cur && cur->def && !upsert_replaces(cert, cur->def))
		set->def = cur->def;
	return 0;
}

int tls_server_cert_upsert(struct tls_server *srv, const char *chain_pem,
			   size_t chain_len, const char *key_pem,
			   size_t key_len, char *err, size_t errlen)
{
	struct tls_cert *cert;
	struct tls_certset *cur, *set;
	int ret = -1;

	if (tls_cert_load(srv, chain_pem, chain_len, key_pem, key_len, &cert,
			  err, errlen) < 0)
		return -1;
	pthread_mutex_lock(&srv->install_lock);
	cur = tls_server_certset_get(srv);
	set = tls_certset_new(srv);
	if (!set || upsert_build(set, cur, cert) < 0) {
		snprintf(err, errlen, "out of memory");
		tls_certset_put(set);
	} else if (tls_server_certset_install(srv, set) < 0) {
		snprintf(err, errlen, "install failed");
	} else {
		ret = 0;
	}
	pthread_mutex_unlock(&srv->install_lock);
	tls_certset_put(cur);
	tls_cert_put(cert);
	return ret;
}

static void reload_ticket_timer(struct loop_timer *t)
{
	struct tls_server *srv = t->data;

	if (tls_server_tickets_rotate(srv) < 0) {
		log_err("session ticket key rotation failed; retrying in 60s");
		loop_timer_arm(srv->loop, t, 60 * NSEC_PER_SEC);
		return;
	}
	loop_timer_arm(srv->loop, t, srv->opts.ticket_rotate_ns);
}

static void reload_ocsp_timer(struct loop_timer *t)
{
	struct tls_server *srv = t->data;
	uint64_t next_s = TLS_OCSP_RETRY_S;

	tls_ocsp_refresh(srv, &next_s);
	loop_timer_arm(srv->loop, t, next_s * NSEC_PER_SEC);
}

int tls_server_timers_start(struct tls_server *srv, struct loop *loop)
{
	srv->loop = loop;
	loop_timer_init(&srv->ticket_timer, reload_ticket_timer, srv);
	loop_timer_init(&srv->ocsp_timer, reload_ocsp_timer, srv);
	if (srv->opts.tickets)
		loop_timer_arm(loop, &srv->ticket_timer,
			       srv->opts.ticket_rotate_ns);
	if (srv->opts.ocsp_stapling)
		loop_timer_arm(loop, &srv->ocsp_timer, 0);
	return 0;
}

void tls_server_timers_stop(struct tls_server *srv)
{
	if (!srv->loop)
		return;
	loop_timer_disarm(srv->loop, &srv->ticket_timer);
	loop_timer_disarm(srv->loop, &srv->ocsp_timer);
	srv->loop = NULL;
}
