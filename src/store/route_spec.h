/* route_spec.h - a route as the control plane describes it to the front.
 *
 * The store (or, before it exists, a routes file) produces an array of
 * these; the front compiles them into an immutable route table and
 * publishes it. Strings are borrowed for the duration of the build call. */
#ifndef POSTERN_STORE_ROUTE_SPEC_H
#define POSTERN_STORE_ROUTE_SPEC_H

#include <stdbool.h>
#include <stdint.h>

struct route_spec {
	uint64_t id;
	const char *host;	/* "app.example.com" or "*.example.com" */
	const char *path_prefix;	/* "/" when NULL */
	bool strip_prefix;	/* remove path_prefix before forwarding */
	bool redirect_https;	/* plain-HTTP requests get a 308 to https */
	uint32_t hsts_max_age;	/* seconds; 0 = no Strict-Transport-Security */
	/* "http://host:port[/base]", "https://host:port[/base]" or
	 * "tcp://host:port" (raw TCP routes; see tcp_listen_port). */
	const char *target;
	bool tls_verify;	/* https targets: verify the certificate */
	const char *tls_server_name;	/* SNI / name to verify; NULL = target host */
	const char *agent;	/* NULL = the hub dials target itself;
				 * else the agent whose tunnel carries it */
	int64_t agent_id;	/* the agent's id (its online slot) */
	/* The agent's tunnel address (IPv4 preferred; NULL = not enrolled
	 * yet: the route answers "offline"). Through an agent the hub
	 * connects to AGENT_STREAM_PORT there and names the target in a
	 * stream header (agent_proto.h); the target is not resolved here. */
	const char *agent_addr;
	bool agent_node;	/* a standard WireGuard peer (no agent): the
				 * target is dialled directly through the tunnel */
	uint16_t tcp_listen_port;	/* tcp:// routes: public port on the hub */
	const char *policy;	/* JSON, reserved for auth/access; NULL = public */
	const char *name;	/* for logs and metrics; NULL = "route-<id>" */
};

#endif
