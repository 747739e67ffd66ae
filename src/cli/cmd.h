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

struct cmd {
	const char *name;
	cmd_fn *fn;
	const char *summary;
	const char *verbs;	/* space-separated, or NULL */
	unsigned flags;		/* CMD_F_* (cmd.c) */
};

int cmd_dispatch(int argc, char **argv);

/* Subcommands (one file each under src/cli/ or their subsystem). */
int cmd_version(int argc, char **argv);
int cli_cmd_hub(int argc, char **argv);	/* `hub init`, else hub_cmd_main (cli_hub_init.c) */
int cli_cmd_tunnel(int argc, char **argv);	/* src/cli/tunnel.c */
/* The admin CLI (src/cli/): `postern NOUN VERB` over the admin API. */
int cli_cmd_agent(int argc, char **argv);	/* admin verbs, else cmd_agent */
int cli_cmd_route(int argc, char **argv);
int cli_cmd_cert(int argc, char **argv);
int cli_cmd_dns_provider(int argc, char **argv);	/* src/cli/cli_dns.c */
int cli_cmd_user(int argc, char **argv);
int cli_cmd_token(int argc, char **argv);
int cli_cmd_route_token(int argc, char **argv);	/* cli_machine.c */
int cli_cmd_share_link(int argc, char **argv);
int cli_cmd_settings(int argc, char **argv);
int cli_cmd_login(int argc, char **argv);	/* src/cli/cli_login.c */
int cli_cmd_webhook(int argc, char **argv);	/* src/cli/cli_webhook.c */
int cli_cmd_audit(int argc, char **argv);
int cli_cmd_secrets(int argc, char **argv);
int cli_cmd_backup(int argc, char **argv);
int cli_cmd_api_endpoints(int argc, char **argv);

#endif
