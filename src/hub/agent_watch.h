/* agent_watch.h - agent presence for events and metrics: when an agent
 * counts as online or offline for "agent.online" / "agent.offline", and
 * its per-agent metrics. Pure state driven by the caller's clock (the
 * hub's tunnel tick), so the rules are unit-tested with a fake one.
 *
 * An agent is alive while a handshake or any packet from it (its
 * persistent keepalives, every 25 s by default) arrived within the
 * grace period (`agent.offline_grace`). A transition is announced once:
 * `presence` is what was announced last, read back from the audit log
 * when the hub starts. After a restart the device knows no handshake
 * yet, so "offline" is only concluded a full grace period after the
 * start: an agent that reconnects in time is not reported as gone, and
 * one that died while the hub was down is reported once that period has
 * passed. */
#ifndef POSTERN_HUB_AGENT_WATCH_H
#define POSTERN_HUB_AGENT_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

enum agent_presence {
	AGENT_PRESENCE_UNKNOWN = 0,	/* never announced */
	AGENT_PRESENCE_ONLINE,
	AGENT_PRESENCE_OFFLINE,
	AGENT_PRESENCE_MAX
};

struct agent_watch {
	enum agent_presence presence;	/* as last announced */
	uint64_t alive_ns;		/* last handshake or packet seen (wall) */
	uint64_t rx_seen;		/* rx bytes at the last step */
	uint64_t endpoint_changes;	/* since the hub started */
};

/* One tick for one agent: `hs_ns` its last handshake (0 = none since the
 * start), `rx` its received bytes; `start_ns` when the hub started.
 * Returns the transition to announce (AGENT_PRESENCE_ONLINE / _OFFLINE),
 * already taken into `presence`, or AGENT_PRESENCE_UNKNOWN for none. */
enum agent_presence agent_watch_step(struct agent_watch *w, uint64_t hs_ns, uint64_t rx,
				     uint64_t now_ns, uint64_t start_ns, uint64_t grace_ns);

/* The action name of a transition ("agent.online", "agent.offline"). */
const char *agent_watch_action(enum agent_presence p);

/* What /metrics shows of one agent. */
struct agent_watch_sample {
	const char *name;		/* the agent's name (a label) */
	bool online;			/* presence as announced */
	uint64_t hs_ns, now_ns;	/* last handshake (0 = none), now */
	uint64_t rx, tx, endpoint_changes;
};
/* Renders the per-agent families for `n` agents into b (Prometheus
 * text, one group per family). Returns 0 or -ENOBUFS. */
int agent_watch_render(struct buf *b, const struct agent_watch_sample *s, size_t n);

#endif
