/* cli_agent.c - `postern agent list|get|create|update|delete|token`: the
 * admin side of agents. Other verbs (join, run, serve) are the agent's. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cli/cmd.h"
#include "cli/noun.h"

static const struct cli_flag agent_flags[] = {
	{ "public-key", "public_key", CLI_STR, true, NULL },
	{ "ipv4", "tunnel_ipv4", CLI_STR, true, NULL },
	{ "ipv6", "tunnel_ipv6", CLI_STR, true, NULL },
	{ "status", "status", CLI_STR, false, NULL },
	{ "kind", "kind", CLI_STR, false, NULL },
};
static const struct cli_column agent_cols[] = {
	{ "ID", "id", false }, { "NAME", "name", false }, { "STATUS", "status", false },
	{ "IPV4", "tunnel_ipv4", false }, { "IPV6", "tunnel_ipv6", false },
	{ "ONLINE", "online", false }, { "ENDPOINT", "endpoint", false },
	{ "HANDSHAKE", "last_handshake_at", true }, { "VERSION", "version", false },
	{ "LAST SEEN", "last_seen_at", true },
};
static const char *const agent_options[] = { "ttl", NULL };

/* --ttl as seconds within the API's bounds (0 when not given). Returns 0,
 * or -1 after saying what is wrong: checked before anything is created. */
static int agent_ttl(struct cli_args *a, uint64_t *ttl)
{
	return cli_opt_num(a, 0, "ttl", API_JOIN_TTL_MIN, API_JOIN_TTL_MAX, 0, ttl);
}

/* A join token for agent `id` ({"ttl": N} when --ttl was given; `ttl`
 * already checked by agent_ttl). */
static int agent_join_token(struct cli_args *a, long long id, uint64_t ttl,
			    struct cli_resp *r)
{
	json_t *body = json_object();
	char path[64];
	int rc;

	if (ttl)
		json_object_set_new(body, "ttl", json_integer((json_int_t)ttl));
	snprintf(path, sizeof(path), "/agents/%lld/join-tokens", id);
	rc = cli_request(&a->conn, "POST", path, NULL, body, NULL, r);
	json_decref(body);
	return rc;
}

/* The join command first (what the user came for), then the token's
 * lifetime. */
static void agent_print_command(const json_t *join)
{
	char when[64];

	cli_cell(json_object_get(join, "expires_at"), true, when, sizeof(when));
	printf("on the agent's machine, run:\n  %s\n(its join token is shown "
	       "only this once and is valid until %s)\n",
	       json_string_value(json_object_get(join, "command")), when);
}

static int agent_print_join(struct cli_args *a, int rc, struct cli_resp *r)
{
	int st = cli_exit_status(rc, r);

	if (st != CMD_EXIT_OK)
		cli_print_error(rc, r);
	else if (a->conn.json)
		cli_print_object(a, r->json);
	else
		agent_print_command(r->json);
	cli_resp_free(r);
	return st;
}

/* An agentless node's keys and wg-quick file (POST .../wireguard-config):
 * the file goes to stdout alone, so `> node.conf` keeps it. */
static void agent_wg_file(const json_t *o, const void *arg)
{
	(void)arg;
	fputs(json_string_value(json_object_get(o, "config")) ?: "", stdout);
}

static int agent_wg_config(struct cli_args *a, long long id)
{
	char path[64];

	snprintf(path, sizeof(path), "/agents/%lld/wireguard-config", id);
	return cli_call_show(a, "POST", path, NULL, agent_wg_file, NULL);
}

/* The few fields a new agent is known by (`postern agent get` shows
 * the rest), as "key: value" lines. */
static void agent_print_brief(const json_t *agent)
{
	static const char *const keys[] = { "id", "name", "status", "tunnel_ipv4",
					    "tunnel_ipv6", NULL };
	char cell[128];

	for (int i = 0; keys[i]; i++) {
		cli_cell(json_object_get(agent, keys[i]), false, cell, sizeof(cell));
		printf("%s: %s\n", keys[i], cell);
	}
}

/* create: the agent, then its first join token; with --json one object
 * {"agent": ..., "join": ...} so that scripts can parse it. */
static int agent_create(struct cli_args *a)
{
	struct cli_resp r, j;
	json_t *both;
	long long id;
	uint64_t ttl;
	int rc, st;

	if (a->npos < 1) {
		fprintf(stderr, "postern agent create: give the agent's NAME\n");
		return CMD_EXIT_USAGE;
	}
	if (agent_ttl(a, &ttl) < 0)
		return CMD_EXIT_USAGE;
	json_object_set_new(a->body, "name", json_string(a->pos[0]));
	rc = cli_request(&a->conn, "POST", "/agents", NULL, a->body, NULL, &r);
	if ((st = cli_exit_status(rc, &r)) != CMD_EXIT_OK) {
		cli_print_error(rc, &r);
		cli_resp_free(&r);
		return st;
	}
	id = (long long)json_integer_value(json_object_get(r.json, "id"));
	if (!strcmp(json_string_value(json_object_get(r.json, "kind")) ?: "", "wireguard")) {
		cli_resp_free(&r);
		return agent_wg_config(a, id);
	}
	rc = agent_join_token(a, id, ttl, &j);
	if (a->conn.json && cli_exit_status(rc, &j) == CMD_EXIT_OK) {
		both = json_pack("{s:O,s:O}", "agent", r.json, "join", j.json);
		cli_print_object(a, both);
		json_decref(both);
		cli_resp_free(&r);
		cli_resp_free(&j);
		return CMD_EXIT_OK;
	}
	if ((st = cli_exit_status(rc, &j)) != CMD_EXIT_OK) {
		agent_print_brief(r.json);	/* it exists: `agent token` retries */
		cli_print_error(rc, &j);
	} else {
		agent_print_command(j.json);
		printf("\n");
		agent_print_brief(r.json);
	}
	cli_resp_free(&r);
	cli_resp_free(&j);
	return st;
}

