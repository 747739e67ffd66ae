/* agent_cli.h - helpers shared by the `postern agent` subcommands. */
#ifndef POSTERN_AGENT_AGENT_CLI_H
#define POSTERN_AGENT_AGENT_CLI_H

#include <stdint.h>
#include <sys/socket.h>

#include "core/loop.h"
#include "proxy/proxy_v2.h"

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

#endif
