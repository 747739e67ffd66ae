/* tcpfwd.c - raw TCP routes: a public port on the hub forwarded to a
 * target through an agent (stream header, status byte, then bytes both
 * ways) or straight to an agentless node's tunnel address.
 *
 * Runs on the control loop next to the WireGuard device. Listeners follow
 * the store: tcpfwd_sync() opens the ports of new tcp:// routes, closes
 * those of removed ones, and retargets the others; connections already
 * relaying are left alone. The relay itself is the agent's (relay.h):
 * bounded buffers, back-pressure, half-closes. */
#define LOG_SUBSYS "tcpfwd"
#include "hub/tcpfwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/agent_proto.h"
#include "agent/relay.h"
#include "api/api_snapshot.h"
#include "core/accept.h"
#include "core/clock.h"
#include "core/dlist.h"
#include "core/log.h"
#include "core/num.h"
#include "hub/route.h"
#include "hub/tunnel.h"
#include "front/upstream.h"

#define TCPFWD_CONNECT_NS (10 * NSEC_PER_SEC)

struct tcpfwd_target {
	char agent[64];
	uint32_t slot;
	bool dialable;		/* the agent has a tunnel address */
	bool stream;		/* an agent: header + status byte */
	struct addr dial;	/* agent:4180, or the node's target */
	struct stream_hdr hdr;
	char label[300];
};

struct tcpfwd_lst {
	struct loop_io io;
	struct tcpfwd_route *r;
};

struct tcpfwd_route {
	uint16_t port;
	struct tcpfwd_lst lst[HUB_MAX_LISTEN];
	unsigned nlst;
	struct tcpfwd_target t;
	struct tcpfwd *f;
	bool seen;
};

/* A connection until the relay takes over. */
struct tcpfwd_conn {
	struct tcpfwd *f;
	struct loop *loop;
	int cfd, afd;
	struct loop_io io;
	struct loop_timer timer;
	struct buf hdr;		/* the stream header still to send */
	bool await_status;
	struct tcpfwd_target t;
	struct relay relay;
	bool relaying;
	struct tcpfwd_conn *next, *prev;	/* every open connection */
};


/* ---- connections ---- */

static void tcpfwd_conn_free(struct tcpfwd_conn *c)
{
	loop_io_del(c->loop, &c->io);
	loop_timer_disarm(c->loop, &c->timer);
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->afd >= 0)
		close(c->afd);
	buf_free(&c->hdr);
	DLIST_UNLINK(c->f->conns, c);
	free(c);
}

static void tcpfwd_relay_done(struct relay *r, int err)
{
	struct tcpfwd_conn *c = r->data;

	(void)err;
	c->cfd = c->afd = -1;	/* the relay closed them */
	tcpfwd_conn_free(c);
}

static void tcpfwd_start_relay(struct tcpfwd_conn *c)
{
	loop_io_del(c->loop, &c->io);
	loop_timer_disarm(c->loop, &c->timer);
	relay_init(&c->relay, c->loop, tcpfwd_relay_done, c);
	if (relay_start(&c->relay, c->cfd, NULL, c->afd, NULL) < 0) {
		tcpfwd_conn_free(c);
		return;
	}
	c->relaying = true;
}

static void tcpfwd_fail(struct tcpfwd_conn *c, const char *why)
{
	log_info("tcp %s via %s: %s", c->t.label, c->t.agent, why);
	tcpfwd_conn_free(c);
}

/* Connected (or failed); for an agent, the header goes out and the
 * status byte comes back before relaying starts. */
