/* route_certs.c - a self-signed certificate per route host when the hub
 * has no ACME (route_certs.h).
 *
 * Kept in memory only: the certificates are a stand-in until the user
 * brings real ones (imported, or ACME), and a restart making new ones
 * changes nothing a browser could have trusted. */
#define LOG_SUBSYS "tls"
#include "hub/route_certs.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/array.h"
#include "core/log.h"
#include "core/secure.h"
#include "hub/control.h"
#include "store/store.h"
#include "tls/cert.h"
#include "tls/tls.h"

/* More route hosts than this get the hub's fallback certificate. */
#define ROUTE_CERTS_MAX 4096
#define ROUTE_CERT_DAYS 825

struct route_cert {
	char host[254];
	struct tls_cert *cert;
	bool seen;		/* a route has the host in this build */
};

static struct route_cert *route_certs_find(struct route_certs *rcs, const char *host)
{
	for (size_t i = 0; i < rcs->n; i++)
		if (!strcmp(rcs->v[i].host, host))
			return &rcs->v[i];
	return NULL;
}

/* A new self-signed certificate for `host`, or NULL (logged). */
static struct tls_cert *route_certs_make(struct tls_server *srv, const char *host)
{
	struct tls_certset *tmp = tls_certset_new(srv);
	struct tls_cert *cert = NULL;
	char *crt = NULL, *key = NULL, err[256];
	size_t crt_len = 0, key_len = 0;

	if (tmp && tls_selfsigned_make(&host, 1, ROUTE_CERT_DAYS, &crt, &crt_len, &key,
				       &key_len, err, sizeof(err)) == 0 &&
	    tls_certset_add_pem(tmp, crt, crt_len, key, key_len, err, sizeof(err)) == 0)
		cert = tls_cert_ref(tls_certset_at(tmp, 0));
	else
		log_warn("no self-signed certificate for %s: %s", host,
			 tmp ? err : "out of memory");
	free(crt);
	if (key)
		secure_free(key, key_len);
	tls_certset_put(tmp);
	return cert;
}

/* The kept certificate for `host`, made on first use; NULL when none. */
static struct route_cert *route_certs_get(struct route_certs *rcs, struct tls_server *srv,
					  const char *host)
{
	struct route_cert *rc = route_certs_find(rcs, host);

	if (rc || rcs->n >= ROUTE_CERTS_MAX || strlen(host) >= sizeof(rc->host))
		return rc;
	if (array_grow((void **)&rcs->v, rcs->n, &rcs->cap, sizeof(*rcs->v)) < 0)
		return NULL;
	rc = &rcs->v[rcs->n];
	memset(rc, 0, sizeof(*rc));
	snprintf(rc->host, sizeof(rc->host), "%s", host);
	if (!(rc->cert = route_certs_make(srv, host)))
		return NULL;
	rcs->n++;
	log_info("serving a self-signed certificate for route host %s", host);
	return rc;
}

/* Drops the certificates of hosts no route has any more. */
static void route_certs_prune(struct route_certs *rcs)
{
	size_t k = 0;

	for (size_t i = 0; i < rcs->n; i++) {
		if (rcs->v[i].seen)
			rcs->v[k++] = rcs->v[i];
		else
			tls_cert_put(rcs->v[i].cert);
	}
	rcs->n = k;
}

void route_certs_add(struct route_certs *rcs, struct api *api, struct tls_server *srv,
		     struct tls_certset *set)
{
	sqlite3_stmt *st = api ? store_prepare(api_store(api), "SELECT DISTINCT host FROM"
					       " routes WHERE tcp_listen_port IS NULL") : NULL;
	struct route_cert *rc;
	bool dflt;

	if (!st)
		return;
	for (size_t i = 0; i < rcs->n; i++)
		rcs->v[i].seen = false;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *host = (const char *)sqlite3_column_text(st, 0);
		if (!host || host[0] == '*' || !strncmp(host, "tcp:", 4))
			continue;
		if ((rc = route_certs_find(rcs, host)))
			rc->seen = true;
		if (tls_certset_lookup(set, host, strlen(host), &dflt) && !dflt)
			continue;	/* a real (or imported) one covers it */
		if ((rc = route_certs_get(rcs, srv, host))) {
			rc->seen = true;
			if (tls_certset_add_cert(set, rc->cert) < 0)
				log_warn("route host %s: out of memory", host);
		}
	}
	sqlite3_finalize(st);
	route_certs_prune(rcs);
}

void route_certs_free(struct route_certs *rcs)
{
	for (size_t i = 0; i < rcs->n; i++)
		tls_cert_put(rcs->v[i].cert);
	free(rcs->v);
	memset(rcs, 0, sizeof(*rcs));
}
