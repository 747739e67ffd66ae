/* acme_renew.h - when to renew, and how long to wait after a failure.
 *
 * Policy (docs/acme.md, "Renewal"):
 * - with ARI (RFC 9773 s4.2): a uniformly random moment inside the CA's
 *   suggestedWindow; a window already in the past means now;
 * - without ARI: at two thirds of the certificate's lifetime;
 * - after a failure: exponential backoff from 5 minutes doubling to at most
 *   12 hours, never earlier than the CA's Retry-After, so a rate-limited
 *   hub asks the CA rarely rather than hammering it. */
#ifndef POSTERN_ACME_ACME_RENEW_H
#define POSTERN_ACME_ACME_RENEW_H

#include <stdbool.h>
#include <stdint.h>

#define ACME_BACKOFF_MIN_S (5 * 60)
#define ACME_BACKOFF_MAX_S (12 * 3600)
/* A certificate this close to expiry raises the "expiring" event. */
#define ACME_EXPIRING_S (7 * 86400)

/* Unix time to renew at, from the validity period. */
int64_t acme_renew_fallback(int64_t not_before, int64_t not_after);
/* Unix time inside [start, end) chosen with `rnd`, never before `now`. */
int64_t acme_renew_from_window(int64_t start, int64_t end, int64_t now,
			       uint64_t rnd);
/* Seconds to wait before attempt number `failures`+1 (failures >= 1). */
uint64_t acme_renew_backoff(unsigned failures, uint64_t retry_after_s);

#endif
