/* stream.h - one hub -> target stream (internal to the acceptor).
 *
 * States: HEADER (reading the stream header) -> RESOLVE (name targets)
 * -> CONNECT (one address after the other) -> TLS (https targets) ->
 * RELAY; any refusal goes to LINGER: the status byte is written, our
 * side shut, and the hub's pipelined bytes drained until it closes (so
 * the kernel does not turn the close into a reset that could destroy the
 * status byte in flight). */
#ifndef POSTERN_AGENT_STREAM_H
#define POSTERN_AGENT_STREAM_H

#include <netdb.h>
#include <openssl/ssl.h>

#include "agent/acceptor.h"
#include "agent/relay.h"
#include "proto/stream_hdr.h"

#define STREAM_LINGER_NS (2ULL * 1000000000ULL)

enum stream_state {
	STREAM_HEADER = 0,
	STREAM_RESOLVE,
	STREAM_CONNECT,
	STREAM_TLS,
	STREAM_RELAY,
	STREAM_LINGER,
	STREAM_STATE_MAX
};

struct stream {
	struct acceptor *acc;
	struct stream *prev, *next;	/* acc->streams */
	enum stream_state state;
	int fd;				/* hub side */
	int tfd;			/* target side, -1 until dialled */
	struct loop_io io, tio;
	struct loop_timer timer;
	struct stream_hdr hdr;
	uint8_t head[PROXY_V2_MAX];	/* header bytes, then early payload */
	size_t head_len, hdr_len;
	struct resolve_req *rq;
	struct addrinfo *ai, *ai_cur;	/* resolved addresses */
	union proxy_v2_sa addr;		/* the address being dialled */
	int last_errno;
	SSL *ssl;
	struct relay relay;
};

/* Starts a stream on an accepted socket (owned by the stream, also on
 * failure). Returns 0 or -errno. */
int stream_new(struct acceptor *acc, int fd);
/* Closes everything the stream holds and frees it. */
void stream_free(struct stream *s);

#endif
