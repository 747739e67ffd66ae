/* xchg_up.h - what an upstream connection reports to its exchange
 * (internal to src/hub: upstream.c -> xchg.c). */
#ifndef POSTERN_HUB_XCHG_UP_H
#define POSTERN_HUB_XCHG_UP_H

#include <stdint.h>

struct xchg;

/* Socket events on the exchange's upstream connection. */
void xchg_up_event(struct xchg *x, uint32_t events);
/* The upstream connection's timer fired. */
void xchg_up_timeout(struct xchg *x);

#endif
