/* device.h - a WireGuard device: peers, sessions, timers and the data path,
 * on one event loop.
 *
 * The device sits between an "inside" (where cleartext IP packets come from
 * and go to: a TUN interface, or a userspace TCP/IP stack) and an "outside"
 * (UDP datagrams to and from peers). Both are pluggable:
 *   - inside: the embedder calls wg_device_send() with IP packets and
 *     receives decrypted ones through wg_inside_ops.deliver;
 *   - outside: by default the device opens its own UDP sockets (udp.h) on
 *     the listen port; an embedder or a test may instead supply
 *     wg_outside_ops.send and feed datagrams in with wg_device_receive().
 * Everything runs on the loop's thread; nothing here is thread-safe. Time
 * comes from the loop (loop_set_clock makes it a test's fake clock). With
 * crypto_threads, a worker thread seals and opens transport data beside
 * the loop thread, inside the device's own calls (which still return only
 * when their batch is done); every callback still runs on the loop
 * thread.
 *
 * Configuration is programmatic (this header) or through the `wg` tool's
 * UAPI (wg_device_uapi_ops, served by uapi_server_start). */
#ifndef POSTERN_WG_DEVICE_H
#define POSTERN_WG_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/pool.h"
#include "wg/pkt.h"
#include "wg/uapi.h"

#define WG_DEVICE_KEY_LEN 32

struct wg_device;
struct wg_peer;

/* Where decrypted packets go. The batch stays the device's: copy or finish
 * with the packets before returning. */
struct wg_inside_ops {
	void (*deliver)(void *ctx, struct pkt_batch *b);
};

/* Where encrypted datagrams go (each packet's ep says to whom). The batch
 * stays the device's. */
struct wg_outside_ops {
	void (*send)(void *ctx, struct pkt_batch *b);
};

enum wg_event_type {
	WG_EVENT_HANDSHAKE = 1,		/* a new session is in use */
	WG_EVENT_ENDPOINT,		/* the peer's address changed */
	WG_EVENT_EXPIRED,		/* session keys dropped (no traffic) */
	WG_EVENT_GAVE_UP,		/* handshake retries exhausted */
	WG_EVENT_TYPE_MAX
};

struct wg_event {
	enum wg_event_type type;
	struct wg_peer *peer;
	const uint8_t *public_key;	/* WG_DEVICE_KEY_LEN bytes */
	const struct wg_endpoint *endpoint;
};

struct wg_device_config {
	const struct wg_inside_ops *inside;	/* NULL: packets dropped */
	void *inside_ctx;
	const struct wg_outside_ops *outside;	/* NULL: own UDP sockets */
	void *outside_ctx;
	void (*event)(void *ctx, const struct wg_event *ev);
	void *event_ctx;
	/* Treat every handshake as arriving under load (cookie round trip
	 * always), for tests and for hosts that want it. */
	bool force_cookie;
	/* Wall clock in ns for TAI64N timestamps and "last handshake" (NULL =
	 * CLOCK_REALTIME); tests pair it with their fake loop clock. */
	uint64_t (*wall_clock)(void *ctx);
	void *wall_ctx;
	size_t max_packets;			/* pool bound; 0 = default */
	/* Worker threads sealing and opening transport data next to the
	 * loop thread (0 = none; at most WG_LANES_MAX - 1 = 1 is used). */
	unsigned crypto_threads;
};

/* Creates a device on `loop`. No key, no peers, no socket yet (UDP opens
 * when a listen port is set or a private key makes it useful).
 * Returns 0 with *out set, or -errno. */
int wg_device_new(struct loop *loop, const struct wg_device_config *cfg,
		  struct wg_device **out);
/* Removes every peer (wiping keys), closes sockets, frees the device. */
void wg_device_free(struct wg_device *dev);

/* The packet pool inside implementations take packets from. */
struct pool *wg_device_pool(struct wg_device *dev);
/* Tunnel MTU used for padding (0 = unknown: pad to 16 bytes). */
void wg_device_set_mtu(struct wg_device *dev, unsigned mtu);

