/* cmd.c - subcommand table and dispatch. */
#include "cli/cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/noun.h"
#include "core/version.h"

#define CMD_F_VERB_HELP (1u << 0)	/* answers `VERB --help` itself */

/* `verbs` is the list `postern --help` prints and the CLI test walks:
 * every one must answer `postern NAME VERB --help` with its usage. */
static const struct cmd commands[] = {
	{ "version", cmd_version, NULL, "print the version", NULL, 0 },
	{ "agent", cli_cmd_agent, &cli_noun_agent,
	  "the agent (join a hub, run, serve streams) and admin of agents", "join run serve",
	  CMD_F_VERB_HELP },
	{ "acme", acme_cmd_main, NULL, "ACME client", "issue revoke renewal-info deactivate cert-info",
	  0 },
	{ "hub", cli_cmd_hub, NULL, "run the hub (HTTPS front, control plane); 'hub init' sets one up",
	  "init", CMD_F_VERB_HELP },
	{ "tunnel", cli_cmd_tunnel, NULL, "a standalone WireGuard interface, configured with wg",
	  NULL, 0 },
	{ "route", NULL, &cli_noun_route, "admin: routes", NULL, CMD_F_VERB_HELP },
	{ "cert", NULL, &cli_noun_cert, "admin: certificates", NULL, CMD_F_VERB_HELP },
	{ "dns-provider", NULL, &cli_noun_dns_provider, "admin: DNS-01 provider credentials", NULL,
	  CMD_F_VERB_HELP },
	{ "user", NULL, &cli_noun_user, "admin: users", NULL, CMD_F_VERB_HELP },
	{ "token", NULL, &cli_noun_token, "admin: API tokens", NULL, CMD_F_VERB_HELP },
	{ "route-token", NULL, &cli_noun_route_token,
	  "admin: route tokens, machine credentials of login routes", NULL, 0 },
	{ "share-link", NULL, &cli_noun_share_link,
	  "admin: share links granting one route for a while", NULL, 0 },
	{ "webhook", NULL, &cli_noun_webhook, "admin: webhooks", NULL, CMD_F_VERB_HELP },
	{ "login", NULL, &cli_noun_login, "admin: route login (the identity assertion's key)", NULL,
	  CMD_F_VERB_HELP },
	{ "settings", NULL, &cli_noun_settings, "admin: settings", NULL, CMD_F_VERB_HELP },
	{ "audit", cli_cmd_audit, &cli_noun_audit, "admin: the audit log", NULL, CMD_F_VERB_HELP },
	{ "secrets", cli_cmd_secrets, NULL, "admin: rotate the secrets key", "rotate-key", 0 },
	{ "backup", cli_cmd_backup, NULL, "a consistent copy of the store (online)", NULL, 0 },
	{ "api-endpoints", cli_cmd_api_endpoints, NULL, "list the admin API's endpoints", NULL, 0 },
};

/* The "verbs:" line of command `c`: its own, then its noun's. */
static void cmd_usage_verbs(FILE *f, const struct cmd *c)
{
	const char *sep = "";

	if (!c->verbs && !c->noun)
		return;
	fprintf(f, "  %-13s verbs: ", "");
	if (c->verbs) {
		fputs(c->verbs, f);
		sep = " ";
	}
	for (const struct cli_verb *v = c->noun ? c->noun->verbs : NULL; v && v->name; v++) {
		fprintf(f, "%s%s", sep, v->name);
		sep = " ";
	}
	fputc('\n', f);
}

static void cmd_usage(FILE *f)
{
	fprintf(f, "usage: postern [connection options] <command> [verb] [args...]\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		fprintf(f, "  %-13s %s\n", commands[i].name, commands[i].summary);
		cmd_usage_verbs(f, &commands[i]);
	}
	fprintf(f, "\nRun 'postern <command> [verb] --help' for its options. Connection\n"
		   "options (--socket, --hub, --token, --cacert, --resolve, --json) go\n"
		   "before the command or anywhere after its verb.\n");
}

int cmd_version(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "--help")) {
		printf("usage: postern version (or postern --version)\n");
		return CMD_EXIT_OK;
	}
	printf("postern %s\n", POSTERN_VERSION);
	return CMD_EXIT_OK;
}

static bool cmd_is_help(const char *a)
{
	return !strcmp(a, "--help") || !strcmp(a, "-h");
}

/* Runs command `c` (its function, else its noun) with argv = { NAME, ...
 * }: a command that does not answer `VERB --help` itself gets `NAME
 * --help` when --help is anywhere in its arguments. */
static int cmd_run(const struct cmd *c, int argc, char **argv)
{
	char *help[] = { argv[0], (char *)"--help", NULL };

	for (int i = 1; !(c->flags & CMD_F_VERB_HELP) && i < argc; i++)
		if (cmd_is_help(argv[i])) {
			argc = 2;
			argv = help;
			break;
		}
	return c->fn ? c->fn(argc, argv) : cli_noun_main(c->noun, argc, argv);
}

/* Connection options before the command (`postern --socket S route
 * list`) move behind it, where the admin commands parse them. Returns
 * the argv to run (argv itself when there were none; else a new array
 * the caller frees), NULL on a missing option value. */
static char **cmd_hoist_conn(int argc, char **argv, int *first)
{
	struct cli_conn scratch = { 0 };
	char **out;
	int i = 1, n = 0, r;

	while (i < argc && (r = cli_conn_option(&scratch, argc, argv, &i)) != 0) {
		if (r < 0) {
			fprintf(stderr, "postern: missing value for %s\n", argv[i]);
			return NULL;
		}
		i++;
	}
	*first = i;
	if (i == 1 || i >= argc)
		return argv;
	if (!(out = calloc((size_t)argc + 1, sizeof(*out))))
		return NULL;
	out[n++] = argv[0];
	for (int k = i; k < argc; k++)
		out[n++] = argv[k];
	for (int k = 1; k < i; k++)
		out[n++] = argv[k];
	*first = 1;
	return out;
}

int cmd_dispatch(int argc, char **argv)
{
	char **av;
	int first, st = -1;

	if (!(av = cmd_hoist_conn(argc, argv, &first)))
		return CMD_EXIT_USAGE;
	if (first >= argc) {
		cmd_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (cmd_is_help(av[1]) || !strcmp(av[1], "help")) {
		cmd_usage(stdout);
		st = CMD_EXIT_OK;
	} else if (!strcmp(av[1], "--version")) {
		st = cmd_version(argc - 1, av + 1);
	}
	for (size_t i = 0; st < 0 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(av[1], commands[i].name))
			st = cmd_run(&commands[i], argc - 1, av + 1);
	if (st < 0) {
		fprintf(stderr, "postern: unknown command '%s'\n", av[1]);
		cmd_usage(stderr);
		st = CMD_EXIT_USAGE;
	}
	if (av != argv)
		free(av);
	return st;
}
