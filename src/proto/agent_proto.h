/* agent_proto.h - everything the hub and the agent say to each other.
 *
 * One header for every wire format between the two programs (tmux's
 * tmux-protocol.h habit): bump AGENT_PROTO_VERSION when any of it changes
 * incompatibly, and say what changed in docs/agent.md.
 *
 * 1. Streams (hub -> agent, inside WireGuard)
 *    The hub opens TCP to AGENT_STREAM_PORT on the agent's tunnel address
 *    and sends a PROXY protocol v2 header (src/proto/proxy_v2.h), command
 *    PROXY, transport STREAM:
 *      - source      = the real client (address and port);
 *      - destination = the target's address and port; when the target is a
 *        host name, the destination address is the unspecified address of
 *        the family (0.0.0.0 / ::), the port is the target port, and the
 *        name travels in AGENT_TLV_TARGET_HOST;
 *      - AGENT_TLV_PARAMS (required): protocol version and stream flags;
 *      - AGENT_TLV_TLS_NAME (optional): the name to send as SNI and to
 *        verify the target's certificate against (default: the target
 *        host name, or the address when the target is an address).
 *    The hub may send the first request bytes right after the header; the
 *    agent buffers them (bounded) until the target is connected.
 *    The agent answers with exactly one status byte (enum agent_status)
 *    before anything else. AGENT_STATUS_OK is followed by the target's
 *    bytes, relayed in both directions until both sides close; any other
 *    status is followed by the agent closing the stream. A PROXY header
 *    with command LOCAL is a liveness probe: the agent answers OK and
 *    closes.
 *
 * 2. Enrollment (agent -> hub, HTTPS, once; see `postern agent join`)
 *    POST AGENT_JOIN_PATH on the hub's public URL, JSON:
 *      {"version": 1, "token": "<join token>",
 *       "public_key": "<base64 X25519>", "agent_version": "0.1.0"}
 *    200 answer:
 *      {"version": 1, "agent": "<name>",
 *       "tunnel_addresses": ["100.96.0.2/32", "fd7a:...::2/128"],
 *       "hub_public_key": "<base64>", "hub_endpoint": "host:51820",
 *       "hub_tunnel_addresses": ["100.96.0.1", "fd7a:...::1"],
 *       "keepalive": 25}
 *    Errors use the admin API's body {"error":{"code","message","field"}}
 *    (e.g. 403 "token_used", "token_expired", "token_unknown").
 *
 * 3. Heartbeat (agent -> hub, plain HTTP inside WireGuard, which is what
 *    authenticates it: the hub maps the tunnel peer key to the agent)
 *    POST AGENT_HEARTBEAT_PATH to http://<hub tunnel address>:
 *    AGENT_HUB_API_PORT every AGENT_HEARTBEAT_SECS, JSON:
 *      {"version": 1, "agent_version": "0.1.0", "uptime": <s>,
 *       "netstack": "kernel-userns"|"lwip"|"tun",
 *       "streams": {"active": n, "total": n, "refused": n, "failed": n,
 *                   "bytes_up": n, "bytes_down": n},
 *       "status": {"<agent_status name>": count, ...},
 *       "targets": [{"target": "host:port", "ok": true|false,
 *                    "status": "<agent_status name>", "age": <s>}],
 *       "errors": ["<error line>", ...],
 *       "allow": ["<--allow value as given>", ...]}
 *    "targets" holds the last outcome of the 32 most recent targets;
 *    "errors" the target failures (refused, unreachable, timeout, DNS,
 *    TLS with the verification error) since the last delivered heartbeat;
 *    "allow" the agent's allowlist (the first 64 values), so that the hub
 *    can flag a route whose target the agent would refuse.
 *    200 answer: {"version": 1, "interval": <s>} (the hub may slow the
 *    agent down). Unknown fields are ignored on both sides, so either side
 *    may add fields without a version bump. */
#ifndef POSTERN_PROTO_AGENT_PROTO_H
#define POSTERN_PROTO_AGENT_PROTO_H

#include <stdint.h>

#define AGENT_PROTO_VERSION 1

/* The agent's stream acceptor, on its tunnel addresses. */
#define AGENT_STREAM_PORT 4180
/* The hub's agent API (heartbeat), on the hub's tunnel addresses. */
#define AGENT_HUB_API_PORT 4181
#define AGENT_JOIN_PATH "/api/v1/agents/join"
#define AGENT_HEARTBEAT_PATH "/api/v1/agent/heartbeat"
#define AGENT_HEARTBEAT_SECS 30

/* PROXY v2 TLV types in the custom range (PP2_TYPE_MIN_CUSTOM 0xE0 ..
 * PP2_TYPE_MAX_CUSTOM 0xEF). Each may appear at most once. */
enum agent_tlv {
	/* The target's host name: 1..253 bytes, letters, digits, '-', '_'
	 * and '.', lower-cased by the hub, no trailing dot. */
	AGENT_TLV_TARGET_HOST = 0xE0,
	/* 2 bytes: AGENT_PROTO_VERSION, then AGENT_F_* flags. */
	AGENT_TLV_PARAMS = 0xE1,
	/* SNI / verification name for TLS targets (same syntax as above). */
	AGENT_TLV_TLS_NAME = 0xE2,
};

/* Stream flags in AGENT_TLV_PARAMS. Unknown bits are refused
 * (AGENT_STATUS_PROTOCOL), so a newer hub cannot silently ask an older
 * agent for something it would ignore. */
#define AGENT_F_TLS (1u << 0)		/* wrap the target connection in TLS */
#define AGENT_F_TLS_NO_VERIFY (1u << 1)	/* route opted out of verification */
#define AGENT_F_PROXY_V2 (1u << 2)	/* send PROXY v2 (client) to target */
#define AGENT_F_ALL (AGENT_F_TLS | AGENT_F_TLS_NO_VERIFY | AGENT_F_PROXY_V2)

/* The first byte the agent writes on a stream. Values are stable: the hub
 * shows them ("target refused the connection", ...). */
enum agent_status {
	AGENT_STATUS_OK = 0,		/* connected; target bytes follow */
	AGENT_STATUS_PROTOCOL = 1,	/* malformed header / bad version */
	AGENT_STATUS_NOT_ALLOWED = 2,	/* target outside the allowlist */
	AGENT_STATUS_DNS = 3,		/* name did not resolve */
	AGENT_STATUS_REFUSED = 4,	/* target actively refused (RST) */
	AGENT_STATUS_UNREACHABLE = 5,	/* no route / host unreachable */
	AGENT_STATUS_TIMEOUT = 6,	/* connect timed out */
	AGENT_STATUS_TLS = 7,		/* TLS handshake or verification failed */
	AGENT_STATUS_BUSY = 8,		/* agent at its stream limit / no memory */
	AGENT_STATUS_MAX
};

/* Short stable names ("ok", "not_allowed", ...) for logs and heartbeats;
 * "unknown" for values outside the enum. */
const char *agent_status_name(unsigned status);

#endif