/* IP packets from the inside, to be routed to peers by destination. The
 * device takes the packets (they return to the pool); `b` is left empty. */
void wg_device_send(struct wg_device *dev, struct pkt_batch *b);
/* Datagrams from the outside (ep = source). Same ownership as above. */
void wg_device_receive(struct wg_device *dev, struct pkt_batch *b);

/* Sets or (NULL) removes the private key. A peer whose public key equals
 * the new public key is removed, as wg does. Returns 0 or -errno. */
int wg_device_set_private_key(struct wg_device *dev,
			      const uint8_t key[WG_DEVICE_KEY_LEN]);
/* Our public key; false when there is no private key. */
bool wg_device_public_key(const struct wg_device *dev,
			  uint8_t out[WG_DEVICE_KEY_LEN]);
/* Binds the UDP sockets to `port` (0 = any). Returns 0 or -errno (e.g.
 * -EADDRINUSE; the old sockets are kept then). */
int wg_device_set_listen_port(struct wg_device *dev, uint16_t port);
uint16_t wg_device_listen_port(const struct wg_device *dev);
int wg_device_set_fwmark(struct wg_device *dev, uint32_t fwmark);

/* ---- peers ---- */

/* Adds a peer (or returns the existing one with that key).
 * Returns 0 with *out set, -EINVAL for our own key, or -ENOMEM. */
int wg_device_peer_add(struct wg_device *dev,
		       const uint8_t pub[WG_DEVICE_KEY_LEN],
		       struct wg_peer **out);
struct wg_peer *wg_device_peer_lookup(const struct wg_device *dev,
				      const uint8_t pub[WG_DEVICE_KEY_LEN]);
/* Removes the peer: sessions wiped, queued packets dropped, routes gone. */
void wg_device_peer_remove(struct wg_device *dev, struct wg_peer *peer);
/* Iteration: first peer, then next (NULL at the end). */
struct wg_peer *wg_device_peer_first(const struct wg_device *dev);
struct wg_peer *wg_device_peer_next(const struct wg_peer *peer);

/* NULL or all-zero removes the preshared key. */
void wg_peer_set_psk(struct wg_peer *peer, const uint8_t *psk);
void wg_peer_set_endpoint(struct wg_peer *peer, const struct wg_endpoint *ep);
/* Seconds; 0 = off. Turning it on sends a keepalive at once. */
void wg_peer_set_keepalive(struct wg_peer *peer, uint16_t seconds);
/* addr: 4 or 16 bytes in network order. Returns 0 or -errno. */
int wg_peer_allowedip_add(struct wg_peer *peer, int family, const void *addr,
			  unsigned cidr);
int wg_peer_allowedip_remove(struct wg_peer *peer, int family,
			     const void *addr, unsigned cidr);
void wg_peer_allowedips_clear(struct wg_peer *peer);

struct wg_peer_status {
	uint8_t public_key[WG_DEVICE_KEY_LEN];
	struct wg_endpoint endpoint;		/* family 0 = none */
	uint64_t last_handshake_ns;		/* wall clock; 0 = never */
	uint64_t rx_bytes, tx_bytes;
	uint16_t keepalive;
	bool has_session;			/* a usable current keypair */
};
void wg_peer_get_status(const struct wg_peer *peer, struct wg_peer_status *st);

struct wg_device_stats {
	unsigned long long rx_invalid;		/* garbage, bad MAC, bad tag */
	unsigned long long rx_replayed;
	unsigned long long rx_no_route;		/* source not allowed */
	unsigned long long tx_no_route;		/* no peer for destination */
	unsigned long long handshakes_rx;	/* initiations + responses ok */
	unsigned long long cookies_sent;
	unsigned long long cookies_received;
	unsigned long long ratelimited;
};
void wg_device_get_stats(const struct wg_device *dev,
			 struct wg_device_stats *st);

/* The `wg` tool's view of the device (for uapi_server_start). */
extern const struct uapi_device_ops wg_device_uapi_ops;

#endif
