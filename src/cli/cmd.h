/* cmd.h - the subcommand table of the `postern` binary.
 *
 * Each subcommand is a function taking its own argv (argv[0] = its name)
 * and returning the process exit status (see CMD_EXIT_*). Scripts rely on
 * these codes, so they are part of the interface. */
#ifndef POSTERN_CLI_CMD_H
#define POSTERN_CLI_CMD_H

#include <stdbool.h>

#include "core/exit.h"
#include "acme/acme_cmd.h"
#include "agent/agent_cmd.h"
#include "hub/hub_cmd.h"

typedef int cmd_fn(int argc, char **argv);

struct cli_noun;

/* A command is a function or an admin noun (cli/noun.h); with both, the
 * function runs and the noun's verbs are listed after `verbs`. */
struct cmd {
	const char *name;
	cmd_fn *fn;
	const struct cli_noun *noun;
	const char *summary;
	const char *verbs;	/* space-separated, or NULL */
	unsigned flags;		/* CMD_F_* (cmd.c) */
};

int cmd_dispatch(int argc, char **argv);

/* Subcommands (one file each under src/cli/ or their subsystem). */
int cmd_version(int argc, char **argv);
int cli_cmd_hub(int argc, char **argv);	/* `hub init`, else hub_cmd_main (cli_hub_init.c) */
int cli_cmd_tunnel(int argc, char **argv);	/* src/cli/tunnel.c */
/* The admin CLI (src/cli/): `postern NOUN VERB` over the admin API; most
 * nouns are tables (cli/noun.h) that cmd.c runs itself. */
int cli_cmd_agent(int argc, char **argv);	/* admin verbs, else cmd_agent */
int cli_cmd_audit(int argc, char **argv);	/* --jsonl, then the noun */
int cli_cmd_secrets(int argc, char **argv);
int cli_cmd_backup(int argc, char **argv);
int cli_cmd_api_endpoints(int argc, char **argv);

#endif
