/* test_agent_watch.c - agent.online / agent.offline rules (hub/agent_watch)
 * on a fake clock: once per transition, a grace period, keepalives count
 * as signs of life, and a restarted hub neither invents nor loses a
 * transition. */
#include "hub/agent_watch.h"

#include <stdlib.h>

#include "unit.h"

#define S 1000000000ULL
#define GRACE (10 * S)
#define T0 (1800000000ULL * S)	/* a wall clock */

/* Steps once a second from `from` to `to` (exclusive) with a fixed
 * handshake and rx; returns how many transitions of kind `p` came. */
static int run(struct agent_watch *w, uint64_t from, uint64_t to, uint64_t hs,
	       uint64_t rx, uint64_t start, enum agent_presence p)
{
	int n = 0;

	for (uint64_t t = from; t < to; t += S)
		n += agent_watch_step(w, hs, rx, t, start, GRACE) == p;
	return n;
}

TEST(online_once_offline_once_after_grace)
{
	struct agent_watch w = { 0 };

	/* Never seen: nothing, however long. */
	CHECK_EQ_INT(run(&w, T0, T0 + 60 * S, 0, 0, T0, AGENT_PRESENCE_OFFLINE), 0);
	CHECK_EQ_INT(w.presence, AGENT_PRESENCE_UNKNOWN);
	/* A handshake: online, once. */
	CHECK_EQ_INT(agent_watch_step(&w, T0 + 60 * S, 100, T0 + 60 * S, T0, GRACE),
		     AGENT_PRESENCE_ONLINE);
	CHECK_EQ_INT(run(&w, T0 + 61 * S, T0 + 70 * S, T0 + 60 * S, 100, T0,
			 AGENT_PRESENCE_ONLINE), 0);
	/* Silence: offline once the grace period has passed, exactly once. */
	CHECK_EQ_INT(agent_watch_step(&w, T0 + 60 * S, 100, T0 + 69 * S, T0, GRACE),
		     AGENT_PRESENCE_UNKNOWN);
	CHECK_EQ_INT(agent_watch_step(&w, T0 + 60 * S, 100, T0 + 70 * S, T0, GRACE),
		     AGENT_PRESENCE_OFFLINE);
	CHECK_EQ_INT(run(&w, T0 + 71 * S, T0 + 200 * S, T0 + 60 * S, 100, T0,
			 AGENT_PRESENCE_OFFLINE), 0);
	/* Back: online once more. */
	CHECK_EQ_INT(run(&w, T0 + 200 * S, T0 + 210 * S, T0 + 200 * S, 200, T0,
			 AGENT_PRESENCE_ONLINE), 1);
}

TEST(keepalives_keep_an_agent_online_between_handshakes)
{
	struct agent_watch w = { 0 };
	uint64_t rx = 100;

	CHECK_EQ_INT(agent_watch_step(&w, T0, rx, T0, T0, GRACE), AGENT_PRESENCE_ONLINE);
	/* No new handshake for 5 minutes, but a keepalive every 5 s. */
	for (uint64_t t = T0 + S; t < T0 + 300 * S; t += S) {
		if ((t - T0) % (5 * S) == 0)
			rx += 32;
		CHECK_EQ_INT(agent_watch_step(&w, T0, rx, t, T0, GRACE), AGENT_PRESENCE_UNKNOWN);
	}
	CHECK_EQ_INT(w.presence, AGENT_PRESENCE_ONLINE);
	/* A device that lost the peer (rx counter back to 0) is no sign of life. */
	CHECK_EQ_INT(run(&w, T0 + 300 * S, T0 + 320 * S, T0, 0, T0, AGENT_PRESENCE_OFFLINE), 1);
}

TEST(restart_invents_nothing_and_loses_nothing)
{
	uint64_t start = T0 + 1000 * S;
	struct agent_watch a = { .presence = AGENT_PRESENCE_ONLINE };
	struct agent_watch b = { .presence = AGENT_PRESENCE_ONLINE };
	struct agent_watch c = { .presence = AGENT_PRESENCE_OFFLINE };

	/* Online before the restart, reconnects within the grace period:
	 * no event at all. */
	CHECK_EQ_INT(run(&a, start, start + 5 * S, 0, 0, start, AGENT_PRESENCE_OFFLINE), 0);
	CHECK_EQ_INT(run(&a, start + 5 * S, start + 14 * S, start + 5 * S, 50, start,
			 AGENT_PRESENCE_ONLINE), 0);
	CHECK_EQ_INT(a.presence, AGENT_PRESENCE_ONLINE);
	/* Online before, gone during the restart: offline once, a grace
	 * period after the start. */
	CHECK_EQ_INT(agent_watch_step(&b, 0, 0, start + GRACE - S, start, GRACE),
		     AGENT_PRESENCE_UNKNOWN);
	CHECK_EQ_INT(run(&b, start + GRACE, start + 100 * S, 0, 0, start,
			 AGENT_PRESENCE_OFFLINE), 1);
	/* Offline before, back after: online once; never offline again
	 * while nothing is heard. */
	CHECK_EQ_INT(run(&c, start, start + 100 * S, 0, 0, start, AGENT_PRESENCE_OFFLINE), 0);
	CHECK_EQ_INT(run(&c, start + 100 * S, start + 105 * S, start + 100 * S, 10, start,
			 AGENT_PRESENCE_ONLINE), 1);
}

TEST(render_has_one_group_per_family)
{
	struct agent_watch_sample s[2] = {
		{ .name = "a", .online = true, .hs_ns = 10 * S, .now_ns = 12 * S, .rx = 5, .tx = 6,
		  .endpoint_changes = 1 },
		{ .name = "b", .online = false },
	};
	struct buf b;
	char *t;

	buf_init(&b, 1u << 16);
	CHECK_EQ_INT(agent_watch_render(&b, s, 2), 0);
	buf_append(&b, "", 1);
	t = (char *)buf_head(&b);
	CHECK(strstr(t, "postern_agent_online{agent=\"a\"} 1\npostern_agent_online{agent=\"b\"} 0\n"));
	CHECK(strstr(t, "postern_agent_last_handshake_age_seconds{agent=\"a\"} 2.000\n"));
	CHECK(!strstr(t, "postern_agent_last_handshake_age_seconds{agent=\"b\"}"));
	CHECK(strstr(t, "postern_agent_rx_bytes_total{agent=\"a\"} 5\n"));
	CHECK(strstr(t, "postern_agent_endpoint_changes_total{agent=\"b\"} 0\n"));
	buf_free(&b);
}

int main(void)
{
	RUN(online_once_offline_once_after_grace);
	RUN(keepalives_keep_an_agent_online_between_handshakes);
	RUN(restart_invents_nothing_and_loses_nothing);
	RUN(render_has_one_group_per_family);
	return unit_done();
}
