/* front.h - the protocols of a downstream connection (internal).
 *
 * front_head() parses each HTTP/1.1 request head and hands it to the one
 * request pipeline (pipeline.h), which HTTP/2 streams (front_h2.c) go
 * through too; the protocol only frames the decision. Admin requests go
 * to the control thread instead of an upstream. The TLS transport and
 * the HTTP/2 framing are declared here as the ops tables conn.c drives
 * (conn.h), so conn.c names neither. */
#ifndef POSTERN_FRONT_FRONT_H
#define POSTERN_FRONT_FRONT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/str.h"
#include <stdint.h>

struct conn;
struct buf;
struct worker;
struct admin_call;

/* Parses and dispatches the request head buffered in c->in. */
void front_head(struct conn *c);
/* Request body bytes for the current request; returns how many were
 * taken. */
size_t front_body(struct conn *c, const char *p, size_t n);
/* The request body is complete. */
void front_body_end(struct conn *c, const struct buf *trailers);

/* Admin calls (admin.c). */
void admin_call_detach(struct admin_call *a);
/* Worker async: write back the finished admin calls. */
void admin_worker_replies(struct worker *w);

/* TLS (front_tls.c). */
struct front_ctx;
struct loop;
struct tls_conf;
/* ALPN offered when [tls] alpn is unset. */
#define FRONT_ALPN_DEFAULT "h2,http/1.1"
/* A certificate and key file pair from the config. */
struct front_cert {
	char cert[512];
	char key[512];
};
/* Snapshot builder (control thread): the TLS server of fc (created on
 * the first call with tc's policy) with a new certificate set: `certs`,
 * then the owner's (fc->ops->tls_certs), then tc's cert_dir and
 * fallbacks. Returns the server for front_snap.tls (with *free_fn), or
 * NULL with a message in err. */
void *front_tls_build(struct front_ctx *fc, const struct tls_conf *tc,
		      const struct front_cert *certs, unsigned ncerts,
		      void (**free_fn)(void *), char *err, size_t errlen);
/* Control loop: ticket rotation and OCSP timers; process teardown. */
int front_tls_control_start(struct front_ctx *fc, struct loop *loop);
/* Control thread: when the certificate served for `hostname` is
 * self-signed (agents cannot verify it), its SPKI SHA-256 as 64 hex
 * digits into out, and true. */
bool front_tls_join_pin(const struct front_ctx *fc, const char *hostname, char out[65]);
void front_tls_cleanup(struct front_ctx *fc);
/* The TLS transport of the HTTPS listeners' connections (conn.h): the
 * handshake, then ALPN picks HTTP/2 or HTTP/1.1. */
extern const struct conn_xport front_tls_xport;

/* HTTP/2 (front_h2.c): takes the connection over (after ALPN h2 or the
 * h2c preface) with the framing front_h2_proto. Returns 0 or -errno. */
int front_h2_start(struct conn *c);
extern const struct conn_proto front_h2_proto;

#endif
