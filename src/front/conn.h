/* conn.h - a downstream connection: HTTP/1.1 or HTTP/2 framing over TCP
 * or TLS, each behind a small ops table (internal to src/front).
 *
 * One request at a time: a pipelined request is parsed only after the
 * previous response has been written, so an upstream never sees two
 * requests of one client interleaved. Every entry point (socket event,
 * timer, exchange callback) brackets its work with conn_enter/conn_leave;
 * a connection closed inside is freed when the outermost one returns. */
#ifndef POSTERN_FRONT_CONN_H
#define POSTERN_FRONT_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/loop.h"
#include "http/chunked.h"
#include "http/http.h"
#include "core/addr.h"
#include "front/worker.h"

#define CONN_BUF (128u << 10)

enum conn_state {
	CONN_IDLE = 0,		/* between requests (keep-alive) */
	CONN_HEAD,		/* reading a request head */
	CONN_BODY,		/* reading a request body */
	CONN_RESP,		/* request read, response in progress */
	CONN_TUNNEL,		/* after 101: bytes both ways */
	CONN_ADMIN,		/* waiting for the control thread */
	CONN_CLOSING,		/* output flushed, draining input, then close */
	CONN_STATE_MAX
};

struct xchg;
struct admin_call;
struct conn_tls;
struct conn;

/* A connection's framing, HTTP/1.1 (conn.c, front.c) or HTTP/2
 * (front_h2.c): what conn.c calls at each turn instead of naming either.
 * A connection starts with conn_h1_proto; HTTP/2 takes over after ALPN
 * or the h2c preface (front_h2_start sets c->proto). */
struct conn_proto {
	/* Buffered input is in c->in: parse it and act on it. */
	void (*input)(struct conn *c);
	/* After every I/O event: send what the framing has pending. NULL:
	 * nothing (HTTP/1.1 writes as it goes). */
	void (*pump)(struct conn *c);
	/* The worker drains (shutdown): finish what is in flight, accept
	 * nothing new, close when done. */
	void (*drain)(struct conn *c);
	/* The connection's timer fired while a request was active (idle and
	 * closing connections are closed by conn.c itself). */
	void (*timeout)(struct conn *c);
	/* The connection closes: release the framing's state. NULL: none
	 * (HTTP/1.1 keeps its state in the connection). */
	void (*closing)(struct conn *c);
	/* The client's FIN ends the connection at once, whatever the state
	 * (an HTTP/2 client that closed can no longer open windows). */
	bool eof_closes;
};

/* The transport under the framing: plain TCP (conn.c) or TLS
 * (front_tls.c). Chosen by the listener at accept. */
struct conn_xport {
	/* Sets the transport up on an accepted connection. NULL: nothing to
	 * do. Returns 0 or -errno. */
	int (*start)(struct conn *c);
	/* Called first on every I/O event: false while a handshake runs (or
	 * when it closed the connection); may add LOOP_READ to *events. NULL:
	 * always ready. */
	bool (*ready)(struct conn *c, uint32_t *events);
	/* Return >0, 0 (EOF for recv), -EAGAIN, or -errno. */
	long (*recv)(struct conn *c, void *p, size_t n);
	long (*send)(struct conn *c, const void *p, size_t n);
	/* Read interest is on: rerun the read path if the transport holds
	 * bytes the socket's readiness cannot show. NULL: none. */
	void (*read_pending)(struct conn *c);
	/* The transport needs the socket writable (a handshake or a read).
	 * NULL: never. */
	bool (*wants_write)(const struct conn *c);
	/* Orderly close of the transport before the TCP half-close. NULL:
	 * nothing to close. */
	void (*shutdown)(struct conn *c);
	/* The connection closes: release the transport's state. NULL: none. */
	void (*closing)(struct conn *c);
	/* The client speaks at once (a handshake): header_timeout from the
	 * accept instead of keepalive_timeout. */
	bool hello_first;
};

extern const struct conn_proto conn_h1_proto;
extern const struct conn_xport conn_tcp_xport;

struct conn {
	int fd;
	struct loop_io io;
	struct loop_timer timer;
	struct worker *w;
	struct conn *prev, *next;
	enum listener_kind kind;
	struct addr peer;
	char ip[48];
	uint32_t ip_hash;
	struct buf in, out;
	enum conn_state st;
	size_t scan;
	struct xchg *x;
	struct admin_call *admin;
	struct http_chunked dech;
	enum http_body body;
	uint64_t left;		/* CL bytes still to read */
	uint64_t body_total;	/* chunked bytes read (max_body) */
	uint64_t progress_at;	/* last time output moved (send_timeout) */
	int minor;
	unsigned busy;
	bool dead;
	bool keepalive;		/* the current exchange allows reuse */
	bool resp_chunked;
	bool rd_eof;
	bool body_blocked;	/* xchg took less: wait for req_resume */
	bool resp_blocked;	/* out full: xchg paused */
	bool broken;		/* a write failed: close at the next turn */
	bool close_after;	/* close once the output is flushed */
	bool admin_body;	/* the body goes to the admin call */
	const struct conn_proto *proto;	/* the framing */
	const struct conn_xport *xport;	/* the transport */
	void *tls;		/* struct conn_tls * (front_tls.c), on https */
	bool tls_done;		/* handshake finished */
	void *h2s;		/* struct h2_session * (front_h2.c) */
};

/* Takes an accepted socket, to speak HTTP over transport `xp`. Returns
 * 0, or -errno (fd closed). */
int conn_accept(struct worker *w, int fd, const struct addr *peer,
		enum listener_kind kind, const struct conn_xport *xp);
/* Closes every idle connection and marks the rest to close after their
 * current exchange (graceful shutdown). */
void conn_drain_all(struct worker *w);
/* Force-closes every connection (end of the shutdown grace period). */
void conn_close_all(struct worker *w);

/* internal, shared by conn*.c */
void conn_enter(struct conn *c);
void conn_leave(struct conn *c);
void conn_close(struct conn *c);
/* Writes out as much of c->out as the socket takes; on error marks the
 * connection broken. Updates write interest. */
void conn_flush(struct conn *c);
/* Only writes (no state changes, no callbacks). True when bytes left. */
bool conn_write_out(struct conn *c);
/* Runs the state machine over buffered input. */
void conn_process(struct conn *c);
/* Queues a complete error response and closes after it. */
void conn_error(struct conn *c, int status);
/* The same, with the page naming `agent` as offline (NULL = plain). */
void conn_error_agent(struct conn *c, int status, const char *agent);
/* Finishes the current exchange and goes idle or closes. */
void conn_request_done(struct conn *c);
/* Reads/writes through the connection's transport. Return >0, 0 (EOF
 * for recv), -EAGAIN, or -errno. */
long conn_recv(struct conn *c, void *p, size_t n);
long conn_send(struct conn *c, const void *p, size_t n);
void conn_update_io(struct conn *c);
/* Arms the idle (keep-alive) timer for a connection between requests. */
void conn_arm_idle(struct conn *c);

extern const struct xchg_ops conn_xchg_ops;

#endif
