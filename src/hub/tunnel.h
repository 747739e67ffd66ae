/* tunnel.h - the hub's WireGuard side: an embedded device on a kernel TUN
 * interface carrying the hub's tunnel addresses, so the front's upstream
 * connect() reaches agents' tunnel addresses through the kernel's TCP.
 *
 * The device runs on the control loop (main thread). Its peers are the
 * store's enrolled agents and nodes, re-read whenever agents change
 * (API_CHANGED_AGENTS), so peers come and go without a restart. Its
 * connection events (handshake, endpoint change, gone quiet) become audit
 * entries and the per-agent "online" state workers consult before
 * dialling an agent (hub_tunnel_slot_online). Keys: `[wireguard]` in the
 * config file (docs/configuration.md); the private key is a sealed secret
 * in the store. */
#ifndef POSTERN_HUB_TUNNEL_H
#define POSTERN_HUB_TUNNEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "wg/tun_iface.h"

struct hub;
struct api;

struct tpeer;

/* The hub's tunnel, a field of struct hub (control thread; zero = off). */
struct hub_tunnel {
	struct hub *hub;		/* set while the tunnel is open */
	struct api *api;
	struct tun_iface wg;		/* TUN, device, UAPI socket */
	struct loop_timer tick;
	struct tpeer *peers;		/* what the hub knows of each peer */
	size_t npeers;
	bool up;
	uint64_t start_ns;		/* wall clock when the tunnel started */
	/* What the audit log last announced per agent, until the first sync
	 * takes it into the peers (agent_watch.h). */
	struct hub_tunnel_known { int64_t id; bool online; } *known;
	size_t nknown, capknown;
};

/* A handshake within this long means the peer is online (WireGuard
 * rekeys every 120 s while traffic or persistent keepalives flow, and
 * rejects sessions older than 180 s). */
#define HUB_TUNNEL_ONLINE_SECS 180

/* Slots in the shared online table (agents beyond it are assumed online
 * and fail on connect instead). */
#define HUB_TUNNEL_SLOTS 4096

/* Starts the tunnel when the config enables it (the default with a
 * data_dir): key, TUN interface with the hub's tunnel addresses, UDP
 * port, peers, the heartbeat listeners, and the join answer's settings.
 * A failure is logged and leaves the hub running without a tunnel
 * (joins then answer 503 hub_not_ready). Control thread, before the
 * workers start (they take the heartbeat listeners). */
void hub_tunnel_open(struct hub *hub, struct api *api);
/* Re-reads the peers from the store (after an agent change). */
void hub_tunnel_sync(struct hub *hub);
void hub_tunnel_close(struct hub *hub);

/* The online table: one slot per agent id, the time of its last
 * handshake. A field of struct hub (hub->online), so it outlives the
 * tunnel's open/close and route tables compiled while the tunnel is off
 * keep their slots. Owner (`owner`): the control thread only (route
 * compilation, peer sync). `handshake`: written by the control thread
 * (tunnel ticks and events), read by every worker thread (atomics). */
struct hub_tunnel_online {
	int64_t owner[HUB_TUNNEL_SLOTS];
	_Atomic uint64_t handshake[HUB_TUNNEL_SLOTS];	/* wall ns, 0 = none */
};

/* The slot of an agent id in `o` (control thread; route compilation).
 * 0 = no slot. */
uint32_t hub_tunnel_slot(struct hub_tunnel_online *o, int64_t agent_id);
/* Any thread: whether the agent in `slot` completed a handshake within
 * HUB_TUNNEL_ONLINE_SECS (slot 0 or no table: true, nothing known). */
bool hub_tunnel_slot_online(const struct hub_tunnel_online *o, uint32_t slot);

/* Appends the per-agent metrics as of the last tick (any thread;
 * agent_watch.h) from hub->tunnel_metrics. Returns 0 or -ENOBUFS. */
struct buf;
int hub_tunnel_metrics_render(struct hub *hub, struct buf *out);

#endif
