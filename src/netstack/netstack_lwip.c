/* netstack_lwip.c - lwIP's TCP in this process, for agents that may not
 * create namespaces (containers). lwIP runs single-threaded on the agent's
 * loop (lwip_init, no tcpip thread; its timers from a loop timer). Each
 * accepted connection is bridged to the acceptor through a socketpair, so
 * the acceptor and relay are the same code for every netstack. Flow
 * control crosses the bridge: received data is acknowledged to lwIP
 * (tcp_recved: the window opens) only once written into the socketpair,
 * and the socketpair is read only while lwIP has send buffer. */
#define LOG_SUBSYS "netstack"
#include "netstack/netstack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"

#define LCONN_HOLD 16384
#define LSTACK_TICK_MAX_MS 250

struct lstack {
	struct netstack base;
	struct netif nif;
	struct tcp_pcb *listener;
	struct loop_timer tick;
	struct pkt_batch out;
};

struct lconn {
	struct lstack *ls;
	struct tcp_pcb *pcb;	/* NULL once lwIP freed it */
	int fd;			/* our end of the socketpair */
	struct loop_io io;
	struct pbuf *pending;	/* received, not yet in the socketpair */
	bool rx_fin;		/* lwIP saw the hub's FIN */
	bool fd_shut;		/* ... and we passed it on */
	bool fd_eof;		/* the acceptor side finished writing */
	bool tx_fin;		/* ... and we sent FIN */
	bool connecting;	/* outbound, SYN not yet answered */
	size_t hold_len;	/* read from fd, not yet accepted by tcp_write */
	uint8_t hold[LCONN_HOLD];
};

static struct lstack *lstack_one;	/* lwIP's state is global: one stack */

static void lstack_flush(struct lstack *ls)
{
	if (ls->out.n) {
		ls->base.tx_packets += ls->out.n;
		ls->base.output(ls->base.output_ctx, &ls->out);
		ls->out.n = 0;
	}
}

static err_t lstack_emit(struct netif *nif, struct pbuf *p)
{
	struct lstack *ls = nif->state;
	struct pkt *k;

	if (p->tot_len > PKT_PAYLOAD_MAX || !(k = pool_get(ls->base.pool))) {
		ls->base.dropped++;
		return ERR_MEM;
	}
	k->off = PKT_HEADROOM;
	k->len = pbuf_copy_partial(p, k->buf + PKT_HEADROOM, p->tot_len, 0);
	ls->out.p[ls->out.n++] = k;
	if (ls->out.n == PKT_BATCH)
		lstack_flush(ls);
	return ERR_OK;
}

static err_t lstack_out4(struct netif *nif, struct pbuf *p, const ip4_addr_t *a)
{
	(void)a;
	return lstack_emit(nif, p);
}

static err_t lstack_out6(struct netif *nif, struct pbuf *p, const ip6_addr_t *a)
{
	(void)a;
	return lstack_emit(nif, p);
}

static err_t lstack_netif_init(struct netif *nif)
{
	struct lstack *ls = nif->state;

	nif->name[0] = 'p';
	nif->name[1] = 't';
	nif->mtu = (u16_t)(ls->base.conf.mtu ? ls->base.conf.mtu : 1420);
	nif->output = lstack_out4;
	nif->output_ip6 = lstack_out6;
	nif->flags = 0;
	return ERR_OK;
}

static void lconn_free(struct lconn *c)
{
	loop_io_del(c->ls->base.loop, &c->io);
	if (c->fd >= 0)
		close(c->fd);
	if (c->pending)
		pbuf_free(c->pending);
	free(c);
}

/* Hard stop: reset the TCP side, close the bridge. */
static void lconn_abort(struct lconn *c)
{
	if (c->pcb) {
		tcp_arg(c->pcb, NULL);
		tcp_abort(c->pcb);
		c->pcb = NULL;
	}
	lconn_free(c);
}

/* lwIP -> socketpair. Returns 0 or -1 (connection aborted). */
static int lconn_push(struct lconn *c)
{
	while (c->pending) {
		struct pbuf *p = c->pending;
		ssize_t n = send(c->fd, p->payload, p->len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			lconn_abort(c);
			return -1;
		}
		c->pending = pbuf_free_header(p, (u16_t)n);
		if (c->pcb)
			tcp_recved(c->pcb, (u16_t)n);	/* the window opens */
	}
	if (c->rx_fin && !c->fd_shut) {
		shutdown(c->fd, SHUT_WR);
		c->fd_shut = true;
	}
	return 0;
}

