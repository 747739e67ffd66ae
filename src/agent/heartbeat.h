/* heartbeat.h - the agent's in-tunnel heartbeat to the hub.
 *
 * Every AGENT_HEARTBEAT_SECS (or what the hub answers), a POST of the
 * JSON described in agent_proto.h to the hub's tunnel address, through
 * the netstack, so WireGuard authenticates it. A failure is retried with
 * exponential backoff (2 s .. 60 s) and reported to the owner, which
 * re-resolves the hub's name: a hub that moved is found again. */
#ifndef POSTERN_AGENT_HEARTBEAT_H
#define POSTERN_AGENT_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/acceptor.h"
#include "core/buf.h"
#include "core/loop.h"
#include "netstack/netstack.h"
#include "proto/proxy_v2.h"

#define HEARTBEAT_TIMEOUT_NS (10ULL * 1000000000ULL)
#define HEARTBEAT_BACKOFF_MAX_S 60

struct heartbeat;
/* Called after each attempt (ok = the hub answered 200). */
typedef void heartbeat_result_fn(void *ctx, bool ok);

struct heartbeat {
	struct loop *loop;
	struct netstack *ns;
	struct acceptor *acc;
	union proxy_v2_sa hub;		/* hub tunnel address : API port */
	heartbeat_result_fn *result;
	void *ctx;
	struct loop_timer timer;
	struct loop_io io;
	int fd;
	bool sending;
	struct buf out, in;
	unsigned interval_s, fails;
	unsigned errors_sent;		/* acceptor error lines in flight */
	uint64_t started_ns;
	unsigned long long sent, ok;
};

/* Starts the first heartbeat `first_ns` from now. */
void heartbeat_start(struct heartbeat *h, struct loop *loop,
		     struct netstack *ns, struct acceptor *acc,
		     const union proxy_v2_sa *hub, uint64_t first_ns,
		     heartbeat_result_fn *result, void *ctx);
void heartbeat_stop(struct heartbeat *h);

/* Checks the hub's answer p[0, n) (status line, optional JSON body with
 * "interval" in 5..3600 s, which then goes to *interval). Returns NULL
 * when it is a 200, else why not. */
const char *heartbeat_parse_answer(const char *p, size_t n, unsigned *interval);

/* The request body (JSON) for the current counters; the caller frees it.
 * NULL on allocation failure. */
char *heartbeat_body(const struct heartbeat *h);

#endif
