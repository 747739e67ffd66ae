/* tunnel.c - the hub's embedded WireGuard device (see tunnel.h). */
#define LOG_SUBSYS "tunnel"
#include "hub/tunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/agent_proto.h"
#include "api/api_tunnel.h"
#include "core/array.h"
#include "core/clock.h"
#include "core/enc.h"
#include "core/log.h"
#include "core/num.h"
#include "core/secure.h"
#include "core/shtext.h"
#include "hub/agent_watch.h"
#include "hub/hub.h"
#include "netstack/tunconf.h"
#include "wg/crypto.h"
#include "wg/tun_iface.h"

#define TUNNEL_TICK_NS NSEC_PER_SEC
/* The hub keeps NAT mappings open from its side too, and a restarted hub
 * reaches agents at their last endpoint at once. */
#define TUNNEL_KEEPALIVE 25

/* What the hub knows of one peer between ticks. */
struct tpeer {
	int64_t id;
	char name[64];
	uint8_t key[32];
	bool online;
	char endpoint[64];		/* as last audited */
	uint32_t slot;
	struct agent_watch watch;	/* agent.online / agent.offline, metrics */
};

/* ---- the online table (shared with workers) ---- */

uint32_t hub_tunnel_slot(struct hub_tunnel_online *o, int64_t agent_id)
{
	for (uint32_t i = 1; i < HUB_TUNNEL_SLOTS; i++) {
		if (o->owner[i] == agent_id)
			return i;
		if (o->owner[i] == 0) {
			o->owner[i] = agent_id;
			atomic_store(&o->handshake[i], 0);
			return i;
		}
	}
	return 0;
}

static bool tunnel_recent(uint64_t hs_ns)
{
	uint64_t now = clock_wall_ns();

	return hs_ns && now >= hs_ns ? now - hs_ns < HUB_TUNNEL_ONLINE_SECS * NSEC_PER_SEC
				     : hs_ns != 0;
}

bool hub_tunnel_slot_online(const struct hub_tunnel_online *o, uint32_t slot)
{
	if (!o || slot == 0 || slot >= HUB_TUNNEL_SLOTS)
		return true;
	return tunnel_recent(atomic_load(&o->handshake[slot]));
}

/* ---- peers ---- */

static void tunnel_endpoint_str(const struct wg_endpoint *ep, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	out[0] = 0;
	if (ep->addr.sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &ep->addr.in4.sin_addr, ip, sizeof(ip));
		snprintf(out, len, "%s:%u", ip, ntohs(ep->addr.in4.sin_port));
	} else if (ep->addr.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &ep->addr.in6.sin6_addr, ip, sizeof(ip));
		snprintf(out, len, "[%s]:%u", ip, ntohs(ep->addr.in6.sin6_port));
	}
}

static int tunnel_allow(struct wg_peer *p, const char *ip)
{
	uint8_t a[16];
	int family = strchr(ip, ':') ? AF_INET6 : AF_INET;

	if (!ip[0])
		return 0;
	if (inet_pton(family, ip, a) != 1)
		return -EINVAL;
	return wg_peer_allowedip_add(p, family, a, family == AF_INET ? 32 : 128);
}

/* "a.b.c.d:port" / "[v6]:port" into ep. Returns 0 or -1. */
static int tunnel_endpoint_parse(const char *s, struct wg_endpoint *ep)
{
	char ip[INET6_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	size_t n;
	uint64_t port;

	memset(ep, 0, sizeof(*ep));
	if (!colon || num_parse_cstr(colon + 1, 1, 65535, &port) < 0)
		return -1;
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = 0;
	if (inet_pton(AF_INET, ip, &ep->addr.in4.sin_addr) == 1) {
		ep->addr.in4.sin_family = AF_INET;
		ep->addr.in4.sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &ep->addr.in6.sin6_addr) == 1) {
		ep->addr.in6.sin6_family = AF_INET6;
		ep->addr.in6.sin6_port = htons((uint16_t)port);
		return 0;
	}
	return -1;
}

/* A peer new to the device: its last known endpoint, and keepalives
 * (which start a handshake there at once). */