static void tcpfwd_conn_io(struct loop_io *io, uint32_t events)
{
	struct tcpfwd_conn *c = io->data;
	uint8_t st;
	ssize_t n;
	int err = 0;
	socklen_t len = sizeof(err);

	if ((events & (LOOP_WRITE | LOOP_ERROR)) &&
	    getsockopt(c->afd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) {
		tcpfwd_fail(c, "the agent is offline (connect failed)");
		return;
	}
	if (!c->t.stream) {
		tcpfwd_start_relay(c);
		return;
	}
	if (c->hdr.len && (events & LOOP_WRITE)) {
		n = send(c->afd, buf_head(&c->hdr), c->hdr.len, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			tcpfwd_fail(c, "the agent is offline (send failed)");
			return;
		}
		if (n > 0)
			buf_consume(&c->hdr, (size_t)n);
		loop_io_mod(c->loop, &c->io, c->hdr.len ? LOOP_WRITE : LOOP_READ);
	}
	if (!(events & (LOOP_READ | LOOP_ERROR)))
		return;
	n = recv(c->afd, &st, 1, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		tcpfwd_fail(c, "the agent closed the stream (offline?)");
		return;
	}
	if (st != AGENT_STATUS_OK) {
		log_info("tcp %s via %s: %s", c->t.label, c->t.agent, agent_status_name(st));
		tcpfwd_conn_free(c);
		return;
	}
	tcpfwd_start_relay(c);
}

static void tcpfwd_conn_timeout(struct loop_timer *t)
{
	tcpfwd_fail(t->data, "the agent is offline (no answer)");
}

static int tcpfwd_dial(const struct tcpfwd_target *t)
{
	int one = 1, fd = socket(t->dial.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT,
		   &(unsigned){ UPCONN_AGENT_USER_TIMEOUT_MS }, sizeof(unsigned));
	if (connect(fd, (const struct sockaddr *)&t->dial.ss, t->dial.len) < 0 &&
	    errno != EINPROGRESS) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static void tcpfwd_conn_new(struct tcpfwd_route *r, int cfd, const struct addr *client)
{
	struct tcpfwd *f = r->f;
	struct tcpfwd_conn *c;

	if (!r->t.dialable || !hub_tunnel_slot_online(f->online, r->t.slot) ||
	    !(c = calloc(1, sizeof(*c)))) {
		log_info("tcp :%u via %s: the agent is offline", r->port, r->t.agent);
		close(cfd);
		return;
	}
	DLIST_PUSH(f->conns, c);
	c->f = f;
	c->loop = f->loop;
	c->cfd = cfd;
	c->t = r->t;
	buf_init(&c->hdr, 2048);
	loop_timer_init(&c->timer, tcpfwd_conn_timeout, c);
	c->afd = tcpfwd_dial(&c->t);
	if (c->afd < 0 || (c->t.stream && xchg_agent_stream_hdr(&c->t.hdr, client, &c->hdr) < 0) ||
	    loop_io_add(c->loop, &c->io, c->afd, LOOP_WRITE, tcpfwd_conn_io, c) < 0) {
		tcpfwd_fail(c, "cannot dial the agent");
		return;
	}
	loop_timer_arm(c->loop, &c->timer, TCPFWD_CONNECT_NS);
}

static void tcpfwd_accept(struct loop_io *io, uint32_t events)
{
	struct tcpfwd_lst *l = io->data;
	struct tcpfwd *f = l->r->f;

	(void)events;
	for (int i = 0; i < 32; i++) {
		struct addr peer = { .len = sizeof(peer.ss) };
		int fd = accept_backoff_next(&f->acc, io->fd, (struct sockaddr *)&peer.ss,
					     &peer.len);
		if (fd < 0)
			return;
		tcpfwd_conn_new(l->r, fd, &peer);
	}
}

/* The accept back-off turns every route's listeners off or on. */
static void tcpfwd_watch_listeners(void *ctx, bool on)
{
	struct tcpfwd *f = ctx;

	for (unsigned i = 0; i < TCPFWD_ROUTES; i++)
		for (unsigned k = 0; f->routes[i] && k < f->routes[i]->nlst; k++)
			accept_backoff_set(f->loop, &f->routes[i]->lst[k].io, on);
}

/* ---- listeners ---- */

static int tcpfwd_listen(const struct addr *base, uint16_t port)
{
	struct addr a = *base;
	int one = 1, fd;

	if (a.ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&a.ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)&a.ss)->sin_port = htons(port);
	fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a.ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a.ss, a.len) < 0 || listen(fd, 128) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

/* The public addresses: those of the https listeners, else the http ones. */
static unsigned tcpfwd_bases(const struct tcpfwd *f, const struct addr **v)
{
	if (f->cfg->nlisten_https) {
		*v = f->cfg->listen_https;
		return f->cfg->nlisten_https;
	}
	*v = f->cfg->listen_http;
	return f->cfg->nlisten_http;
}

static void tcpfwd_route_free(struct tcpfwd_route *r)
{
	struct tcpfwd *f = r->f;

	for (unsigned i = 0; i < r->nlst; i++) {
		loop_io_del(f->loop, &r->lst[i].io);
		close(r->lst[i].io.fd);
	}
	free(r);
}

/* Remembers why `port` has no listener, for the route's status. */
static void tcpfwd_failed(struct tcpfwd *f, uint16_t port, int err)
{
	if (f->nfailed < TCPFWD_ROUTES) {
		f->failed[f->nfailed].port = port;
		f->failed[f->nfailed++].err = err;
	}
}

static struct tcpfwd_route *tcpfwd_route_open(struct tcpfwd *f, uint16_t port)
{
	struct tcpfwd_route *r = calloc(1, sizeof(*r));
	const struct addr *bases;
	unsigned n = tcpfwd_bases(f, &bases);
	int err = -ENOMEM;

	if (!r) {
		tcpfwd_failed(f, port, err);
		return NULL;
	}
	r->port = port;
	r->f = f;
	for (unsigned i = 0; i < n; i++) {
		int fd = tcpfwd_listen(&bases[i], port);
		if (fd < 0) {
			log_err("tcp route port %u: %s", port, strerror(-fd));
			err = fd;
			continue;
		}
		r->lst[r->nlst].r = r;
		if (loop_io_add(f->loop, &r->lst[r->nlst].io, fd, LOOP_READ, tcpfwd_accept,
				&r->lst[r->nlst]) < 0) {
			close(fd);
			continue;
		}
		r->nlst++;
	}
	if (!r->nlst) {
		tcpfwd_failed(f, port, err);
		free(r);
		return NULL;
	}
	log_info("tcp route listening on port %u", port);
	return r;
}

/* "tcp://host:port" and the agent into a target. Returns 0 or -1. */
static int tcpfwd_target(struct tcpfwd *f, const struct route_spec *s,
			 struct tcpfwd_target *t)
{
	const char *hp = s->target + 6, *colon = strrchr(hp, ':');
	char host[256];
	uint64_t port;
	size_t hl;

	memset(t, 0, sizeof(*t));
	if (!colon || num_parse_u64(colon + 1, strlen(colon + 1), 1, 65535, &port) < 0)
		return -1;
	hl = (size_t)(colon - hp);
	if (hl >= 2 && hp[0] == '[' && hp[hl - 1] == ']') {
		hp++;
		hl -= 2;
	}
	if (!hl || hl >= sizeof(host))
		return -1;
	memcpy(host, hp, hl);
	host[hl] = 0;
	snprintf(t->agent, sizeof(t->agent), "%s", s->agent);
	snprintf(t->label, sizeof(t->label), "%s", s->target + 6);
	t->slot = hub_tunnel_slot(f->online, s->agent_id);
	t->stream = !s->agent_node;
	if (t->stream && route_stream_hdr_init(&t->hdr, host, (uint16_t)port) < 0)
		return -1;
	if (!s->agent_addr)
		return 0;
	t->dialable = (t->stream ? addr_resolve(s->agent_addr, AGENT_STREAM_PORT, &t->dial)
				 : addr_resolve(host, (uint16_t)port, &t->dial)) == 0;
	return 0;
}

static struct tcpfwd_route **tcpfwd_find(struct tcpfwd *f, uint16_t port)
{
	for (unsigned i = 0; i < TCPFWD_ROUTES; i++)
		if (f->routes[i] && f->routes[i]->port == port)
			return &f->routes[i];
	return NULL;
}

static struct tcpfwd_route **tcpfwd_free_slot(struct tcpfwd *f)
{
	for (unsigned i = 0; i < TCPFWD_ROUTES; i++)
		if (!f->routes[i])
			return &f->routes[i];
	return NULL;
}

/* Names the hub's own listener on `port`, or NULL. */
static const char *tcpfwd_own_listener(const struct tcpfwd *f, unsigned port)
{
	const struct hub_config *cfg = f->cfg;

	for (unsigned i = 0; i < cfg->nlisten_http; i++)
		if (addr_port(&cfg->listen_http[i]) == port)
			return "the hub's HTTP listener";
	for (unsigned i = 0; i < cfg->nlisten_https; i++)
		if (addr_port(&cfg->listen_https[i]) == port)
			return "the hub's HTTPS listener";
	if (cfg->metrics && addr_port(&cfg->metrics_listen) == port)
		return "the hub's metrics listener";
	return NULL;
}

int tcpfwd_port_check(struct tcpfwd *f, unsigned port, char *why, size_t len)
{
	const struct addr *bases;
	const char *own;
	unsigned n;

	if (!f->loop)
		return 0;
	if ((own = tcpfwd_own_listener(f, port))) {
		snprintf(why, len, "port %u is %s", port, own);
		return -1;
	}
	if (tcpfwd_find(f, (uint16_t)port)) {
		snprintf(why, len, "port %u is used by another route", port);
		return -1;
	}
	n = tcpfwd_bases(f, &bases);
	for (unsigned i = 0; i < n; i++) {
		int fd = tcpfwd_listen(&bases[i], (uint16_t)port);
		char ip[64];

		if (fd >= 0) {
			close(fd);
			continue;
		}
		addr_ip_str(&bases[i], ip, sizeof(ip));
		snprintf(why, len, "cannot listen on %s port %u: %s%s", ip, port,
			 strerror(-fd), fd == -EADDRINUSE ? " (another process listens there)" : "");
		return -1;
	}
	return 0;
}

int tcpfwd_port_status(struct tcpfwd *f, unsigned port, char *why, size_t len)
{
	if (!f->loop)
		return -1;
	if (tcpfwd_find(f, (uint16_t)port))
		return 1;
	for (unsigned i = 0; i < f->nfailed; i++)
		if (f->failed[i].port == port) {
			snprintf(why, len, "cannot listen on port %u: %s", port,
				 strerror(-f->failed[i].err));
			return 0;
		}
	snprintf(why, len, "not listening: a tcp route needs an agent");
	return 0;
}

/* One tcp:// spec: retarget its listener, or open one. */
static void tcpfwd_apply(struct tcpfwd *f, const struct route_spec *s)
{
	struct tcpfwd_target t;
	struct tcpfwd_route **slot;

	if (!s->agent || tcpfwd_target(f, s, &t) < 0) {
		log_warn("not serving %s (%s): tcp routes need an agent and tcp://HOST:PORT",
			 s->name, s->target);
		return;
	}
	slot = tcpfwd_find(f, s->tcp_listen_port);
	if (!slot && (slot = tcpfwd_free_slot(f)))
		*slot = tcpfwd_route_open(f, s->tcp_listen_port);
	if (!slot || !*slot)
		return;
	(*slot)->t = t;
	(*slot)->seen = true;
}

void tcpfwd_sync(struct tcpfwd *f, const struct route_spec *specs, size_t n)
{
	if (!f->loop)
		return;
	for (unsigned i = 0; i < TCPFWD_ROUTES; i++)
		if (f->routes[i])
			f->routes[i]->seen = false;
	f->nfailed = 0;
	for (size_t i = 0; i < n; i++)
		if (specs[i].target && !strncmp(specs[i].target, "tcp://", 6) &&
		    specs[i].tcp_listen_port)
			tcpfwd_apply(f, &specs[i]);
	for (unsigned i = 0; i < TCPFWD_ROUTES; i++)
		if (f->routes[i] && !f->routes[i]->seen) {
			log_info("tcp route on port %u removed", f->routes[i]->port);
			tcpfwd_route_free(f->routes[i]);
			f->routes[i] = NULL;
		}
}

void tcpfwd_start(struct tcpfwd *f, struct loop *loop, const struct hub_config *cfg,
		  struct hub_tunnel_online *online)
{
	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->cfg = cfg;
	f->online = online;
	accept_backoff_init(&f->acc, loop, tcpfwd_watch_listeners, f, "tcp routes");
}

void tcpfwd_stop(struct tcpfwd *f)
{
	if (!f->loop)
		return;
	tcpfwd_sync(f, NULL, 0);
	while (f->conns) {
		struct tcpfwd_conn *c = f->conns;
		if (c->relaying) {
			relay_abort(&c->relay);	/* closes both fds */
			c->cfd = c->afd = -1;
		}
		tcpfwd_conn_free(c);
	}
	accept_backoff_fini(&f->acc);
	f->loop = NULL;
}
