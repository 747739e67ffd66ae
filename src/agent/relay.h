/* relay.h - splice bytes between two connected sockets, both directions.
 *
 * Each direction has one bounded buffer (RELAY_BUF bytes): when it is
 * full the relay stops reading from that direction's source, so the
 * kernel's (or the tunnel's) TCP window closes and the sender slows down;
 * memory per stream is fixed however long it runs. End-of-stream is
 * propagated as a half-close (shutdown(SHUT_WR), or close_notify for a
 * TLS end) once the buffer toward that end is drained; the relay is done
 * when both directions are, or at the first hard error.
 *
 * Either end may be a TLS connection (an SSL* already handshaken on the
 * end's fd); the relay then reads and writes through OpenSSL. */
#ifndef POSTERN_AGENT_RELAY_H
#define POSTERN_AGENT_RELAY_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/loop.h"

#define RELAY_BUF (64u * 1024)

struct relay;
/* Called once, on the loop thread, when the relay is finished (err = 0
 * after a clean close in both directions, else -errno). The relay's fds
 * and SSLs are closed already; the callee may free the relay. */
typedef void relay_done_cb(struct relay *r, int err);

struct relay_end {
	int fd;
	SSL *ssl;		/* NULL = plain */
	struct loop_io io;
	bool rd_eof;		/* read side finished */
	bool wr_shut;		/* we shut its write side */
	bool ssl_want_write;	/* last SSL op needs POLLOUT to progress */
	uint64_t bytes_in;	/* read from this end */
};

struct relay {
	struct loop *loop;
	struct relay_end end[2];	/* 0 = hub side, 1 = target side */
	struct buf to[2];		/* to[i]: bytes waiting to go to end[i] */
	relay_done_cb *done;
	void *data;
	bool finished;
};

/* Prepares the buffers; the caller may then append bytes that must go
 * out first (to[1]: early client bytes; to[0]: the status byte). */
void relay_init(struct relay *r, struct loop *loop, relay_done_cb *done,
		void *data);
/* Starts relaying between fd0 (+ssl0) and fd1 (+ssl1), non-blocking.
 * The relay owns the fds and SSLs from now on. Returns 0 or -errno (then
 * nothing is owned and nothing runs). */
int relay_start(struct relay *r, int fd0, SSL *ssl0, int fd1, SSL *ssl1);
/* Stops at once, closing both ends (the done callback is not called). */
void relay_abort(struct relay *r);

#endif