static void tunnel_peer_fresh(struct wg_peer *p, const struct api_peer *v)
{
	struct wg_endpoint ep;

	if (v->endpoint[0] && tunnel_endpoint_parse(v->endpoint, &ep) == 0)
		wg_peer_set_endpoint(p, &ep);
	wg_peer_set_keepalive(p, TUNNEL_KEEPALIVE);
}

static struct tpeer *tunnel_find(struct hub_tunnel *tn, const uint8_t key[32])
{
	for (size_t i = 0; i < tn->npeers; i++)
		if (!memcmp(tn->peers[i].key, key, 32))
			return &tn->peers[i];
	return NULL;
}

/* Keeps what the old table knew about peers that stay. */
static void tunnel_carry(struct hub_tunnel *tn, struct tpeer *nv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct tpeer *old = tunnel_find(tn, nv[i].key);
		if (old && old->id == nv[i].id) {
			nv[i].online = old->online;
			nv[i].watch = old->watch;
			memcpy(nv[i].endpoint, old->endpoint, sizeof(nv[i].endpoint));
		}
	}
}

/* Removes device peers the store no longer has. */
static void tunnel_prune(struct hub_tunnel *tn, const struct api_peer *v, size_t n)
{
	struct wg_peer *p = wg_device_peer_first(tn->wg.dev), *next;
	struct wg_peer_status st;

	for (; p; p = next) {
		bool keep = false;
		next = wg_device_peer_next(p);
		wg_peer_get_status(p, &st);
		for (size_t i = 0; i < n && !keep; i++)
			keep = !memcmp(v[i].key, st.public_key, 32);
		if (!keep)
			wg_device_peer_remove(tn->wg.dev, p);
	}
}

void hub_tunnel_sync(struct hub *hub)
{
	struct hub_tunnel *tn = &hub->tunnel;
	struct api_peer *v;
	struct tpeer *nv;
	size_t n;

	if (!tn->up || api_tunnel_peers(tn->api, &v, &n) < 0)
		return;
	nv = calloc(n ? n : 1, sizeof(*nv));
	if (!nv) {
		free(v);
		return;
	}
	tunnel_prune(tn, v, n);
	for (size_t i = 0; i < n; i++) {
		struct wg_peer *p;
		nv[i].id = v[i].id;
		memcpy(nv[i].name, v[i].name, sizeof(nv[i].name));
		memcpy(nv[i].key, v[i].key, 32);
		nv[i].slot = hub_tunnel_slot(&hub->online, v[i].id);
		bool fresh = !wg_device_peer_lookup(tn->wg.dev, v[i].key);
		if (wg_device_peer_add(tn->wg.dev, v[i].key, &p) < 0) {
			log_warn("agent %s: cannot add its peer", v[i].name);
			continue;
		}
		wg_peer_allowedips_clear(p);
		if (tunnel_allow(p, v[i].ipv4) < 0 || tunnel_allow(p, v[i].ipv6) < 0)
			log_warn("agent %s: bad tunnel address", v[i].name);
		if (fresh)
			tunnel_peer_fresh(p, &v[i]);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < tn->nknown; k++)
			if (tn->known[k].id == nv[i].id)
				nv[i].watch.presence = tn->known[k].online ?
					AGENT_PRESENCE_ONLINE : AGENT_PRESENCE_OFFLINE;
	tunnel_carry(tn, nv, n);
	free(tn->known);
	tn->known = NULL;
	tn->nknown = tn->capknown = 0;
	free(tn->peers);
	tn->peers = nv;
	tn->npeers = n;
	secure_wipe(v, n * sizeof(*v));
	free(v);
	log_info("%zu tunnel peers", n);
}

/* ---- events and status ---- */

static void tunnel_audit_peer(struct hub_tunnel *tn, const struct tpeer *tp,
			      const char *action, const char *endpoint)
{
	char obj[48], after[160];

	snprintf(obj, sizeof(obj), "agent:%lld", (long long)tp->id);
	snprintf(after, sizeof(after), "{\"name\":\"%s\",\"endpoint\":\"%s\"}", tp->name,
		 endpoint);
	api_tunnel_audit(tn->api, action, obj, after);
	log_info("agent %s: %s (%s)", tp->name, action, endpoint[0] ? endpoint : "-");
}

