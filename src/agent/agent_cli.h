/* agent_cli.h - helpers shared by the `postern agent` subcommands. */
#ifndef POSTERN_AGENT_AGENT_CLI_H
#define POSTERN_AGENT_AGENT_CLI_H

#include <stdint.h>
#include <sys/socket.h>

#include "agent/acceptor.h"
#include "agent/allow.h"
#include "core/loop.h"
#include "netstack/netstack.h"
#include "proto/proxy_v2.h"

/* Parses "1.2.3.4:80" or "[fd00::1]:80" (port required, 1-65535).
 * Returns 0 or -EINVAL. */
int agent_cli_parse_hostport(const char *s, union proxy_v2_sa *out);
/* Parses "100.96.0.2/24" or "fd7a::2/64" (prefix optional: full length).
 * Returns 0 or -EINVAL. */
int agent_cli_parse_cidr(const char *s, union proxy_v2_sa *out, unsigned *prefix);
/* A listening TCP socket on addr (SO_REUSEADDR, IPV6_V6ONLY for v6).
 * Returns the fd or -errno. */
int agent_cli_listen(const union proxy_v2_sa *addr);
/* SIGINT/SIGTERM stop `loop` (through a loop_async; signal-safe). */
int agent_cli_stop_on_signals(struct loop *loop);

#define AGENT_LISTEN_MAX ACCEPTOR_LISTEN_MAX

/* Options of `postern agent serve|run`. */
struct agent_opts {
	struct allow allow;
	union proxy_v2_sa listen[AGENT_LISTEN_MAX];
	unsigned nlisten;
	uint64_t connect_timeout_ns;
	enum netstack_mode netstack;
	const char *packet_tun;		/* serve: packets from this TUN */
	struct netstack_conf ns;	/* tunnel addresses */
};

/* Handles the options both commands share ('a' --allow, 't'
 * --connect-timeout, 'n' --netstack, 'A' --address, 'm' --mtu,
 * 'L' --log-level). Returns 0, 1 = not a shared option, -1 = error
 * (message printed). */
int agent_cli_common_opt(int c, const char *arg, struct agent_opts *o);
/* The getopt_long entries of the shared options `run` and `serve` both
 * take (serve adds --address), so the two tables cannot drift apart. */
#define AGENT_CLI_COMMON_LONGS \
	{ "allow", required_argument, NULL, 'a' }, \
	{ "connect-timeout", required_argument, NULL, 't' }, \
	{ "netstack", required_argument, NULL, 'n' }, \
	{ "mtu", required_argument, NULL, 'm' }, \
	{ "log-level", required_argument, NULL, 'L' }
/* "100.96.0.2/24" or "fd7a::2/64" into the netstack addresses.
 * Returns 0 or -1 (message printed). */
int agent_cli_parse_address(const char *arg, struct netstack_conf *c);
/* Never lets the hub make the agent dial its own tunnel addresses. */
void agent_cli_deny_self(struct allow *allow, const struct netstack_conf *c);
/* `postern agent run` (agent_run.c) and `join` (agent_join.c). */
int agent_run_main(int argc, char **argv);
int agent_join_main(int argc, char **argv);

#endif
