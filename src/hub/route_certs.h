/* route_certs.h - without ACME, a self-signed certificate per route host,
 * so that a browser's warning names the host the user asked for rather
 * than the hub's own name. */
#ifndef POSTERN_HUB_ROUTE_CERTS_H
#define POSTERN_HUB_ROUTE_CERTS_H

#include <stddef.h>

struct api;
struct route_cert;
struct tls_certset;
struct tls_server;

/* The kept certificates, one per route host: a field of struct hub
 * (hub->route_certs), control thread only. Zero is empty. */
struct route_certs {
	struct route_cert *v;
	size_t n, cap;
};

/* Adds to `set` a self-signed certificate for every host of a stored
 * http(s) route that nothing in the set covers yet (wildcard hosts and
 * raw TCP routes have none). Each is made once and kept for the life of
 * the process, so later snapshots (and every connection) serve the same
 * one; a host whose routes are gone is dropped at the next build. Control
 * thread only; does nothing without a store. */
void route_certs_add(struct route_certs *rcs, struct api *api, struct tls_server *srv,
		     struct tls_certset *set);
/* Releases the kept certificates (before the TLS server is freed); rcs
 * is empty after. */
void route_certs_free(struct route_certs *rcs);

#endif
