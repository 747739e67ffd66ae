/* cmd_agent.c - `postern agent serve|join|run`. */
#define LOG_SUBSYS "agent"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "agent/acceptor.h"
#include "agent/agent_cli.h"
#include "agent/allow.h"
#include "core/exit.h"
#include "agent/agent_cmd.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/num.h"
#include "core/pool.h"
#include "netstack/netstack.h"
#include "wg/tun.h"



/* `serve --packet-tun`: a TUN standing in for the WireGuard device. */
struct bridge {
	struct tun *tun;
	struct pool pool;
	struct loop_io io;
	struct netstack *ns;
};

static void agent_usage(FILE *f)
{
	fprintf(f,
		"usage: postern agent join URL TOKEN [--fingerprint SHA256] [--state FILE]\n"
		"       postern agent run [--state FILE] [--allow ENTRY]... [--netstack MODE]\n"
		"       postern agent serve [options]\n"
		"  Runs the stream acceptor without the tunnel (testing, debugging).\n"
		"  --listen ADDR:PORT      accept hub streams here (repeatable)\n"
		"  --allow ENTRY           allow targets (repeatable; see docs/agent.md)\n"
		"  --connect-timeout DUR   per target address (default 5s)\n"
		"  --netstack MODE         auto, kernel, lwip, tun (with --packet-tun)\n"
		"  --packet-tun NAME       exchange tunnel packets with this TUN instead\n"
		"                          of a WireGuard device (testing)\n"
		"  --address CIDR          the agent's tunnel address (v4 and/or v6)\n"
		"  --mtu N                 tunnel MTU (default 1420)\n"
		"  --log-level LEVEL       debug, info, warn, error\n");
}

int agent_cli_parse_address(const char *arg, struct netstack_conf *c)
{
	union proxy_v2_sa a;
	unsigned prefix;

	if (agent_cli_parse_cidr(arg, &a, &prefix) < 0) {
		fprintf(stderr, "postern agent: bad --address '%s'\n", arg);
		return -1;
	}
	if (a.sa.sa_family == AF_INET) {
		c->has4 = true;
		c->addr4 = a.in4.sin_addr;
		c->prefix4 = prefix;
	} else {
		c->has6 = true;
		c->addr6 = a.in6.sin6_addr;
		c->prefix6 = prefix;
	}
	return 0;
}

/* Options every agent mode shares. Returns 0, 1 = not ours, -1 = error. */
int agent_cli_common_opt(int c, const char *arg, struct agent_opts *o)
{
	char err[200];
	enum log_level lvl;

	switch (c) {
	case 'a':
		if (allow_add(&o->allow, arg, err, sizeof(err)) < 0) {
			fprintf(stderr, "postern agent: --allow %s: %s\n", arg, err);
			return -1;
		}
		return 0;
	case 't':
		if (num_parse_duration(arg, NSEC_PER_MSEC, 600 * NSEC_PER_SEC,
				       &o->connect_timeout_ns) < 0) {
			fprintf(stderr, "postern agent: bad --connect-timeout '%s'\n", arg);
			return -1;
		}
		return 0;
	case 'n':
		if (netstack_mode_parse(arg, &o->netstack) < 0) {
			fprintf(stderr, "postern agent: bad --netstack '%s'\n", arg);
			return -1;
		}
		return 0;
	case 'A':
		return agent_cli_parse_address(arg, &o->ns);
	case 'm': {
		uint64_t mtu;
		if (num_parse_cstr(arg, 1280, PKT_MTU_MAX, &mtu) < 0) {
			fprintf(stderr, "postern agent: bad --mtu '%s'\n", arg);
			return -1;
		}
		o->ns.mtu = (unsigned)mtu;
		return 0;
	}
	case 'L':
		if (log_level_parse(arg, &lvl) < 0) {
			fprintf(stderr, "postern agent: bad --log-level '%s'\n", arg);
			return -1;
		}
		log_set_level(lvl);
		return 0;
	}
	return 1;
}

