/* acceptor.h - the agent's stream acceptor.
 *
 * Takes TCP connections from the hub (on AGENT_STREAM_PORT of the tunnel
 * address, through whichever netstack delivers them), reads and checks
 * the stream header, checks the target against the allowlist, resolves
 * and dials it (optionally TLS, optionally passing PROXY v2 on), answers
 * the one status byte of agent_proto.h, and relays. All on one loop. */
#ifndef POSTERN_AGENT_ACCEPTOR_H
#define POSTERN_AGENT_ACCEPTOR_H

#include <openssl/ssl.h>
#include <stdint.h>

#include "agent/agent_proto.h"
#include "agent/allow.h"
#include "agent/resolve.h"
#include "core/loop.h"

#define ACCEPTOR_LISTEN_MAX 4
#define ACCEPTOR_STREAMS_MAX 4096

struct stream;

struct acceptor_stats {
	unsigned long long accepted, active, relayed, probes;
	unsigned long long by_status[AGENT_STATUS_MAX];	/* answers sent */
	unsigned long long bytes_up, bytes_down;	/* finished streams */
};

struct acceptor {
	struct loop *loop;
	const struct allow *allow;	/* borrowed; outlives the acceptor */
	struct resolve resolve;
	SSL_CTX *tls;
	struct loop_io lis[ACCEPTOR_LISTEN_MAX];
	unsigned nlis;
	struct stream *streams;		/* every live stream */
	uint64_t header_timeout_ns;	/* whole header within this */
	uint64_t connect_timeout_ns;	/* per target address */
	uint64_t tls_timeout_ns;
	unsigned max_streams;
	struct acceptor_stats stats;
};

/* Sets up the resolver and the TLS client context. Returns 0 or -errno. */
int acceptor_init(struct acceptor *a, struct loop *loop,
		  const struct allow *allow);
/* Closes listeners and every stream, stops the resolver. */
void acceptor_fini(struct acceptor *a);

/* Watches a listening socket (owned by the acceptor from now on, also on
 * failure). Returns 0 or -errno. */
int acceptor_listen_fd(struct acceptor *a, int fd);
/* Takes one connected stream socket (owned from now on). 0 or -errno. */
int acceptor_take(struct acceptor *a, int fd);

#endif
