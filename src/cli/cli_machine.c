/* cli_machine.c - `postern route-token` and `postern share-link`: the
 * machine credentials of login routes (docs/auth.md). */
#include "cli/noun.h"

static const struct cli_flag route_token_flags[] = {
	{ "route", "route_id", CLI_INT, false, NULL },
};
static const struct cli_column route_token_cols[] = {
	{ "ID", "id", false }, { "NAME", "name", false }, { "ROUTE", "route_id", false },
	{ "HINT", "hint", false }, { "CREATED", "created_at", true },
	{ "BY", "created_by", false }, { "LAST USED", "last_used_at", true },
};
const struct cli_noun cli_noun_route_token = {
	.name = "route-token", .path = "/route-tokens", .create_arg = "name",
	.verbs = cli_verbs_revocable,
	CLI_FLAGS(route_token_flags), CLI_COLS(route_token_cols),
	.usage = "list | get ID | create NAME --route ID | revoke ID",
};

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
const struct cli_noun cli_noun_share_link = {
	.name = "share-link", .path = "/share-links", .create_arg = "name",
	.verbs = cli_verbs_revocable,
	CLI_FLAGS(share_flags), CLI_COLS(share_cols),
	.usage = "list | get ID | create NAME --route ID --expires SECONDS [--max-uses N]\n"
	"       | revoke ID",
};
