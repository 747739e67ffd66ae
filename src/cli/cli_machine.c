/* cli_machine.c - `postern route-token` and `postern share-link`: the
 * machine credentials of login routes (docs/auth.md). */
#include <string.h>

#include "cli/cmd.h"
#include "cli/noun.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* "revoke ID" is the API's DELETE. */
static int machine_verb(struct cli_args *a)
{
	if (!strcmp(a->verb, "revoke"))
		a->verb = "delete";
	return -1;
}

static const struct cli_flag route_token_flags[] = {
	{ "route", "route_id", CLI_INT, false, NULL },
};
static const struct cli_column route_token_cols[] = {
	{ "ID", "id", false }, { "NAME", "name", false }, { "ROUTE", "route_id", false },
	{ "HINT", "hint", false }, { "CREATED", "created_at", true },
	{ "BY", "created_by", false }, { "LAST USED", "last_used_at", true },
};
static const struct cli_noun route_token_noun = {
	"route-token", "/route-tokens", "name", route_token_flags, N(route_token_flags),
	route_token_cols, N(route_token_cols), NULL,
	"list | get ID | create NAME --route ID | revoke ID", machine_verb,
};

int cli_cmd_route_token(int argc, char **argv)
{
	return cli_noun_main(&route_token_noun, argc, argv);
}

static const struct cli_flag share_flags[] = {
	{ "route", "route_id", CLI_INT, false, NULL },
	{ "expires", "expires_in", CLI_INT, false, NULL },
	{ "max-uses", "max_uses", CLI_INT, true, NULL },
};
static const struct cli_column share_cols[] = {
	{ "ID", "id", false }, { "NAME", "name", false }, { "ROUTE", "route_id", false },
	{ "EXPIRES", "expires_at", true }, { "USES", "uses", false },
	{ "MAX", "max_uses", false }, { "BY", "created_by", false },
	{ "LAST USED", "last_used_at", true },
};
static const struct cli_noun share_noun = {
	"share-link", "/share-links", "name", share_flags, N(share_flags), share_cols,
	N(share_cols), NULL,
	"list | get ID | create NAME --route ID --expires SECONDS [--max-uses N]\n"
	"       | revoke ID", machine_verb,
};

int cli_cmd_share_link(int argc, char **argv)
{
	return cli_noun_main(&share_noun, argc, argv);
}
