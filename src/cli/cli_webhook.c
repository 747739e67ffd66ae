/* cli_webhook.c - `postern webhook ...`: webhooks, test sends, secret
 * rotation, deliveries and redelivery. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/noun.h"

static const struct cli_flag webhook_flags[] = {
	{ "url", "url", CLI_STR, false, NULL },
	{ "format", "format", CLI_STR, false, NULL },
	{ "events", "events", CLI_STR, false, NULL },
	{ "enabled", "enabled", CLI_BOOL, false, NULL },
	{ "allow-private", "allow_private", CLI_BOOL, false, NULL },
};
static const struct cli_column webhook_cols[] = {
	{ "ID", "id", false }, { "NAME", "name", false }, { "FORMAT", "format", false },
	{ "EVENTS", "events", false }, { "ENABLED", "enabled", false },
	{ "DISABLED BECAUSE", "disabled_reason", false },
};
static const struct cli_column delivery_cols[] = {
	{ "ID", "id", false }, { "SEQ", "seq", false }, { "STATE", "state", false },
	{ "ATTEMPTS", "attempts", false }, { "NEXT", "next_at", true },
	{ "CREATED", "created_at", true }, { "DONE", "done_at", true },
};
/* opt[]: --overlap, --limit */
enum { OPT_OVERLAP, OPT_LIMIT };
static const char *const webhook_options[] = { "overlap", "limit", NULL };

static const struct cli_noun delivery_noun = {
	.name = "webhook", CLI_COLS(delivery_cols),
};

/* deliveries ID [--limit N]: the newest deliveries with their attempts
 * (the attempts in --json). */
static void webhook_print_deliveries(const json_t *o, const void *arg)
{
	cli_print_items(arg, json_object_get(o, "items"));
}

static int webhook_deliveries(struct cli_args *a)
{
	char path[96], query[32];
	uint64_t limit;
	int st = cli_obj_path(a, a->verb, path, sizeof(path));

	if (st)
		return st;
	if (cli_opt_num(a, OPT_LIMIT, "limit", 1, 500, 20, &limit) < 0)
		return CMD_EXIT_USAGE;
	snprintf(query, sizeof(query), "limit=%llu", (unsigned long long)limit);
	return cli_call_show(a, "GET", path, query, webhook_print_deliveries, &delivery_noun);
}

/* redeliver DELIVERY-ID: a delivery's numeric ID, not a webhook's. */
static int webhook_redeliver(struct cli_args *a)
{
	char path[96];
	long long id;

	if ((id = cli_arg_num(a, 0)) < 0)
		return (int)-id;
	snprintf(path, sizeof(path), "/webhook-deliveries/%lld/redeliver", id);
	return cli_call_print(a, "POST", path, NULL, NULL, NULL);
}

/* test ID, rotate-secret ID [--overlap SECONDS]: POST /webhooks/ID/VERB. */
static int webhook_action(struct cli_args *a)
{
	char path[96];
	uint64_t overlap;
	json_t *body = NULL;
	int st = cli_obj_path(a, a->verb, path, sizeof(path));

	if (st)
		return st;
	if (!strcmp(a->verb, "rotate-secret")) {
		if (cli_opt_num(a, OPT_OVERLAP, "overlap", 0, 30 * 86400, 86400, &overlap) < 0)
			return CMD_EXIT_USAGE;
		body = json_pack("{s:I}", "overlap", (json_int_t)overlap);
	}
	st = cli_call_print(a, "POST", path, NULL, body, NULL);
	json_decref(body);
	return st;
}

static const struct cli_verb webhook_verbs[] = {
	CLI_VERB("list"), CLI_VERB("get"), CLI_VERB("create"), CLI_VERB("update"),
	CLI_VERB("delete"), CLI_VERB_FN("test", webhook_action),
	CLI_VERB_FN("rotate-secret", webhook_action),
	CLI_VERB_FN("deliveries", webhook_deliveries),
	CLI_VERB_FN("redeliver", webhook_redeliver), CLI_VERBS_END,
};

const struct cli_noun cli_noun_webhook = {
	.name = "webhook", .path = "/webhooks", .create_arg = "name", .verbs = webhook_verbs,
	CLI_FLAGS(webhook_flags), CLI_COLS(webhook_cols), .options = webhook_options,
	.usage = "list | get ID | create NAME --url URL [--format json|slack|discord|ntfy]\n"
	"         [--events \"agent.* certificate.failed\"] [--[no-]allow-private]\n"
	"       | update ID [same options] [--[no-]enabled] | delete ID\n"
	"       | test ID | rotate-secret ID [--overlap SECONDS]\n"
	"       | deliveries ID [--limit N] | redeliver DELIVERY-ID",
};
