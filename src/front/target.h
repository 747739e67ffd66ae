/* target.h - a compiled route as the front forwards to it: the upstream
 * target (address, TLS, agent stream header, pool id) and the route's
 * per-request settings. hub/route.c builds them into the route table and
 * looks them up; the front only reads them, for as long as the request
 * holds the snapshot that owns the table. */
#ifndef POSTERN_FRONT_TARGET_H
#define POSTERN_FRONT_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/policy.h"
#include "core/addr.h"
#include "core/buf.h"
#include "proto/stream_hdr.h"

struct hub_tunnel_online;

struct route_target {
	struct addr addr;
	uint32_t pool_id;	/* stable per address (and stream target) */
	bool https;
	bool tls_verify;
	/* Through an agent: each new connection starts with a stream header
	 * built from `stream` (the client filled in per connection), and
	 * the agent's status byte precedes the response. */
	bool via_agent;		/* an agent or an agentless node */
	bool stream;		/* an agent (header + status byte) */
	uint32_t agent_slot;	/* hub_tunnel_slot_online() */
	/* The hub's online table the slot is in (the hub's, outlives every
	 * route table; read by workers through atomics). NULL: not known. */
	const struct hub_tunnel_online *online;
	char agent[64];		/* the agent's name, for the offline page */
	struct stream_hdr hdr;
	char sni[256];
	char base[256];		/* path prefixed to forwarded paths ("" = none) */
	size_t base_len;
	char label[300];	/* "host:port" for logs */
};

struct route {
	uint64_t id;
	char name[64];
	char host[256];		/* lower-case; wildcard stored as ".example.com" */
	size_t host_len;
	bool wildcard;
	char prefix[512];
	size_t prefix_len;
	bool strip_prefix;
	bool redirect_https;
	uint32_t hsts_max_age;
	struct route_target target;
	struct access_policy access;	/* compiled from the spec's policy */
	uint32_t stats_id;	/* index into the metrics registry */
};


/* Encodes `tmpl` with `client` as the source (IPv4-mapped when the
 * families differ) and appends it to out. Returns 0 or -errno. */
int xchg_agent_stream_hdr(const struct stream_hdr *tmpl, const struct addr *client,
			  struct buf *out);

#endif