/* socketpair -> lwIP. Returns 0 or -1 (connection aborted). */
static int lconn_pull(struct lconn *c)
{
	if (c->connecting && c->pcb && c->pcb->state == ESTABLISHED)
		c->connecting = false;
	while (c->pcb && !c->tx_fin && !c->connecting) {
		if (c->hold_len == 0 && !c->fd_eof) {
			size_t room = MIN((size_t)tcp_sndbuf(c->pcb), sizeof(c->hold));
			if (room == 0)
				break;
			ssize_t n = read(c->fd, c->hold, room);
			if (n < 0 && errno == EAGAIN)
				break;
			if (n < 0) {
				lconn_abort(c);
				return -1;
			}
			if (n == 0)
				c->fd_eof = true;
			c->hold_len = (size_t)n;
		}
		if (c->hold_len) {
			if (tcp_write(c->pcb, c->hold, (u16_t)c->hold_len,
				      TCP_WRITE_FLAG_COPY) != ERR_OK)
				break;	/* queue full: retried from the sent callback */
			c->hold_len = 0;
		} else if (c->fd_eof) {
			tcp_shutdown(c->pcb, 0, 1);
			c->tx_fin = true;
		}
	}
	if (c->pcb)
		tcp_output(c->pcb);
	return 0;
}

enum { LCONN_ALIVE = 0, LCONN_CLOSED, LCONN_ABORTED };

/* Moves what can move; closes when both directions are finished.
 * Returns LCONN_* (c is freed unless ALIVE; ABORTED = tcp_abort ran, so
 * an lwIP callback must return ERR_ABRT). */
static int lconn_update(struct lconn *c)
{
	uint32_t ev = 0;

	if (lconn_push(c) < 0 || lconn_pull(c) < 0)
		return LCONN_ABORTED;
	if (!c->pcb || (c->fd_shut && c->tx_fin)) {
		int rc = LCONN_CLOSED;
		if (c->pcb) {
			tcp_arg(c->pcb, NULL);
			if (tcp_close(c->pcb) != ERR_OK) {
				tcp_abort(c->pcb);
				rc = LCONN_ABORTED;
			}
			c->pcb = NULL;
		}
		lconn_free(c);
		return rc;
	}
	if (c->pending)
		ev |= LOOP_WRITE;
	if (!c->fd_eof && !c->hold_len && !c->connecting && tcp_sndbuf(c->pcb) > 0)
		ev |= LOOP_READ;
	loop_io_mod(c->ls->base.loop, &c->io, ev);
	return LCONN_ALIVE;
}

static void lconn_event(struct loop_io *io, uint32_t events)
{
	struct lconn *c = io->data;
	struct lstack *ls = c->ls;

	(void)events;
	(void)lconn_update(c);
	lstack_flush(ls);
}

static err_t lconn_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct lconn *c = arg;

	(void)err;
	if (!c) {
		if (p)
			pbuf_free(p);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	if (!p) {
		c->rx_fin = true;
	} else if (c->pending) {
		pbuf_cat(c->pending, p);
	} else {
		c->pending = p;
	}
	return lconn_update(c) == LCONN_ABORTED ? ERR_ABRT : ERR_OK;
}

static err_t lconn_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)pcb;
	(void)len;
	if (arg && lconn_update(arg) == LCONN_ABORTED)
		return ERR_ABRT;
	return ERR_OK;
}

static void lconn_err(void *arg, err_t err)
{
	struct lconn *c = arg;

	(void)err;
	if (!c)
		return;
	c->pcb = NULL;	/* already freed by lwIP */
	lconn_free(c);
}

/* A bridge for pcb; *peer gets the socketpair end for the other side.
 * Returns NULL (nothing changed) on failure. */
static struct lconn *lconn_new(struct lstack *ls, struct tcp_pcb *pcb, int *peer)
{
	struct lconn *c = calloc(1, sizeof(*c));
	int sp[2];

	if (!c || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) < 0) {
		free(c);
		return NULL;
	}
	c->ls = ls;
	c->pcb = pcb;
	c->fd = sp[0];
	if (loop_io_add(ls->base.loop, &c->io, c->fd, 0, lconn_event, c) < 0) {
		close(sp[0]);
		close(sp[1]);
		free(c);
		return NULL;
	}
	tcp_arg(pcb, c);
	tcp_recv(pcb, lconn_recv);
	tcp_sent(pcb, lconn_sent);
	tcp_err(pcb, lconn_err);
	tcp_nagle_disable(pcb);
	*peer = sp[1];
	return c;
}

static err_t lstack_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct lstack *ls = arg;
	struct lconn *c;
	int fd;

	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	c = lconn_new(ls, pcb, &fd);
	if (!c) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	ls->base.acc.take(ls->base.acc.ctx, fd);
	return lconn_update(c) == LCONN_ABORTED ? ERR_ABRT : ERR_OK;
}

static void lstack_input(struct netstack *ns, struct pkt_batch *b)
{
	struct lstack *ls = container_of(ns, struct lstack, base);

	for (unsigned i = 0; i < b->n; i++) {
		struct pkt *k = b->p[i];
		struct pbuf *p = pbuf_alloc(PBUF_RAW, k->len, PBUF_POOL);
		if (!p || pbuf_take(p, pkt_data(k), k->len) != ERR_OK) {
			if (p)
				pbuf_free(p);
			ns->dropped++;
			continue;
		}
		ns->rx_packets++;
		if (ls->nif.input(p, &ls->nif) != ERR_OK)
			pbuf_free(p);
	}
	lstack_flush(ls);
}

