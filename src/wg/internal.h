/* internal.h - the device's own types and the functions its files share
 * (device.c, peer.c, timers.c, tx.c, rx.c, device_uapi.c, device_udp.c).
 * Embedders use device.h only. */
#ifndef POSTERN_WG_INTERNAL_H
#define POSTERN_WG_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/pool.h"
#include "wg/allowedips.h"
#include "wg/cookie.h"
#include "wg/device.h"
#include "wg/index.h"
#include "wg/lanes.h"
#include "wg/noise.h"
#include "wg/ratelimit.h"
#include "wg/replay.h"
#include "wg/udp.h"

#define WG_PEER_BUCKETS 256
#define WG_POOL_DEFAULT 8192		/* packets */
/* Handshake messages per second above which the device is under load. */
#define WG_UNDER_LOAD_RATE 512

/* One session: keys for both directions, derived from one handshake. */
struct wg_keypair {
	struct wg_index_entry entry;	/* our index: data is sent to it */
	struct wg_peer *peer;
	/* One context per direction and lane (lanes.h): lanes seal and open
	 * packets of one keypair at the same time. */
	struct wg_aead send[WG_LANES_MAX], recv[WG_LANES_MAX];
	uint64_t send_counter;
	struct wg_replay replay;
	uint64_t birth;			/* loop time of derivation */
	uint32_t remote_index;
	bool initiator;
};

/* Timer deadlines in loop time; 0 = not armed. */
struct wg_timers {
	uint64_t retransmit_handshake;
	uint64_t send_keepalive;
	uint64_t new_handshake;
	uint64_t zero_key_material;
	uint64_t persistent_keepalive;
	unsigned handshake_attempts;
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
};

struct wg_peer {
	struct wg_device *dev;
	struct wg_peer *next, *prev;	/* device list */
	struct wg_peer *hnext;		/* public key bucket */
	uint8_t pub[WG_KEY_LEN];
	struct wg_handshake hs;
	struct wg_index_entry hs_entry;
	struct wg_cookie_maker cookie;
	struct wg_keypair *cur, *prev_kp, *next_kp;
	struct wg_endpoint ep;
	uint16_t keepalive_interval;	/* persistent keepalive, seconds */
	struct wg_timers t;
	struct loop_timer timer;	/* armed at the earliest deadline */
	bool have_sent_handshake;
	uint64_t last_sent_handshake;
	uint64_t last_handshake_wall;
	uint64_t rx_bytes, tx_bytes;
	struct pkt *staged_head, *staged_tail;
	unsigned staged_len;
	struct wg_peer *tx_next;	/* peers with packets in this batch */
	bool in_tx_list;
};

struct wg_device {
	struct loop *loop;
	struct wg_device_config cfg;
	struct wg_noise_local local;
	struct wg_cookie_checker checker;
	struct wg_index index;
	struct wg_ratelimit rl;
	struct wg_allowedips aips;
	struct wg_peer *peers;
	struct wg_peer *buckets[WG_PEER_BUCKETS];
	unsigned n_peers;
	struct pool pool;
	struct pkt_batch txb;		/* datagrams to send */
	struct pkt_batch inb;		/* cleartext for the inside */
	struct wg_peer *tx_list;
	unsigned staged_total;		/* packets waiting, all peers */
	unsigned staged_max;		/* a share of the pool */
	uint64_t load_window, load_until;
	unsigned load_count;
	unsigned mtu;
	uint16_t listen_port;
	uint32_t fwmark;
	struct udp *udp;
	struct loop_io io4, io6;
	struct loop_timer more4, more6;	/* a socket had more than we took */
	struct wg_device_stats stats;
	struct wg_lanes *lanes;		/* NULL: crypto on the loop thread */
	unsigned n_lanes;		/* 1 + worker threads */
};

static inline uint64_t wg_now(const struct wg_device *dev)
{
	return loop_now(dev->loop);
}
uint64_t wg_wall(const struct wg_device *dev);
void wg_device_event(struct wg_device *dev, enum wg_event_type type,
		     struct wg_peer *peer);

