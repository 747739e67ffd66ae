/* agent_run.c - `postern agent run`: the agent daemon.
 *
 * One loop: the embedded WireGuard device (one peer, the hub), the
 * netstack as its inside, the stream acceptor, the heartbeat, and the
 * hub's name re-resolved every AGENT_RERESOLVE_S, and at once (with
 * backoff) whenever a heartbeat fails: the agent is always the one that
 * dials out, so behind CGNAT it must find the hub again by itself.
 * WireGuard's persistent keepalive keeps the NAT mapping open. */
#define LOG_SUBSYS "agent"
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_cli.h"
#include "agent/heartbeat.h"
#include "agent/resolve.h"
#include "agent/state.h"
#include "core/exit.h"
#include "core/clock.h"
#include "core/enc.h"
#include "core/log.h"
#include "core/num.h"
#include "core/pidlock.h"
#include "core/secure.h"
#include "wg/crypto.h"
#include "wg/device.h"

#define AGENT_RERESOLVE_S 300

struct agent {
	struct loop *loop;
	struct agent_opts o;
	struct agent_state st;
	struct acceptor acc;
	bool acc_up;
	struct wg_device *dev;
	struct wg_peer *hub;
	struct netstack *ns;
	struct heartbeat hb;
	struct resolve res;
	bool res_up;
	struct resolve_req *rq;
	struct loop_timer reresolve;
	char ep_host[AGENT_STATE_STR];
	uint16_t ep_port;
	unsigned resolve_fails;
	int lock_fd;		/* the state file, flock-ed while running */
};

static void agent_deliver(void *ctx, struct pkt_batch *b)
{
	struct agent *a = ctx;

	if (a->ns)
		netstack_input(a->ns, b);
}

static void agent_output(void *ctx, struct pkt_batch *b)
{
	struct agent *a = ctx;

	wg_device_send(a->dev, b);
}

static void agent_event(void *ctx, const struct wg_event *ev)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	const struct wg_endpoint *e = ev->endpoint;

	(void)ctx;
	if (e && e->addr.sa.sa_family == AF_INET)
		inet_ntop(AF_INET, &e->addr.in4.sin_addr, ip, sizeof(ip));
	else if (e && e->addr.sa.sa_family == AF_INET6)
		inet_ntop(AF_INET6, &e->addr.in6.sin6_addr, ip, sizeof(ip));
	if (ev->type == WG_EVENT_HANDSHAKE)
		log_info("tunnel to the hub is up (handshake with %s)", ip);
	else if (ev->type == WG_EVENT_GAVE_UP)
		log_info("hub did not answer the handshake; retrying");
}

static void agent_resolved(void *data, int gai_rc, struct addrinfo *res)
{
	struct agent *a = data;
	struct wg_endpoint ep;
	char ip[INET6_ADDRSTRLEN] = "?";
	uint64_t next = AGENT_RERESOLVE_S;

	a->rq = NULL;
	if (gai_rc != 0 || !res) {
		a->resolve_fails++;
		next = a->resolve_fails >= 6 ? 60 : 1u << a->resolve_fails;
		log_warn("resolving the hub %s: %s; retry in %llus", a->ep_host,
			 gai_strerror(gai_rc), (unsigned long long)next);
	} else {
		a->resolve_fails = 0;
		memset(&ep, 0, sizeof(ep));
		memcpy(&ep.addr, res->ai_addr, res->ai_addrlen);
		if (res->ai_family == AF_INET) {
			ep.addr.in4.sin_port = htons(a->ep_port);
			inet_ntop(AF_INET, &ep.addr.in4.sin_addr, ip, sizeof(ip));
		} else {
			ep.addr.in6.sin6_port = htons(a->ep_port);
			inet_ntop(AF_INET6, &ep.addr.in6.sin6_addr, ip, sizeof(ip));
		}
		log_debug("hub %s is %s", a->ep_host, ip);
		wg_peer_set_endpoint(a->hub, &ep);
		freeaddrinfo(res);
	}
	loop_timer_arm(a->loop, &a->reresolve, next * NSEC_PER_SEC);
}

static void agent_resolve_now(struct agent *a)
{
	if (a->rq)
		return;
	a->rq = resolve_start(&a->res, a->ep_host, agent_resolved, a);
	if (!a->rq)
		loop_timer_arm(a->loop, &a->reresolve, 5 * NSEC_PER_SEC);
}