/* Online/offline transitions and endpoint changes become audit entries. */
static void tunnel_check(struct hub_tunnel *tn, struct tpeer *tp, struct wg_peer *p)
{
	struct wg_peer_status st;
	char ep[64];
	bool online;

	wg_peer_get_status(p, &st);
	if (tp->slot)
		atomic_store(&tn->hub->online.handshake[tp->slot], st.last_handshake_ns);
	online = tunnel_recent(st.last_handshake_ns);
	tunnel_endpoint_str(&st.endpoint, ep, sizeof(ep));
	if (online && !tp->online)
		tunnel_audit_peer(tn, tp, "tunnel.connect", ep);
	else if (!online && tp->online)
		tunnel_audit_peer(tn, tp, "tunnel.disconnect", tp->endpoint);
	else if (online && strcmp(ep, tp->endpoint)) {
		tunnel_audit_peer(tn, tp, "tunnel.endpoint_change", ep);
		tp->watch.endpoint_changes++;
	}
	if (online && strcmp(ep, tp->endpoint))
		api_tunnel_endpoint(tn->api, tp->id, ep);
	tp->online = online;
	if (online)
		memcpy(tp->endpoint, ep, sizeof(tp->endpoint));
}

/* agent.online / agent.offline after the grace period (agent_watch.h);
 * fills the peer's metrics sample. */
static void tunnel_presence(struct hub_tunnel *tn, struct tpeer *tp, struct wg_peer *p, uint64_t now,
			    uint64_t grace_ns, struct agent_watch_sample *s)
{
	struct wg_peer_status st;
	enum agent_presence tr;

	wg_peer_get_status(p, &st);
	tr = agent_watch_step(&tp->watch, st.last_handshake_ns, st.rx_bytes, now,
			      tn->start_ns, grace_ns);
	if (tr != AGENT_PRESENCE_UNKNOWN)
		tunnel_audit_peer(tn, tp, agent_watch_action(tr), tp->endpoint);
	*s = (struct agent_watch_sample){
		.name = tp->name, .online = tp->watch.presence == AGENT_PRESENCE_ONLINE,
		.hs_ns = st.last_handshake_ns, .now_ns = now, .rx = st.rx_bytes,
		.tx = st.tx_bytes, .endpoint_changes = tp->watch.endpoint_changes,
	};
}

static void tunnel_metrics_publish(struct hub *hub, const struct agent_watch_sample *s,
				   size_t n)
{
	struct buf b;

	buf_init(&b, 4u << 20);
	if (agent_watch_render(&b, s, n) == 0)
		shtext_replace(&hub->tunnel_metrics, &b);
	buf_free(&b);
}

int hub_tunnel_metrics_render(struct hub *hub, struct buf *out)
{
	return hub ? shtext_append_to(&hub->tunnel_metrics, out) : 0;
}

static void tunnel_tick(struct loop_timer *t)
{
	struct hub_tunnel *tn = t->data;
	uint64_t now = clock_wall_ns();
	uint64_t grace = (uint64_t)api_tunnel_offline_grace(tn->api) * NSEC_PER_SEC;
	struct agent_watch_sample *s = calloc(tn->npeers ? tn->npeers : 1, sizeof(*s));
	size_t ns = 0;

	for (size_t i = 0; i < tn->npeers; i++) {
		struct wg_peer *p = wg_device_peer_lookup(tn->wg.dev, tn->peers[i].key);
		if (!p)
			continue;
		tunnel_check(tn, &tn->peers[i], p);
		if (s)
			tunnel_presence(tn, &tn->peers[i], p, now, grace, &s[ns++]);
	}
	if (s)
		tunnel_metrics_publish(tn->hub, s, ns);
	free(s);
	loop_timer_arm(tn->hub->loop, t, TUNNEL_TICK_NS);
}

static void tunnel_known_add(void *ctx, int64_t id, bool online)
{
	struct hub_tunnel *tn = ctx;

	if (array_grow((void **)&tn->known, tn->nknown, &tn->capknown, sizeof(*tn->known)) < 0)
		return;
	tn->known[tn->nknown++] = (struct hub_tunnel_known){ id, online };
}

