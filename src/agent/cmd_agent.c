/* cmd_agent.c - `postern agent serve|join|run`. */
#define LOG_SUBSYS "agent"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/acceptor.h"
#include "agent/agent_cli.h"
#include "agent/allow.h"
#include "cli/cmd.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/num.h"

#define SERVE_LISTEN_MAX ACCEPTOR_LISTEN_MAX

struct serve_opts {
	struct allow allow;
	union proxy_v2_sa listen[SERVE_LISTEN_MAX];
	unsigned nlisten;
	uint64_t connect_timeout_ns;
};

static void agent_usage(FILE *f)
{
	fprintf(f,
		"usage: postern agent serve [options]\n"
		"  Runs the stream acceptor without the tunnel (testing, debugging).\n"
		"  --listen ADDR:PORT      accept hub streams here (repeatable)\n"
		"  --allow ENTRY           allow targets (repeatable; see docs/agent.md)\n"
		"  --connect-timeout DUR   per target address (default 5s)\n"
		"  --log-level LEVEL       debug, info, warn, error\n");
}

/* Options every agent mode shares. Returns 0, 1 = not ours, -1 = error. */
static int agent_common_opt(int c, const char *arg, struct serve_opts *o)
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

static int serve_parse(int argc, char **argv, struct serve_opts *o)
{
	static const struct option longs[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "allow", required_argument, NULL, 'a' },
		{ "connect-timeout", required_argument, NULL, 't' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		rc = agent_common_opt(c, optarg, o);
		if (rc <= 0) {
			if (rc < 0)
				return -1;
			continue;
		}
		if (c == 'l' && o->nlisten < SERVE_LISTEN_MAX &&
		    agent_cli_parse_hostport(optarg, &o->listen[o->nlisten]) == 0) {
			o->nlisten++;
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
	if (optind != argc || o->nlisten == 0) {
		agent_usage(stderr);
		return -1;
	}
	return 0;
}

static int agent_serve(int argc, char **argv)
{
	struct serve_opts o;
	struct acceptor acc;
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
	if (agent_cli_stop_on_signals(loop) < 0)
		goto fini;
	log_info("stream acceptor ready (%zu allow entries)", o.allow.n);
	status = loop_run(loop) < 0 ? CMD_EXIT_FAIL : CMD_EXIT_OK;
fini:
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
	agent_usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
	return argc >= 2 && !strcmp(argv[1], "--help") ? CMD_EXIT_OK : CMD_EXIT_USAGE;
}