static void agent_reresolve_tick(struct loop_timer *t)
{
	agent_resolve_now(t->data);
}

static void agent_heartbeat_result(void *ctx, bool ok)
{
	struct agent *a = ctx;

	/* The hub may have moved (new address behind the same name). */
	if (!ok)
		agent_resolve_now(a);
}

/* "host:port" / "[v6]:port" of the hub endpoint into ep_host/ep_port. */
static int agent_split_endpoint(struct agent *a)
{
	const char *s = a->st.hub_endpoint, *colon = strrchr(s, ':');
	uint64_t port;
	size_t hl;

	if (!colon || num_parse_cstr(colon + 1, 1, 65535, &port) < 0)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(a->ep_host))
		return -EINVAL;
	memcpy(a->ep_host, s, hl);
	a->ep_host[hl] = '\0';
	a->ep_port = (uint16_t)port;
	return 0;
}

/* The hub peer: key, routes (its tunnel addresses), keepalive. */
static int agent_add_hub(struct agent *a)
{
	struct in_addr h4;
	struct in6_addr h6;
	int rc = wg_device_peer_add(a->dev, a->st.hub_public_key, &a->hub);

	if (rc < 0)
		return rc;
	if (a->st.hub_tunnel_ipv4[0] && inet_pton(AF_INET, a->st.hub_tunnel_ipv4, &h4) == 1)
		rc = wg_peer_allowedip_add(a->hub, AF_INET, &h4, 32);
	if (rc == 0 && a->st.hub_tunnel_ipv6[0] &&
	    inet_pton(AF_INET6, a->st.hub_tunnel_ipv6, &h6) == 1)
		rc = wg_peer_allowedip_add(a->hub, AF_INET6, &h6, 128);
	wg_peer_set_keepalive(a->hub, (uint16_t)a->st.keepalive);
	return rc;
}

static int agent_device(struct agent *a)
{
	static const struct wg_inside_ops inside = { .deliver = agent_deliver };
	struct wg_device_config cfg = {
		.inside = &inside, .inside_ctx = a,
		.event = agent_event, .event_ctx = a,
	};
	int rc = wg_crypto_init();

	if (rc == 0)
		rc = wg_device_new(a->loop, &cfg, &a->dev);
	if (rc == 0)
		rc = wg_device_set_private_key(a->dev, a->st.private_key);
	agent_state_wipe(&a->st);
	if (rc == 0)
		rc = wg_device_set_listen_port(a->dev, 0);
	if (rc == 0)
		wg_device_set_mtu(a->dev, a->o.ns.mtu);
	return rc == 0 ? agent_add_hub(a) : rc;
}

/* The hub's tunnel address and API port, for the heartbeat. */
static int agent_hub_api(const struct agent *a, union proxy_v2_sa *out)
{
	memset(out, 0, sizeof(*out));
	if (a->o.ns.has4 && inet_pton(AF_INET, a->st.hub_tunnel_ipv4, &out->in4.sin_addr) == 1) {
		out->in4.sin_family = AF_INET;
		out->in4.sin_port = htons(AGENT_HUB_API_PORT);
		return 0;
	}
	if (a->o.ns.has6 && inet_pton(AF_INET6, a->st.hub_tunnel_ipv6, &out->in6.sin6_addr) == 1) {
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons(AGENT_HUB_API_PORT);
		return 0;
	}
	return -EINVAL;
}

static int agent_up(struct agent *a)
{
	union proxy_v2_sa api;
	struct netstack_accept na;
	int rc;

	if ((a->st.tunnel_ipv4[0] && agent_cli_parse_address(a->st.tunnel_ipv4, &a->o.ns) < 0) ||
	    (a->st.tunnel_ipv6[0] && agent_cli_parse_address(a->st.tunnel_ipv6, &a->o.ns) < 0) ||
	    agent_split_endpoint(a) < 0 || agent_hub_api(a, &api) < 0) {
		log_err("state file: bad tunnel address or hub endpoint");
		return -EINVAL;
	}
	agent_cli_deny_self(&a->o.allow, &a->o.ns);
	rc = agent_device(a);
	if (rc < 0) {
		log_err("WireGuard device: %s", strerror(-rc));
		return rc;
	}
	rc = acceptor_init(&a->acc, a->loop, &a->o.allow);
	if (rc < 0)
		return rc;
	a->acc_up = true;
	if (a->o.connect_timeout_ns)
		a->acc.connect_timeout_ns = a->o.connect_timeout_ns;
	na = acceptor_netstack(&a->acc);
	rc = netstack_open(a->o.netstack, a->loop, &a->o.ns, &na,
			   wg_device_pool(a->dev), agent_output, a, &a->ns);
	if (rc < 0) {
		log_err("netstack %s: %s", netstack_mode_name(a->o.netstack), strerror(-rc));
		return rc;
	}
	rc = resolve_init(&a->res, a->loop);
	if (rc < 0)
		return rc;
	a->res_up = true;
	loop_timer_init(&a->reresolve, agent_reresolve_tick, a);
	agent_resolve_now(a);
	heartbeat_start(&a->hb, a->loop, a->ns, &a->acc, &api, NSEC_PER_SEC,
			agent_heartbeat_result, a);
	return 0;
}

