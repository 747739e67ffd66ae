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

#include "proto/agent_proto.h"
#include "agent/allow.h"
#include "agent/resolve.h"
#include "core/accept.h"
#include "core/loop.h"
#include "netstack/netstack.h"

#define ACCEPTOR_LISTEN_MAX 4
#define ACCEPTOR_STREAMS_MAX 4096
#define ACCEPTOR_TARGETS_MAX 32	/* recent targets kept for heartbeats */
#define ACCEPTOR_ERRORS_MAX 8	/* recent error lines kept for heartbeats */
#define ACCEPTOR_ERROR_LEN 200

struct stream;

struct acceptor_stats {
	unsigned long long accepted, active, relayed, probes;
	unsigned long long by_status[AGENT_STATUS_MAX];	/* answers sent */
	unsigned long long bytes_up, bytes_down;	/* finished streams */
};

/* The last outcome of streams to one target ("host:port"). */
struct acceptor_target {
	char name[272];
	enum agent_status status;
	uint64_t when_ns;	/* loop time of the last stream */
};

struct acceptor {
	struct loop *loop;
	const struct allow *allow;	/* borrowed; outlives the acceptor */
	struct resolve resolve;
	SSL_CTX *tls;
	struct loop_io lis[ACCEPTOR_LISTEN_MAX];
	unsigned nlis;
	struct accept_backoff acc;	/* listeners off while out of fds */
	struct stream *streams;		/* every live stream */
	uint64_t header_timeout_ns;	/* whole header within this */
	uint64_t connect_timeout_ns;	/* per target address */
	uint64_t tls_timeout_ns;
	unsigned max_streams;
	struct acceptor_stats stats;
	struct acceptor_target targets[ACCEPTOR_TARGETS_MAX];
	unsigned ntargets;
	/* Recent errors (oldest first), until a heartbeat delivers them. */
	char errors[ACCEPTOR_ERRORS_MAX][ACCEPTOR_ERROR_LEN];
	unsigned nerrors;
};

/* Sets up the resolver and the TLS client context. Returns 0 or -errno. */
int acceptor_init(struct acceptor *a, struct loop *loop,
		  const struct allow *allow);
/* Closes listeners and every stream, stops the resolver. */
void acceptor_fini(struct acceptor *a);

/* Watches a listening socket (owned by the acceptor from now on, also on
 * failure). Returns 0 or -errno. */
int acceptor_listen_fd(struct acceptor *a, int fd);
/* Records the outcome of a stream to `target` (the least recently seen
 * target is forgotten when the table is full). */
void acceptor_note_target(struct acceptor *a, const char *target,
			  enum agent_status status);

/* Keeps an error line for the next heartbeat (the oldest goes when full). */
void acceptor_note_error(struct acceptor *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Takes one connected stream socket (owned from now on). 0 or -errno. */
int acceptor_take(struct acceptor *a, int fd);
/* The netstack's view of `a` (netstack_open's accept callbacks). */
struct netstack_accept acceptor_netstack(struct acceptor *a);

#endif
