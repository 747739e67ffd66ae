/* front.h - the protocols of a downstream connection (internal).
 *
 * front_head() parses each HTTP/1.1 request head and hands it to the one
 * request pipeline (pipeline.h), which HTTP/2 streams (front_h2.c) go
 * through too; the protocol only frames the decision. Admin requests go
 * to the control thread instead of an upstream. TLS and HTTP/2 hooks
 * live here too so conn.c stays protocol-agnostic. */
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
/* The connection is closing: detach pending admin calls, h2, TLS. */
void front_conn_closing(struct conn *c);

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
 * fallbacks. Returns the server for hub_snap.tls (with *free_fn), or
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
int front_tls_start(struct conn *c);
/* Called first on every event of a TLS connection: drives the handshake
 * and returns false while it runs (or when it closed the connection);
 * once established it may add LOOP_READ to *events. */
bool front_tls_ready(struct conn *c, uint32_t *events);
/* Read interest is on: rerun the read path if OpenSSL holds bytes. */
void front_tls_read_pending(struct conn *c);
long front_tls_recv(struct conn *c, void *p, size_t n);
long front_tls_send(struct conn *c, const void *p, size_t n);
bool front_tls_wants_write(const struct conn *c);
void front_tls_shutdown(struct conn *c);
void front_tls_free(struct conn *c);

/* HTTP/2 (front_h2.c). True when h2 is built in. */
bool front_h2_supported(void);
int front_h2_start(struct conn *c);
void front_h2_pump(struct conn *c);
/* Feeds buffered input to the session (no sending). */
void front_h2_input(struct conn *c);
void front_h2_timeout(struct conn *c);
void front_h2_drain(struct conn *c);
void front_h2_free(struct conn *c);

#endif