/* ---- peer.c: sessions and queues ---- */
struct wg_peer *wg_peer_new(struct wg_device *dev,
			    const uint8_t pub[WG_KEY_LEN]);
void wg_peer_free(struct wg_peer *peer);
/* The peer's public key in base64, for log lines (a static buffer). */
const char *wg_peer_str(const struct wg_peer *peer);
/* Derives a keypair from the finished handshake and slots it in (current
 * for the initiator, next for the responder). Returns 0 or -errno. */
int wg_peer_begin_session(struct wg_peer *peer);
/* A packet authenticated with `kp`: confirms it when it is the next one.
 * Returns true when that made it current. */
bool wg_peer_received_with(struct wg_peer *peer, struct wg_keypair *kp);
/* Drops the handshake in progress and every keypair. */
void wg_peer_clear_sessions(struct wg_peer *peer);
void wg_keypair_free(struct wg_device *dev, struct wg_keypair *kp);
bool wg_keypair_can_send(const struct wg_keypair *kp, uint64_t now);
bool wg_keypair_can_recv(const struct wg_keypair *kp, uint64_t now);
/* Queues a packet until a session exists (taking it). Beyond
 * WG_MAX_STAGED_PACKETS for the peer, or a quarter of the pool for the
 * device, the peer's oldest packet is dropped. */
void wg_peer_stage(struct wg_peer *peer, struct pkt *p);
/* The oldest staged packet (now the caller's), or NULL. */
struct pkt *wg_peer_unstage(struct wg_peer *peer);
void wg_peer_purge_staged(struct wg_peer *peer);
/* Records the source of an authenticated packet (roaming). */
void wg_peer_update_endpoint(struct wg_peer *peer,
			     const struct wg_endpoint *ep);

/* ---- timers.c: the protocol's timer events (loop time `now`) ---- */
void wg_timers_init(struct wg_peer *peer);
void wg_timers_stop(struct wg_peer *peer);
void wg_timers_data_sent(struct wg_peer *peer);
void wg_timers_data_received(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_received(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer);
void wg_timers_handshake_initiated(struct wg_peer *peer);
void wg_timers_handshake_complete(struct wg_peer *peer);
void wg_timers_session_derived(struct wg_peer *peer);
/* Arms the loop timer if a deadline moved earlier. */
void wg_timers_sync(struct wg_peer *peer);
uint64_t wg_timers_jitter(void);

/* ---- tx.c: the send path ---- */
/* Encrypts and queues what the peer has staged, or starts a handshake. */
void wg_tx_send_staged(struct wg_peer *peer);
void wg_tx_send_keepalive(struct wg_peer *peer);
/* Sends an initiation unless one left less than REKEY_TIMEOUT ago. */
void wg_tx_send_initiation(struct wg_peer *peer, bool is_retry);
int wg_tx_send_response(struct wg_peer *peer);
/* Queues a copy of `len` bytes as a datagram to `ep`. */
void wg_tx_datagram(struct wg_device *dev, const void *msg, size_t len,
		    const struct wg_endpoint *ep);
/* Seals the transport data queued in dev->txb (across the lanes), then
 * hands the queued datagrams to the outside. Also called before a keypair
 * is freed, since queued packets still name it. */
void wg_tx_flush(struct wg_device *dev);
void wg_tx_flush_inside(struct wg_device *dev);

/* ---- rx.c ---- */
/* Takes the n datagrams at p[] (batch order kept): runs of transport data
 * are opened across the lanes, anything else is handled alone. */
void wg_rx_batch(struct wg_device *dev, struct pkt **p, unsigned n);

/* ---- device_udp.c: the default outside ---- */
int wg_udp_bind(struct wg_device *dev, uint16_t port);
void wg_udp_unbind(struct wg_device *dev);
void wg_udp_send(void *ctx, struct pkt_batch *b);

#endif