/* A handshake makes the agent reachable for workers at once; the audit
 * entry follows on the next tick (no store writes inside the device). */
static void tunnel_event(void *ctx, const struct wg_event *ev)
{
	struct hub_tunnel *tn = ctx;
	struct tpeer *tp = tunnel_find(tn, ev->public_key);
	struct wg_peer_status st;

	if (!tp || !tp->slot)
		return;
	if (ev->type == WG_EVENT_HANDSHAKE) {
		wg_peer_get_status(ev->peer, &st);
		atomic_store(&tn->hub->online.handshake[tp->slot], st.last_handshake_ns);
	} else if (ev->type == WG_EVENT_GAVE_UP || ev->type == WG_EVENT_EXPIRED) {
		atomic_store(&tn->hub->online.handshake[tp->slot], 0);
	}
	loop_timer_arm(tn->hub->loop, &tn->tick, 0);
}

static bool tunnel_live(void *ctx, const uint8_t key[32], struct api_agent_live *out)
{
	struct hub_tunnel *tn = ctx;
	struct wg_peer *p = tn->up ? wg_device_peer_lookup(tn->wg.dev, key) : NULL;
	struct wg_peer_status st;

	if (!p)
		return false;
	wg_peer_get_status(p, &st);
	out->online = tunnel_recent(st.last_handshake_ns);
	out->last_handshake_ms = (int64_t)(st.last_handshake_ns / NSEC_PER_MSEC);
	tunnel_endpoint_str(&st.endpoint, out->endpoint, sizeof(out->endpoint));
	out->rx_bytes = st.rx_bytes;
	out->tx_bytes = st.tx_bytes;
	return true;
}

/* ---- setup ---- */

static int tunnel_keygen(uint8_t key[32])
{
	return wg_x25519_generate(key);
}

static int tunnel_key(struct hub_tunnel *tn)
{
	uint8_t priv[32], pub[32];
	char b64[B64_LEN(32)];
	int r;

	if (api_tunnel_private_key(tn->api, priv, tunnel_keygen) < 0)
		return -1;
	r = wg_device_set_private_key(tn->wg.dev, priv);
	secure_wipe(priv, sizeof(priv));
	if (r < 0 || !wg_device_public_key(tn->wg.dev, pub))
		return -1;
	enc_b64std_encode(b64, pub, 32);
	return api_tunnel_record(tn->api, "wireguard.public_key", b64);
}

/* The endpoint agents dial: the config's, else hostname:port. */
static int tunnel_endpoint(struct hub_tunnel *tn, const struct hub_config *cfg)
{
	char ep[320];

	if (cfg->wg.endpoint[0])
		snprintf(ep, sizeof(ep), "%s", cfg->wg.endpoint);
	else if (cfg->set.hostname[0])
		snprintf(ep, sizeof(ep), "%s:%u", cfg->set.hostname, cfg->wg.port);
	else
		return 0;	/* joins answer hub_not_ready until one is set */
	return api_tunnel_record(tn->api, "wireguard.endpoint", ep);
}

/* The hub's addresses: host 1 of each tunnel network. */
static int tunnel_addresses(struct hub_tunnel *tn, const struct hub_config *cfg,
			    struct netstack_conf *nc)
{
	char net[64];

	memset(nc, 0, sizeof(*nc));
	nc->mtu = cfg->wg.mtu;
	api_tunnel_prefix(tn->api, AF_INET, net, sizeof(net));
	nc->has4 = api_tunnel_hub_addr(net, AF_INET, &nc->addr4, &nc->prefix4) == 0;
	api_tunnel_prefix(tn->api, AF_INET6, net, sizeof(net));
	nc->has6 = api_tunnel_hub_addr(net, AF_INET6, &nc->addr6, &nc->prefix6) == 0;
	return tunconf_address(cfg->wg.ifname, nc);
}

/* The agents' API (heartbeats) on the tunnel addresses, bound to the
 * interface so only packets that came through WireGuard reach it. */