static void agent_down(struct agent *a)
{
	if (a->res_up) {
		loop_timer_disarm(a->loop, &a->reresolve);
		heartbeat_stop(&a->hb);
		if (a->rq)
			resolve_cancel(&a->res, a->rq);
		resolve_fini(&a->res);
	}
	if (a->acc_up)
		acceptor_fini(&a->acc);
	if (a->ns)
		netstack_close(a->ns);
	if (a->dev)
		wg_device_free(a->dev);
	agent_state_wipe(&a->st);
	allow_free(&a->o.allow);
}

static int run_parse(int argc, char **argv, struct agent_opts *o, const char **state)
{
	static const struct option longs[] = {
		{ "state", required_argument, NULL, 's' },
		AGENT_CLI_COMMON_LONGS,
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 's') {
			*state = optarg;
			continue;
		}
		rc = agent_cli_common_opt(c, optarg, o);
		if (rc != 0) {
			if (rc > 0)
				fprintf(stderr, "usage: postern agent run [--state FILE] "
					"[--allow ENTRY]... [--netstack MODE]\n");
			return -1;
		}
	}
	if (optind != argc)
		return -1;
	if (!o->ns.mtu)
		o->ns.mtu = 1420;
	o->ns.port = AGENT_STREAM_PORT;
	return 0;
}

/* One agent per state file: two would hold the same WireGuard key and
 * take the endpoint from each other at every handshake. The state file
 * itself is locked (opened read-only: its directory need not be writable
 * by the agent's user; only `join` replaces the file). Returns the lock's
 * fd or -1 with err. */
static int agent_run_lock(const char *state, char *err, size_t errlen)
{
	char why[480];
	int fd = pidlock_take(state, false, why, sizeof(why));

	if (fd < 0)
		snprintf(err, errlen, "%s%.400s", errno == EWOULDBLOCK ?
			 "another agent uses this state file: " : "", why);
	return fd;
}

int agent_run_main(int argc, char **argv)
{
	static struct agent a;	/* big (state, options); one per process */
	char path[4096], err[512];
	const char *state = NULL;
	int status = CMD_EXIT_FAIL;

	memset(&a, 0, sizeof(a));
	a.lock_fd = -1;
	allow_init(&a.o.allow);
	if (run_parse(argc, argv, &a.o, &state) < 0) {
		allow_free(&a.o.allow);
		return CMD_EXIT_USAGE;
	}
	if (!state && agent_state_default_path(path, sizeof(path)) == 0)
		state = path;
	if (!state || agent_state_load(state, &a.st, err, sizeof(err)) < 0) {
		fprintf(stderr, "postern agent: %s (run 'postern agent join' first)\n",
			state ? err : "no state file");
		allow_free(&a.o.allow);
		return CMD_EXIT_FAIL;
	}
	if ((a.lock_fd = agent_run_lock(state, err, sizeof(err))) < 0) {
		fprintf(stderr, "postern agent: %s\n", err);
		agent_state_wipe(&a.st);
		allow_free(&a.o.allow);
		return CMD_EXIT_FAIL;
	}
	if (a.o.allow.n == 0)
		log_warn("no --allow entries: every target will be refused");
	a.loop = loop_new();
	if (a.loop && agent_up(&a) == 0 && agent_cli_stop_on_signals(a.loop) == 0) {
		log_info("agent '%s' running; hub %s", a.st.name, a.st.hub_endpoint);
		status = loop_run(a.loop) < 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
	}
	agent_down(&a);
	if (a.loop)
		loop_free(a.loop);
	pidlock_release(a.lock_fd);
	return status;
}
