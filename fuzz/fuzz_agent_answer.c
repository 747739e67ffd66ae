/* fuzz_agent_answer.c - what the agent reads from the hub besides stream
 * bytes: the join answer (JSON into the state) and the heartbeat answer
 * (status line + JSON), on any bytes. A compromised hub writes these. */
#include <stdint.h>
#include <string.h>

#include "../src/agent/agent_join.c"
#include "agent/heartbeat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_state st;
	struct buf b;
	unsigned interval = 30;

	memset(&st, 0, sizeof(st));
	buf_init(&b, JOIN_RESP_MAX);
	if (buf_append(&b, data, size) == 0 && join_answer(&b, &st) == 0) {
		/* Whatever was accepted fits and is terminated. */
		if (strlen(st.name) >= sizeof(st.name) || !st.hub_endpoint[0] ||
		    (!st.tunnel_ipv4[0] && !st.tunnel_ipv6[0]) ||
		    st.keepalive == 0 || st.keepalive > 3600)
			__builtin_trap();
	}
	buf_free(&b);
	if (size)
		heartbeat_parse_answer((const char *)data, size, &interval);
	if (interval < 5 || interval > 3600)
		__builtin_trap();
	return 0;
}
