/* api_tunnel.h - what the hub's WireGuard side (src/hub/tunnel.c) reads
 * from and records in the control plane. Control thread only. */
#ifndef POSTERN_API_API_TUNNEL_H
#define POSTERN_API_API_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"

/* An enrolled agent or agentless node with a key: one WireGuard peer. */
struct api_peer {
	int64_t id;
	char name[64];
	uint8_t key[32];
	bool node;		/* kind 'wireguard': a standard peer, no agent */
	char ipv4[48], ipv6[48];	/* "" when none */
	char endpoint[64];	/* where it was last seen ("" = never) */
};

/* Every enrolled agent with a public key, by id. Returns 0 with *out
 * (malloc'd, the caller frees it) and *n set, or -1. */
int api_tunnel_peers(struct api *api, struct api_peer **out, size_t *n);

/* Records where agent `id`'s packets come from (runtime state, not
 * audited: the tunnel.* entries are). */
void api_tunnel_endpoint(struct api *api, int64_t id, const char *endpoint);

/* Appends an audit entry by actor "system" (tunnel connect/disconnect,
 * endpoint changes) in its own transaction. */
void api_tunnel_audit(struct api *api, const char *action, const char *object,
		      const char *after);

/* Agent presence (docs/webhooks.md, "agent.online / agent.offline"):
 * what the audit log last announced for each agent, so a restarted hub
 * neither repeats nor loses a transition. Calls fn(ctx, agent id, true
 * for "agent.online") once per agent that has an announcement, in one
 * pass over the log. Returns 0 or -1. */
typedef void api_presence_fn(void *ctx, int64_t agent_id, bool online);
int api_tunnel_presence(struct api *api, api_presence_fn *fn, void *ctx);
/* The `agent.offline_grace` setting in seconds (default 180). */
int64_t api_tunnel_offline_grace(struct api *api);

/* Stores a fact the hub owns in a setting (wireguard.public_key,
 * wireguard.endpoint) when it differs from the stored value; audited as
 * "system". Returns 0 or -1. */
int api_tunnel_record(struct api *api, const char *key, const char *value);

/* The tunnel network settings in effect ("100.96.0.0/16"), defaults
 * applied, into out (64 bytes at least). */
void api_tunnel_prefix(struct api *api, int family, char *out, size_t len);

/* The hub's own address in a tunnel network (host number 1), and the
 * prefix length. Returns 0 or -1 for a malformed network. */
int api_tunnel_hub_addr(const char *net, int family, void *addr, unsigned *prefix);

/* What the data plane knows about a peer, for GET /agents. */
struct api_agent_live {
	bool online;		/* a handshake within HUB_TUNNEL_ONLINE_SECS */
	int64_t last_handshake_ms;	/* 0 = never since the hub started */
	char endpoint[64];		/* "" = none */
	uint64_t rx_bytes, tx_bytes;
};
/* Fills `out` for the peer with `key`; false when the device has no such
 * peer (not enrolled, or no tunnel). */
typedef bool api_agent_live_fn(void *ctx, const uint8_t key[32],
			       struct api_agent_live *out);
void api_set_agent_live(struct api *api, api_agent_live_fn *fn, void *ctx);

/* The enrolled agent whose tunnel address is `ip` (textual): its public
 * key into key. Returns 0 or -1. The address is authentic when the
 * request came in through the WireGuard interface: cryptokey routing
 * drops packets whose source is not the sending peer's. */
int api_tunnel_key_by_addr(struct api *api, const char *ip, uint8_t key[32]);

/* A free address in the tunnel network of `family` (inside the
 * caller's transaction). Returns 0 or -1 (network full). */
int api_tunnel_alloc(struct api *api, int family, char *out, size_t len);
/* Inside the caller's transaction: agent `id` gets the key and addresses
 * and becomes enrolled (rev = seq). Returns 0, -2 when another agent has
 * the key, or -1. */
int api_tunnel_enroll(struct api *api, int64_t id, const char *pub, const char *ipv4,
		      const char *ipv6, const char *version, int64_t seq);
/* "ADDR/LEN" with the tunnel network's prefix length. */
void api_tunnel_cidr(struct api *api, int family, const char *addr, char *out,
		     size_t len);
/* The hub's own tunnel addresses (no prefix). */
void api_tunnel_hub_addrs(struct api *api, char *v4, char *v6, size_t len);

/* The hub's WireGuard private key, sealed in the secrets table; made
 * with `generate` and stored the first time. Returns 0 or -1. */
int api_tunnel_private_key(struct api *api, uint8_t key[32],
			   int (*generate)(uint8_t key[32]));

/* `postern agent create` prints a join command; when the hub serves a
 * certificate agents cannot verify (self-signed), the command pins it:
 * the hook writes the SPKI SHA-256 (64 hex digits) into out and returns
 * true. */
typedef bool api_join_pin_fn(void *ctx, char out[65]);
void api_set_join_pin(struct api *api, api_join_pin_fn *fn, void *ctx);

#endif
