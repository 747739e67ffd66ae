/* nouns.c - the admin CLI's resources: route, agent, cert, user, token. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/noun.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct cli_flag route_flags[] = {
	{ "host", "host", CLI_STR, false },
	{ "path", "path_prefix", CLI_STR, false },
	{ "target", "target", CLI_STR, false },
	{ "agent", "agent_id", CLI_INT, true },
	{ "strip-prefix", "strip_prefix", CLI_BOOL, false },
	{ "redirect-https", "redirect_https", CLI_BOOL, false },
	{ "hsts", "hsts_max_age", CLI_INT, false },
	{ "tls-verify", "tls_verify", CLI_BOOL, false },
	{ "tls-server-name", "tls_server_name", CLI_STR, true },
	{ "tcp-port", "tcp_listen_port", CLI_INT, true },
};
static const struct cli_column route_cols[] = {
	{ "ID", "id", false }, { "HOST", "host", false }, { "PATH", "path_prefix", false },
	{ "TARGET", "target", false }, { "AGENT", "agent_id", false },
};
static const struct cli_noun route_noun = {
	"route", "/routes", NULL, route_flags, N(route_flags), route_cols, N(route_cols),
	NULL, "list | get ID | create --host H --target URL [--path P] [--agent ID]\n"
	"       [--[no-]strip-prefix] [--[no-]redirect-https] [--hsts SECONDS]\n"
	"       [--[no-]tls-verify] [--tls-server-name N] [--tcp-port N]\n"
	"       | update ID [same options] | delete ID", NULL,
};

int cmd_route(int argc, char **argv)
{
	return cli_noun_main(&route_noun, argc, argv);
}

static const struct cli_flag cert_flags[] = {
	{ "name", "name", CLI_STR, false },
	{ "cert", "cert_pem", CLI_FILE, false },
	{ "key", "key_pem", CLI_FILE, false },
};
static const struct cli_column cert_cols[] = {
	{ "ID", "id", false }, { "NAME", "name", false }, { "NAMES", "names", false },
	{ "NOT AFTER", "not_after", true }, { "SOURCE", "source", false },
};

static int cert_verb(struct cli_args *a)
{
	if (!strcmp(a->verb, "replace"))
		a->verb = "update";
	return -1;
}

static const struct cli_noun cert_noun = {
	"cert", "/certificates", "name", cert_flags, N(cert_flags), cert_cols,
	N(cert_cols), NULL, "list | get ID | add NAME --cert FILE --key FILE\n"
	"       | replace ID --cert FILE --key FILE | delete ID", cert_verb,
};

int cmd_cert(int argc, char **argv)
{
	return cli_noun_main(&cert_noun, argc, argv);
}

static const struct cli_flag user_flags[] = {
	{ "role", "role", CLI_STR, false },
	{ "password-stdin", "password", CLI_STDIN, false },
	{ "disabled", "disabled", CLI_BOOL, false },
};
static const struct cli_column user_cols[] = {
	{ "ID", "id", false }, { "NAME", "name", false }, { "ROLE", "role", false },
	{ "DISABLED", "disabled", false }, { "PASSWORD", "has_password", false },
};

static int user_verb(struct cli_args *a)
{
	char path[64];
	long long id;

	if (strcmp(a->verb, "setup-link"))
		return -1;
	if ((id = cli_arg_id(a, 0)) < 0)
		return CMD_EXIT_USAGE;
	snprintf(path, sizeof(path), "/users/%lld/setup-link", id);
	return cli_call_print(a, "POST", path, NULL, NULL, NULL);
}

static const struct cli_noun user_noun = {
	"user", "/users", "name", user_flags, N(user_flags), user_cols, N(user_cols),
	NULL, "list | get ID | create NAME --role admin|operator|viewer\n"
	"       [--password-stdin] | update ID [--role R] [--password-stdin]\n"
	"       [--[no-]disabled] | setup-link ID | delete ID", user_verb,
};

int cmd_user(int argc, char **argv)
{
	return cli_noun_main(&user_noun, argc, argv);
}

static const struct cli_flag token_flags[] = {
	{ "scope", "scope", CLI_STR, false },
	{ "user", "user_id", CLI_INT, false },
	{ "expires", "expires_in", CLI_INT, false },
};
static const struct cli_column token_cols[] = {
	{ "ID", "id", false }, { "NAME", "name", false }, { "SCOPE", "scope", false },
	{ "USER", "user_id", false }, { "HINT", "hint", false },
	{ "EXPIRES", "expires_at", true }, { "LAST USED", "last_used_at", true },
};

static int token_verb(struct cli_args *a)
{
	if (!strcmp(a->verb, "revoke"))
		a->verb = "delete";
	return -1;
}

static const struct cli_noun token_noun = {
	"token", "/tokens", "name", token_flags, N(token_flags), token_cols,
	N(token_cols), NULL, "list | get ID | create NAME --scope read|write "
	"[--user ID] [--expires SECONDS]\n       | revoke ID", token_verb,
};

int cmd_token(int argc, char **argv)
{
	return cli_noun_main(&token_noun, argc, argv);
}
