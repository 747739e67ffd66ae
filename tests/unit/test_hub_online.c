/* test_hub_online.c - when the hub counts an agent offline: no handshake
 * within HUB_TUNNEL_ONLINE_SECS (180 s, docs/agent.md). The clock is the
 * recorded handshake time: a test sets it N seconds in the past instead
 * of waiting minutes. tunnel.c is included, as before the table moved
 * into struct hub. */
#include "unit.h"

#include "../../src/hub/tunnel.c"

static struct hub_tunnel_online online;	/* struct hub's, in the daemon */

static void handshake_ago(uint32_t slot, uint64_t secs)
{
	atomic_store(&online.handshake[slot], clock_wall_ns() - secs * NSEC_PER_SEC);
}

TEST(offline_after_180_seconds_without_a_handshake)
{
	uint32_t s = hub_tunnel_slot(&online, 42);

	CHECK(s != 0);
	CHECK_EQ_INT(hub_tunnel_slot(&online, 42), s);	/* the agent keeps its slot */
	CHECK(!hub_tunnel_slot_online(&online, s));	/* never shook hands */
	handshake_ago(s, 0);
	CHECK(hub_tunnel_slot_online(&online, s));
	handshake_ago(s, 175);
	CHECK(hub_tunnel_slot_online(&online, s));
	handshake_ago(s, 185);
	CHECK(!hub_tunnel_slot_online(&online, s));
	handshake_ago(s, 3600);
	CHECK(!hub_tunnel_slot_online(&online, s));
	/* A handshake "in the future" (the wall clock stepped back): online,
	 * not a subtraction that wrapped. */
	atomic_store(&online.handshake[s], clock_wall_ns() + 60 * NSEC_PER_SEC);
	CHECK(hub_tunnel_slot_online(&online, s));
	/* No slot known: assumed online (the connect fails instead). */
	CHECK(hub_tunnel_slot_online(&online, 0));
	CHECK(hub_tunnel_slot_online(&online, HUB_TUNNEL_SLOTS));
	/* No table (a route built without one): nothing known either. */
	CHECK(hub_tunnel_slot_online(NULL, s));
}

TEST(a_new_agent_in_a_slot_starts_offline)
{
	uint32_t a = hub_tunnel_slot(&online, 7), b = hub_tunnel_slot(&online, 8);

	CHECK(a != b && a && b);
	handshake_ago(a, 1);
	CHECK(hub_tunnel_slot_online(&online, a));
	CHECK(!hub_tunnel_slot_online(&online, b));
}

int main(void)
{
	RUN(offline_after_180_seconds_without_a_handshake);
	RUN(a_new_agent_in_a_slot_starts_offline);
	return unit_done();
}