static int serve_parse(int argc, char **argv, struct agent_opts *o)
{
	static const struct option longs[] = {
		AGENT_CLI_COMMON_LONGS,
		{ "listen", required_argument, NULL, 'l' },
		{ "packet-tun", required_argument, NULL, 'p' },
		{ "address", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		rc = agent_cli_common_opt(c, optarg, o);
		if (rc <= 0) {
			if (rc < 0)
				return -1;
			continue;
		}
		if (c == 'l' && o->nlisten < AGENT_LISTEN_MAX &&
		    agent_cli_parse_hostport(optarg, &o->listen[o->nlisten]) == 0) {
			o->nlisten++;
			continue;
		}
		if (c == 'p') {
			o->packet_tun = optarg;
			continue;
		}
		if (c == 'h') {
			agent_usage(stdout);
			return 1;
		}
		if (c == 'l')
			fprintf(stderr, "postern agent: bad --listen '%s'\n", optarg);
		agent_usage(stderr);
		return -1;
	}
	if (optind != argc || (o->nlisten == 0 && !o->packet_tun) ||
	    (o->packet_tun && !o->ns.has4 && !o->ns.has6)) {
		agent_usage(stderr);
		return -1;
	}
	o->ns.port = AGENT_STREAM_PORT;
	if (!o->ns.mtu)
		o->ns.mtu = 1420;
	return 0;
}

static void bridge_output(void *ctx, struct pkt_batch *b)
{
	struct bridge *br = ctx;

	tun_write_batch(br->tun, b);
	for (unsigned i = 0; i < b->n; i++)
		pool_put(&br->pool, b->p[i]);
	b->n = 0;
}

static void bridge_read(struct loop_io *io, uint32_t events)
{
	struct bridge *br = io->data;
	struct pkt_batch b = { .n = 0 };

	(void)events;
	if (tun_read_batch(br->tun, &br->pool, &b) > 0)
		netstack_input(br->ns, &b);
	for (unsigned i = 0; i < b.n; i++)
		pool_put(&br->pool, b.p[i]);
}

void agent_cli_deny_self(struct allow *allow, const struct netstack_conf *c)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_addr = c->addr4 };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_addr = c->addr6 };

	if (c->has4)
		allow_deny_add(allow, (struct sockaddr *)&s4);
	if (c->has6)
		allow_deny_add(allow, (struct sockaddr *)&s6);
}

static int bridge_open(struct bridge *br, const struct agent_opts *o,
		       struct loop *loop, struct acceptor *acc)
{
	int rc;

	memset(br, 0, sizeof(*br));
	rc = pool_init(&br->pool, PKT_SIZE, 2 * PKT_BATCH, 16 * PKT_BATCH);
	if (rc == 0)
		rc = tun_open_flags(o->packet_tun, 0, TUN_OPEN_NO_OFFLOAD, &br->tun);
	if (rc < 0) {
		log_err("--packet-tun %s: %s", o->packet_tun, strerror(-rc));
		return rc;
	}
	struct netstack_accept na = acceptor_netstack(acc);

	rc = netstack_open(o->netstack, loop, &o->ns, &na, &br->pool,
			   bridge_output, br, &br->ns);
	if (rc < 0) {
		log_err("netstack %s: %s", netstack_mode_name(o->netstack), strerror(-rc));
		return rc;
	}
	return loop_io_add(loop, &br->io, tun_fd(br->tun), LOOP_READ, bridge_read, br);
}

static void bridge_close(struct bridge *br, struct loop *loop)
{
	loop_io_del(loop, &br->io);
	if (br->ns)
		netstack_close(br->ns);
	if (br->tun)
		tun_close(br->tun);
	pool_destroy(&br->pool);
}

static int agent_serve(int argc, char **argv)
{
	struct agent_opts o;
	struct acceptor acc;
	struct bridge br;
	struct loop *loop;
	int rc, status = CMD_EXIT_FAIL;

	memset(&o, 0, sizeof(o));
	allow_init(&o.allow);
	rc = serve_parse(argc, argv, &o);
	if (rc != 0) {
		allow_free(&o.allow);
		return rc > 0 ? CMD_EXIT_OK : CMD_EXIT_USAGE;
	}
	if (o.allow.n == 0)
		log_warn("no --allow entries: every target will be refused");
	agent_cli_deny_self(&o.allow, &o.ns);
	memset(&br, 0, sizeof(br));
	loop = loop_new();
	if (!loop || acceptor_init(&acc, loop, &o.allow) < 0) {
		log_err("cannot start the acceptor");
		goto out;
	}
	if (o.connect_timeout_ns)
		acc.connect_timeout_ns = o.connect_timeout_ns;
	for (unsigned i = 0; i < o.nlisten; i++) {
		int fd = agent_cli_listen(&o.listen[i]);
		if (fd < 0 || acceptor_listen_fd(&acc, fd) < 0) {
			log_err("--listen %u: %s", i + 1, strerror(fd < 0 ? -fd : EINVAL));
			goto fini;
		}
	}
	if (o.packet_tun && bridge_open(&br, &o, loop, &acc) < 0)
		goto fini;
	if (agent_cli_stop_on_signals(loop) < 0)
		goto fini;
	log_info("stream acceptor ready (%zu allow entries)", o.allow.n);
	status = loop_run(loop) < 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
fini:
	bridge_close(&br, loop);
	acceptor_fini(&acc);
out:
	if (loop)
		loop_free(loop);
	allow_free(&o.allow);
	return status;
}

int cmd_agent(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "serve"))
		return agent_serve(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return agent_run_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "join"))
		return agent_join_main(argc - 1, argv + 1);
	agent_usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
	return argc >= 2 && !strcmp(argv[1], "--help") ? CMD_EXIT_OK : CMD_EXIT_USAGE;
}
