/* xchg_agent.c - the start of an upstream connection through an agent:
 * the stream header the hub sends first, and the status byte the agent
 * answers before the target's bytes (agent_proto.h, part 1). */
#define LOG_SUBSYS "proxy"
#include <netinet/in.h>
#include <string.h>

#include "proto/agent_proto.h"
#include "proto/stream_hdr.h"
#include "core/log.h"
#include "front/target.h"
#include "front/upstream.h"
#include "front/xchg.h"
#include "front/xchg_up.h"

#define XCHG_HDR_MAX 1100	/* the agent bounds a header at 1040 bytes */

/* IPv4 as IPv4-mapped IPv6 (the agent checks such addresses as IPv4). */
static void xchg_agent_map6(union proxy_v2_sa *sa)
{
	struct sockaddr_in in4 = sa->in4;

	memset(sa, 0, sizeof(*sa));
	sa->in6.sin6_family = AF_INET6;
	sa->in6.sin6_port = in4.sin_port;
	sa->in6.sin6_addr.s6_addr[10] = 0xff;
	sa->in6.sin6_addr.s6_addr[11] = 0xff;
	memcpy(&sa->in6.sin6_addr.s6_addr[12], &in4.sin_addr, 4);
}

int xchg_agent_header(const struct xchg *x, struct buf *out)
{
	return xchg_agent_stream_hdr(&x->route->target.hdr, &x->client, out);
}

int xchg_agent_stream_hdr(const struct stream_hdr *tmpl, const struct addr *client,
			  struct buf *out)
{
	struct stream_hdr h = *tmpl;
	uint8_t b[XCHG_HDR_MAX];
	int n;

	memset(&h.client, 0, sizeof(h.client));
	memcpy(&h.client, &client->ss, client->ss.ss_family == AF_INET6 ?
	       sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	if (h.client.sa.sa_family != AF_INET && h.client.sa.sa_family != AF_INET6) {
		memset(&h.client, 0, sizeof(h.client));	/* unknown client */
		h.client.in4.sin_family = AF_INET;
	}
	/* Client and target share a family in a PROXY header. */
	if (!h.host[0] && h.client.sa.sa_family != h.target.sa.sa_family) {
		if (h.client.sa.sa_family == AF_INET)
			xchg_agent_map6(&h.client);
		else
			xchg_agent_map6(&h.target);
	}
	n = stream_hdr_encode(b, sizeof(b), &h);
	if (n < 0)
		return n;
	return buf_append(out, b, (size_t)n);
}

int xchg_agent_status(const struct xchg *x, struct upconn *u)
{
	unsigned st;

	if (!u->await_status)
		return 0;
	if (u->in.len == 0)
		return 1;
	st = *(const uint8_t *)buf_head(&u->in);
	buf_consume(&u->in, 1);
	u->await_status = false;
	if (st == AGENT_STATUS_OK)
		return 0;
	log_info("agent %s: target %s: %s", x->route->target.agent, x->route->target.label,
		 agent_status_name(st));
	return -1;
}
