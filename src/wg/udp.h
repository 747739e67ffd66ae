/* udp.h - the device's UDP sockets, batched with GSO/GRO.
 *
 * One IPv4 and one IPv6 socket (IPV6_V6ONLY) on the same port; either may
 * be absent when its family is unavailable. recvmmsg with UDP_GRO (one
 * receive can return many coalesced datagrams, split here) and sendmmsg
 * with UDP_SEGMENT (consecutive packets to the same endpoint with the same
 * size go out as one GSO send), each falling back to plain batches when
 * the kernel refuses. IP_PKTINFO/IPV6_RECVPKTINFO record the local address
 * a datagram arrived on, and sends use it as the source (sticky sockets).
 * Non-blocking; fds are watched by the device's loop. */
#ifndef POSTERN_WG_UDP_H
#define POSTERN_WG_UDP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pool.h"
#include "wg/pkt.h"

struct udp;

/* Binds both sockets on `port` (0 = the kernel picks one port for both).
 * `fwmark` 0 = none. Returns 0 with *out set, or -errno (-EADDRINUSE when
 * the port is taken). */
int udp_open(uint16_t port, uint32_t fwmark, struct udp **out);
void udp_close(struct udp *u);

/* The sockets to watch; -1 when that family is absent. */
int udp_fd4(const struct udp *u);
int udp_fd6(const struct udp *u);
uint16_t udp_port(const struct udp *u);
/* Applies SO_MARK to both sockets. Returns 0 or -errno. */
int udp_set_fwmark(struct udp *u, uint32_t fwmark);

/* Receives from socket `fd` until `b` is full or nothing is ready (a
 * receive that returned fewer messages than asked for counts as nothing
 * more ready: the caller watches the fd level-triggered); each
 * datagram becomes one packet (GRO batches are split) with ep = source
 * and local address. Datagrams larger than PKT_PAYLOAD_MAX are dropped.
 * Returns the number added (0 = nothing ready) or -errno. */
int udp_recv_batch(struct udp *u, int fd, struct pool *pool,
		   struct pkt_batch *b);
/* True when datagrams of a GRO receive already made wait inside `u` for
 * socket `fd` (the batch filled up, or the pool ran dry). The fd does not
 * signal them: a caller that stops calling udp_recv_batch before it
 * returned 0 must come back while this is true. */
bool udp_recv_pending(const struct udp *u, int fd);

/* Sends every packet in `b` to its ep (payload at pkt_data). The packets
 * stay the caller's. Returns 0 or -errno; unsendable packets are dropped
 * and counted (UDP is lossy; the protocol recovers). If a sticky source
 * address is no longer local, it is cleared in the packet's ep and the
 * kernel picks one. */
int udp_send_batch(struct udp *u, struct pkt_batch *b);

void udp_get_stats(const struct udp *u, struct pkt_io_stats *out);

#endif