static void lstack_tick(struct loop_timer *t)
{
	struct lstack *ls = t->data;
	u32_t ms;

	sys_check_timeouts();
	lstack_flush(ls);
	ms = sys_timeouts_sleeptime();
	if (ms > LSTACK_TICK_MAX_MS)
		ms = LSTACK_TICK_MAX_MS;
	loop_timer_arm(ls->base.loop, &ls->tick, (uint64_t)(ms ? ms : 1) * NSEC_PER_MSEC);
}

static err_t lconn_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)pcb;
	(void)err;
	return arg && lconn_update(arg) == LCONN_ABORTED ? ERR_ABRT : ERR_OK;
}

/* An outbound connection, bridged like an accepted one; the caller gets
 * the other end of the socketpair at once. */
static int lstack_connect(struct netstack *ns, const struct sockaddr *to)
{
	struct lstack *ls = container_of(ns, struct lstack, base);
	ip_addr_t dst;
	u16_t port;
	int fd;

	memset(&dst, 0, sizeof(dst));
	if (to->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)to;
		IP_SET_TYPE_VAL(dst, IPADDR_TYPE_V4);
		ip_2_ip4(&dst)->addr = s->sin_addr.s_addr;
		port = ntohs(s->sin_port);
	} else {
		const struct sockaddr_in6 *s = (const void *)to;
		IP_SET_TYPE_VAL(dst, IPADDR_TYPE_V6);
		memcpy(ip_2_ip6(&dst)->addr, &s->sin6_addr, 16);
		port = ntohs(s->sin6_port);
	}
	struct tcp_pcb *pcb = tcp_new_ip_type(IP_GET_TYPE(&dst));
	if (!pcb)
		return -ENOMEM;
	struct lconn *c = lconn_new(ls, pcb, &fd);
	if (!c) {
		tcp_abort(pcb);
		return -ENOMEM;
	}
	c->connecting = true;
	if (tcp_connect(pcb, &dst, port, lconn_connected) != ERR_OK) {
		close(fd);
		lconn_abort(c);
		return -ENETUNREACH;
	}
	lstack_flush(ls);
	return fd;
}

static void lstack_close(struct netstack *ns)
{
	struct lstack *ls = container_of(ns, struct lstack, base);

	loop_timer_disarm(ns->loop, &ls->tick);
	if (ls->listener)
		tcp_close(ls->listener);
	netif_remove(&ls->nif);
	for (unsigned i = 0; i < ls->out.n; i++)
		pool_put(ns->pool, ls->out.p[i]);
	lstack_one = NULL;
	free(ls);
}

static const struct netstack_ops lstack_ops = {
	.input = lstack_input,
	.connect = lstack_connect,
	.close = lstack_close,
};

static void lstack_addresses(struct lstack *ls)
{
	const struct netstack_conf *c = &ls->base.conf;
	ip4_addr_t a4, m4, gw;

	ip4_addr_set_zero(&gw);
	ip4_addr_set_zero(&a4);
	ip4_addr_set_zero(&m4);
	if (c->has4) {
		a4.addr = c->addr4.s_addr;
		m4.addr = c->prefix4 ? htonl(~0u << (32 - c->prefix4)) : 0;
	}
	netif_add(&ls->nif, &a4, &m4, &gw, ls, lstack_netif_init, ip_input);
	if (c->has6) {
		ip6_addr_t a6;
		memset(&a6, 0, sizeof(a6));
		memcpy(a6.addr, &c->addr6, 16);
		netif_ip6_addr_set(&ls->nif, 0, &a6);
		netif_ip6_addr_set_state(&ls->nif, 0, IP6_ADDR_PREFERRED);
	}
	ls->nif.ip6_autoconfig_enabled = 0;
	netif_set_default(&ls->nif);
	netif_set_link_up(&ls->nif);
	netif_set_up(&ls->nif);
}

int netstack_lwip_open(const struct netstack *base, struct netstack **out)
{
	static bool inited;
	struct lstack *ls;

	if (lstack_one)
		return -EBUSY;
	ls = calloc(1, sizeof(*ls));
	if (!ls)
		return -ENOMEM;
	if (!inited) {
		lwip_init();
		inited = true;
	}
	ls->base = *base;
	ls->base.ops = &lstack_ops;
	ls->base.mode = NETSTACK_LWIP;
	lstack_addresses(ls);
	ls->listener = tcp_new_ip_type(IPADDR_TYPE_ANY);
	if (!ls->listener || tcp_bind(ls->listener, IP_ANY_TYPE, base->conf.port) != ERR_OK) {
		netif_remove(&ls->nif);
		free(ls);
		return -EADDRINUSE;
	}
	ls->listener = tcp_listen_with_backlog(ls->listener, 255);
	tcp_arg(ls->listener, ls);
	tcp_accept(ls->listener, lstack_accept);
	loop_timer_init(&ls->tick, lstack_tick, ls);
	loop_timer_arm(base->loop, &ls->tick, LSTACK_TICK_MAX_MS * NSEC_PER_MSEC);
	lstack_one = ls;
	log_info("netstack lwip: userspace TCP (lwIP %s)", LWIP_VERSION_STRING);
	*out = &ls->base;
	return 0;
}
