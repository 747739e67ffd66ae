/* proto.h - the protocol's constants (WireGuard paper, section 6.1, and the
 * values the kernel and wireguard-go use). Times are in nanoseconds. */
#ifndef POSTERN_WG_PROTO_H
#define POSTERN_WG_PROTO_H

#include <stdint.h>

#include "core/clock.h"

#define WG_REKEY_AFTER_MESSAGES (1ULL << 60)
/* The last counter a sender may use; receivers reject counters at or above
 * it. Far enough below 2^64 that the replay window never wraps. */
#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13))
#define WG_REKEY_AFTER_TIME (120 * NSEC_PER_SEC)
#define WG_REJECT_AFTER_TIME (180 * NSEC_PER_SEC)
#define WG_REKEY_ATTEMPT_TIME (90 * NSEC_PER_SEC)
#define WG_REKEY_TIMEOUT (5 * NSEC_PER_SEC)
#define WG_REKEY_TIMEOUT_JITTER_MAX (NSEC_PER_SEC / 3)
#define WG_KEEPALIVE_TIMEOUT (10 * NSEC_PER_SEC)
/* Retransmissions of one initiation before giving up (90 s / 5 s). */
#define WG_MAX_TIMER_HANDSHAKES (WG_REKEY_ATTEMPT_TIME / WG_REKEY_TIMEOUT)
/* Initiations accepted from one peer at most this often (flood guard). */
#define WG_INITIATIONS_PER_SECOND 50
#define WG_COOKIE_SECRET_MAX_AGE (120 * NSEC_PER_SEC)
#define WG_COOKIE_SECRET_LATENCY (5 * NSEC_PER_SEC)
/* Packets queued per peer while no session exists; the oldest go first. */
#define WG_MAX_STAGED_PACKETS 128

#endif
