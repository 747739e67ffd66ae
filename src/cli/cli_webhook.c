/* cli_webhook.c - `postern webhook ...`: webhooks, test sends, secret
 * rotation, deliveries and redelivery. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/noun.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

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
	"webhook", "/webhooks", NULL, NULL, 0, delivery_cols, N(delivery_cols),
	NULL, "", NULL,
};

/* deliveries ID [--limit N]: the newest deliveries with their attempts
 * (the attempts in --json). */
static void webhook_print_deliveries(const json_t *o, const void *arg)
{
	cli_print_items(arg, json_object_get(o, "items"));
}

static int webhook_deliveries(struct cli_args *a, long long id)
{
	char path[96], query[32];
	uint64_t limit;

	if (cli_opt_num(a, OPT_LIMIT, "limit", 1, 500, 20, &limit) < 0)
		return CMD_EXIT_USAGE;
	snprintf(path, sizeof(path), "/webhooks/%lld/deliveries", id);
	snprintf(query, sizeof(query), "limit=%llu", (unsigned long long)limit);
	return cli_call_show(a, "GET", path, query, webhook_print_deliveries, &delivery_noun);
}

static int webhook_verb(struct cli_args *a)
{
	char path[96];
	uint64_t overlap;
	json_t *body;
	long long id;
	int st;

	if (strcmp(a->verb, "test") && strcmp(a->verb, "rotate-secret") &&
	    strcmp(a->verb, "deliveries") && strcmp(a->verb, "redeliver"))
		return -1;
	if ((id = !strcmp(a->verb, "redeliver") ? cli_arg_num(a, 0) : cli_arg_id(a, 0)) < 0)
		return (int)-id;
	if (!strcmp(a->verb, "deliveries"))
		return webhook_deliveries(a, id);
	if (!strcmp(a->verb, "redeliver")) {
		snprintf(path, sizeof(path), "/webhook-deliveries/%lld/redeliver", id);
		return cli_call_print(a, "POST", path, NULL, NULL, NULL);
	}
	snprintf(path, sizeof(path), "/webhooks/%lld/%s", id, a->verb);
	if (!strcmp(a->verb, "test"))
		return cli_call_print(a, "POST", path, NULL, NULL, NULL);
	if (cli_opt_num(a, OPT_OVERLAP, "overlap", 0, 30 * 86400, 86400, &overlap) < 0)
		return CMD_EXIT_USAGE;
	body = json_pack("{s:I}", "overlap", (json_int_t)overlap);
	st = cli_call_print(a, "POST", path, NULL, body, NULL);
	json_decref(body);
	return st;
}

static const struct cli_noun webhook_noun = {
	"webhook", "/webhooks", "name", webhook_flags, N(webhook_flags), webhook_cols,
	N(webhook_cols), webhook_options,
	"list | get ID | create NAME --url URL [--format json|slack|discord|ntfy]\n"
	"         [--events \"agent.* certificate.failed\"] [--[no-]allow-private]\n"
	"       | update ID [same options] [--[no-]enabled] | delete ID\n"
	"       | test ID | rotate-secret ID [--overlap SECONDS]\n"
	"       | deliveries ID [--limit N] | redeliver DELIVERY-ID", webhook_verb,
};

int cli_cmd_webhook(int argc, char **argv)
{
	return cli_noun_main(&webhook_noun, argc, argv);
}
