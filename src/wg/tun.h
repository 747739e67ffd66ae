/* tun.h - the TUN interface with TSO/GSO offloads, batched.
 *
 * Opened with IFF_TUN|IFF_NO_PI|IFF_VNET_HDR and TUNSETOFFLOAD
 * (TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6, plus TUN_F_USO4/6 where the kernel
 * has them) so one read or write moves up to 64 KiB. Reads segment such
 * super-packets into MTU-sized IP packets (headers and checksums fixed up,
 * VIRTIO_NET_HDR_F_NEEDS_CSUM completed); writes coalesce consecutive TCP
 * segments (and, where the kernel takes USO, UDP datagrams) of one flow
 * back into super-packets (GRO). When the kernel
 * refuses IFF_VNET_HDR or the offloads, the same calls move one packet per
 * syscall. Non-blocking; the fd is watched by the device's loop. */
#ifndef POSTERN_WG_TUN_H
#define POSTERN_WG_TUN_H

#include <stdbool.h>

#include "core/pool.h"
#include "wg/pkt.h"

struct tun;

/* Creates, or attaches to, the TUN interface `name` (at most 15 bytes).
 * Sets its MTU to `mtu` when nonzero (1 .. PKT_MTU_MAX). The interface is
 * left down; the caller (or the user with `ip link`) brings it up.
 * Returns 0 with *out set, or -errno. */
int tun_open(const char *name, unsigned mtu, struct tun **out);

/* tun_open_flags() flags. */
#define TUN_OPEN_NO_OFFLOAD (1u << 0)	/* plain TUN: no vnet header, no TSO */
#define TUN_OPEN_NO_UDP_GRO (1u << 1)	/* do not write USO super-packets */
/* Like tun_open, with TUN_OPEN_* flags (tests and benchmarks use
 * TUN_OPEN_NO_OFFLOAD to measure the fallback path). */
int tun_open_flags(const char *name, unsigned mtu, unsigned flags,
		   struct tun **out);
/* Closes the fd (the kernel deletes a non-persistent interface). */
void tun_close(struct tun *t);

int tun_fd(const struct tun *t);
const char *tun_name(const struct tun *t);
/* Current MTU of the interface (it may be changed with `ip link`). */
unsigned tun_mtu(struct tun *t);
/* True when vnet headers and TSO offloads are on. */
bool tun_offload(const struct tun *t);

/* Reads until `b` is full or nothing is ready, taking packets from `pool`.
 * Each packet holds one IP packet with >= PKT_HEADROOM bytes before it.
 * Packets appended to `b` belong to the caller. Returns the number added
 * (0 = nothing ready), or -errno on a fatal error (e.g. -EBADFD when the
 * interface went away). Malformed super-packets are dropped and counted. */
int tun_read_batch(struct tun *t, struct pool *pool, struct pkt_batch *b);
/* True when segments of a super-packet already read wait inside `t` (the
 * batch filled up, or the pool ran dry). The fd does not signal them: a
 * caller that stops calling tun_read_batch before it returned 0 must come
 * back (e.g. a zero-delay timer) while this is true. */
bool tun_read_pending(const struct tun *t);

/* Writes every packet in `b` (IP packets at pkt_data), coalescing when
 * offload is on. The packets stay the caller's. Returns 0, or -errno;
 * on -EAGAIN (kernel queue full) the unwritten packets are dropped, as a
 * NIC drops on a full ring. */
int tun_write_batch(struct tun *t, struct pkt_batch *b);

void tun_get_stats(const struct tun *t, struct pkt_io_stats *out);

#endif
