/* agent_watch.c - agent presence rules and per-agent metrics (see
 * agent_watch.h). */
#include "hub/agent_watch.h"

#include <errno.h>
#include <stdio.h>

enum agent_presence agent_watch_step(struct agent_watch *w, uint64_t hs_ns, uint64_t rx,
				     uint64_t now_ns, uint64_t start_ns, uint64_t grace_ns)
{
	uint64_t since;

	if (hs_ns > w->alive_ns)
		w->alive_ns = hs_ns;
	if (rx != w->rx_seen) {
		/* Any packet counts: keepalives arrive far more often than
		 * handshakes (one per two minutes). */
		if (rx > w->rx_seen && w->alive_ns)
			w->alive_ns = now_ns;
		w->rx_seen = rx;
	}
	if (w->alive_ns && now_ns < w->alive_ns + grace_ns) {
		if (w->presence == AGENT_PRESENCE_ONLINE)
			return AGENT_PRESENCE_UNKNOWN;
		w->presence = AGENT_PRESENCE_ONLINE;
		return AGENT_PRESENCE_ONLINE;
	}
	/* Not alive: counted from the last sign of life, or from the hub's
	 * start when there was none since (a restart forgets handshakes). */
	since = w->alive_ns > start_ns ? w->alive_ns : start_ns;
	if (w->presence != AGENT_PRESENCE_ONLINE || now_ns < since + grace_ns)
		return AGENT_PRESENCE_UNKNOWN;
	w->presence = AGENT_PRESENCE_OFFLINE;
	return AGENT_PRESENCE_OFFLINE;
}

const char *agent_watch_action(enum agent_presence p)
{
	return p == AGENT_PRESENCE_ONLINE ? "agent.online" :
	       p == AGENT_PRESENCE_OFFLINE ? "agent.offline" : "";
}

enum agent_fam { FAM_ONLINE, FAM_AGE, FAM_RX, FAM_TX, FAM_EP, FAM_MAX };

static int agent_watch_sample(struct buf *b, enum agent_fam f, const struct agent_watch_sample *s)
{
	switch (f) {
	case FAM_ONLINE:
		return buf_printf(b, "postern_agent_online{agent=\"%s\"} %d\n", s->name, s->online);
	case FAM_AGE:
		if (!s->hs_ns)
			return 0;	/* no handshake since the start: no sample */
		return buf_printf(b, "postern_agent_last_handshake_age_seconds{agent=\"%s\"} %.3f\n",
				  s->name, s->now_ns > s->hs_ns ?
				  (double)(s->now_ns - s->hs_ns) / 1e9 : 0.0);
	case FAM_RX:
		return buf_printf(b, "postern_agent_rx_bytes_total{agent=\"%s\"} %llu\n", s->name,
				  (unsigned long long)s->rx);
	case FAM_TX:
		return buf_printf(b, "postern_agent_tx_bytes_total{agent=\"%s\"} %llu\n", s->name,
				  (unsigned long long)s->tx);
	case FAM_EP:
	case FAM_MAX:
		break;
	}
	return buf_printf(b, "postern_agent_endpoint_changes_total{agent=\"%s\"} %llu\n", s->name,
			  (unsigned long long)s->endpoint_changes);
}

int agent_watch_render(struct buf *b, const struct agent_watch_sample *s, size_t n)
{
	static const char *const head[FAM_MAX] = {
		"# TYPE postern_agent_online gauge\n",
		"# TYPE postern_agent_last_handshake_age_seconds gauge\n",
		"# TYPE postern_agent_rx_bytes_total counter\n",
		"# TYPE postern_agent_tx_bytes_total counter\n",
		"# TYPE postern_agent_endpoint_changes_total counter\n",
	};
	int r = 0;

	for (int f = 0; f < FAM_MAX && r == 0; f++) {
		r = buf_printf(b, "%s", head[f]);
		for (size_t i = 0; i < n && r == 0; i++)
			r = agent_watch_sample(b, (enum agent_fam)f, &s[i]);
	}
	return r ? -ENOBUFS : 0;
}
