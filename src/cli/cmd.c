/* cmd.c - subcommand table and dispatch. */
#include "cli/cmd.h"

#include <stdio.h>
#include <string.h>

#include "core/version.h"

static const struct cmd commands[] = {
	{ "version", cmd_version, "print the version" },
	{ "agent", cmd_agent_cli, "the agent: join a hub, run, serve streams; and admin: list, create, ..." },
	{ "acme", cmd_acme, "ACME client: issue, revoke, renewal-info" },
	{ "hub", cmd_hub_cli, "run the hub (HTTPS front, control plane); 'hub init' sets one up" },
	{ "tunnel", cmd_tunnel, "a standalone WireGuard interface, configured with wg" },
	{ "route", cmd_route, "admin: routes (list, create, update, delete)" },
	{ "cert", cmd_cert, "admin: certificates (list, import, request, renew, revoke, delete)" },
	{ "dns-provider", cmd_dns_provider, "admin: DNS-01 provider credentials (list, set, delete)" },
	{ "user", cmd_user, "admin: users (list, create, update, setup-link, passkeys)" },
	{ "token", cmd_token, "admin: API tokens (list, create, revoke)" },
	{ "webhook", cmd_webhook, "admin: webhooks (list, create, test, rotate-secret, deliveries, redeliver)" },
	{ "settings", cmd_settings, "admin: settings (list, get, set, reset)" },
	{ "audit", cmd_audit, "admin: the audit log (list, export, verify)" },
	{ "secrets", cmd_secrets, "admin: rotate the secrets key" },
	{ "backup", cmd_backup, "a consistent copy of the store (online)" },
	{ "api-endpoints", cmd_api_endpoints, "list the admin API's endpoints" },
};

static void cmd_usage(FILE *f)
{
	fprintf(f, "usage: postern <command> [args...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'postern <command> --help' for a command's options.\n");
}

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("postern %s\n", POSTERN_VERSION);
	return CMD_EXIT_OK;
}

int cmd_dispatch(int argc, char **argv)
{
	if (argc < 2) {
		cmd_usage(stderr);
		return CMD_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		cmd_usage(stdout);
		return CMD_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "postern: unknown command '%s'\n", argv[1]);
	cmd_usage(stderr);
	return CMD_EXIT_USAGE;
}