static int tunnel_listeners(struct hub *hub, struct netstack_conf *nc)
{
	int fd;

	nc->port = AGENT_HUB_API_PORT;
	if (nc->has4) {
		if ((fd = tunconf_listen(AF_INET, nc, hub->cfg.wg.ifname)) < 0)
			return fd;
		hub->front.agent_fd[0] = fd;
	}
	if (nc->has6) {
		if ((fd = tunconf_listen(AF_INET6, nc, hub->cfg.wg.ifname)) < 0)
			return fd;
		hub->front.agent_fd[1] = fd;
	}
	return 0;
}

static int tunnel_device(struct hub *hub)
{
	const struct hub_wg_conf *w = &hub->cfg.wg;
	struct hub_tunnel *tn = &hub->tunnel;
	struct wg_device_config dc = { .event = tunnel_event, .event_ctx = tn };
	int r;

	if ((r = wg_crypto_init()) < 0)
		return r;
	if ((r = tun_iface_open(&tn->wg, hub->loop, w->ifname, w->mtu, &dc, NULL,
				NULL)) < 0)
		return r;
	wg_device_set_mtu(tn->wg.dev, w->mtu);
	if ((r = wg_device_set_listen_port(tn->wg.dev, w->port)) < 0) {
		log_err("WireGuard UDP port %u: %s", w->port, strerror(-r));
		return r;
	}
	if (w->uapi && (r = uapi_server_start(hub->loop, w->ifname, &wg_device_uapi_ops,
					      tn->wg.dev, &tn->wg.uapi)) < 0)
		log_warn("cannot serve /var/run/wireguard/%s.sock: %s", w->ifname, strerror(-r));
	return 0;
}

static int tunnel_start(struct hub *hub)
{
	struct hub_tunnel *tn = &hub->tunnel;
	struct netstack_conf nc;
	int r;

	if ((r = tunnel_device(hub)) < 0)
		return r;
	if (tunnel_key(tn) < 0 || tunnel_endpoint(tn, &hub->cfg) < 0) {
		log_err("cannot record the hub's WireGuard key or endpoint");
		return -EIO;
	}
	if ((r = tunnel_addresses(tn, &hub->cfg, &nc)) < 0) {
		log_err("cannot address interface %s: %s", hub->cfg.wg.ifname, strerror(-r));
		return r;
	}
	if ((r = tunnel_listeners(hub, &nc)) < 0) {
		log_err("agent API on the tunnel address: %s", strerror(-r));
		return r;
	}
	tn->up = true;
	tn->start_ns = clock_wall_ns();
	if (api_tunnel_presence(tn->api, tunnel_known_add, tn) < 0)
		log_warn("cannot read the agents' last announced presence");
	hub_tunnel_sync(hub);
	loop_timer_init(&tn->tick, tunnel_tick, tn);
	loop_timer_arm(hub->loop, &tn->tick, TUNNEL_TICK_NS);
	api_set_agent_live(tn->api, tunnel_live, tn);
	log_info("WireGuard on UDP %u, interface %s", hub->cfg.wg.port, hub->cfg.wg.ifname);
	return 0;
}

void hub_tunnel_open(struct hub *hub, struct api *api)
{
	struct hub_tunnel *tn = &hub->tunnel;

	hub->front.agent_fd[0] = hub->front.agent_fd[1] = -1;
	if (!api || !hub->cfg.wg.enabled)
		return;
	tn->hub = hub;
	tn->api = api;
	if (tunnel_start(hub) < 0) {
		log_err("the tunnel is off: agents cannot join or connect");
		hub_tunnel_close(hub);
	}
}

void hub_tunnel_close(struct hub *hub)
{
	struct hub_tunnel *tn = &hub->tunnel;

	if (!tn->hub)
		return;
	if (tn->api)
		api_set_agent_live(tn->api, NULL, NULL);
	loop_timer_disarm(hub->loop, &tn->tick);
	for (int i = 0; i < 2; i++)
		if (hub->front.agent_fd[i] >= 0) {
			close(hub->front.agent_fd[i]);
			hub->front.agent_fd[i] = -1;
		}
	tun_iface_close(&tn->wg);
	free(tn->peers);
	free(tn->known);
	shtext_clear(&hub->tunnel_metrics);
	memset(tn, 0, sizeof(*tn));
}