/* Tables for `agent get`: the tunnel's view, the heartbeat's targets. */
static const struct cli_column agent_health_cols[] = {
	{ "ONLINE", "online", false }, { "LAST HANDSHAKE", "last_handshake_at", true },
	{ "ENDPOINT", "endpoint", false }, { "RX BYTES", "rx_bytes", false },
	{ "TX BYTES", "tx_bytes", false }, { "VERSION", "version", false },
	{ "LAST SEEN", "last_seen_at", true },
};
static const struct cli_noun agent_health = {
	.name = "agent", CLI_COLS(agent_health_cols),
};
static const struct cli_column agent_target_cols[] = {
	{ "TARGET", "target", false }, { "STATUS", "status", false },
	{ "AGE (S)", "age", false },
};
static const struct cli_noun agent_targets = {
	.name = "agent", CLI_COLS(agent_target_cols),
};

/* get: who the agent is, then its health as tables (the API's JSON with
 * --json). */
static void agent_print(const json_t *o, const void *arg)
{
	const json_t *health = json_object_get(o, "health");
	const json_t *errs = json_object_get(health, "errors");
	json_t *one = json_pack("[O]", o);
	const json_t *v;
	size_t i;

	(void)arg;
	printf("agent %s: id %lld, kind %s, status %s, tunnel %s %s\n\n",
	       json_string_value(json_object_get(o, "name")) ?: "?",
	       (long long)json_integer_value(json_object_get(o, "id")),
	       json_string_value(json_object_get(o, "kind")) ?: "-",
	       json_string_value(json_object_get(o, "status")) ?: "-",
	       json_string_value(json_object_get(o, "tunnel_ipv4")) ?: "-",
	       json_string_value(json_object_get(o, "tunnel_ipv6")) ?: "-");
	cli_print_items(&agent_health, one);
	json_decref(one);
	if (json_array_size(json_object_get(health, "targets"))) {
		printf("\n");
		cli_print_items(&agent_targets, json_object_get(health, "targets"));
	}
	if (json_array_size(errs))
		printf("\nrecent errors:\n");
	json_array_foreach(errs, i, v)
		printf("  %s\n", json_string_value(v) ?: "?");
}

static int agent_get(struct cli_args *a)
{
	char path[64];
	int st = cli_obj_path(a, NULL, path, sizeof(path));

	return st ? st : cli_call_show(a, "GET", path, NULL, agent_print, NULL);
}

/* token ID|NAME [--ttl SECONDS]: a new join token. */
static int agent_token(struct cli_args *a)
{
	struct cli_resp r;
	long long id;
	uint64_t ttl;

	if ((id = cli_arg_id(a, 0)) < 0)
		return (int)-id;
	if (agent_ttl(a, &ttl) < 0)
		return CMD_EXIT_USAGE;
	return agent_print_join(a, agent_join_token(a, id, ttl, &r), &r);
}

/* wireguard-config ID|NAME: new keys and a wg-quick file for a node. */
static int agent_node_config(struct cli_args *a)
{
	char path[64];
	int st = cli_obj_path(a, a->verb, path, sizeof(path));

	return st ? st : cli_call_show(a, "POST", path, NULL, agent_wg_file, NULL);
}

static const struct cli_verb agent_verbs[] = {
	CLI_VERB("list"), CLI_VERB_FN("get", agent_get), CLI_VERB_FN("create", agent_create),
	CLI_VERB("update"), CLI_VERB("delete"), CLI_VERB_FN("token", agent_token),
	CLI_VERB_FN("wireguard-config", agent_node_config), CLI_VERBS_END,
};

const struct cli_noun cli_noun_agent = {
	.name = "agent", .path = "/agents", .create_arg = "name", .verbs = agent_verbs,
	CLI_FLAGS(agent_flags), CLI_COLS(agent_cols), .options = agent_options,
	.usage = "list | get ID|NAME | create NAME [--ttl SECONDS] [--kind wireguard]\n"
	"       | token ID|NAME [--ttl SECONDS]\n"
	"       | wireguard-config ID|NAME (new keys for a node)\n"
	"       | update ID|NAME [--status pending|enrolled|disabled] [--ipv4 A] [--ipv6 A]\n"
	"       | delete ID|NAME (refused while routes use it)\n"
	"(the agent itself: postern agent join|run|serve)",
};

/* The admin verbs are the noun's; join, run and serve the agent's own
 * command. */
int cli_cmd_agent(int argc, char **argv)
{
	char *help[] = { argv[0], (char *)"--help", NULL };

	if (argc >= 2 && !strcmp(argv[1], "show"))
		argv[1] = (char *)"get";
	if (argc >= 2 && cli_noun_has_verb(&cli_noun_agent, argv[1]))
		return cli_noun_main(&cli_noun_agent, argc, argv);
	/* join, run, serve: the agent's own usage covers them all. */
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return cmd_agent(2, help);
	return cmd_agent(argc, argv);
}
