/* xchg_up.h - what an upstream connection reports to its exchange
 * (internal to src/front: upstream.c -> xchg.c). */
#ifndef POSTERN_FRONT_XCHG_UP_H
#define POSTERN_FRONT_XCHG_UP_H

#include <stdint.h>

struct xchg;

/* Socket events on the exchange's upstream connection. */
void xchg_up_event(struct xchg *x, uint32_t events);
/* The upstream connection's timer fired. */
void xchg_up_timeout(struct xchg *x);

struct buf;
struct upconn;

/* Appends the stream header for x's agent target (the client's address
 * filled in) to out. Returns 0 or -errno. */
int xchg_agent_header(const struct xchg *x, struct buf *out);
/* Consumes the agent's status byte when one is awaited on u. Returns 0
 * (none awaited, or OK), 1 (not arrived yet) or -1 (the agent refused the
 * stream; logged). */
int xchg_agent_status(const struct xchg *x, struct upconn *u);

#endif
