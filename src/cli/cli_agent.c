/* cli_agent.c - `postern agent list|get|create|update|delete|token`: the
 * admin side of agents. Other verbs (join, run, serve) are the agent's. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cli/cmd.h"
#include "cli/noun.h"

static const struct cli_flag agent_flags[] = {
	{ "public-key", "public_key", CLI_STR, true },
	{ "ipv4", "tunnel_ipv4", CLI_STR, true },
	{ "ipv6", "tunnel_ipv6", CLI_STR, true },
	{ "status", "status", CLI_STR, false },
	{ "kind", "kind", CLI_STR, false },
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

static int agent_print_join(struct cli_args *a, int rc, struct cli_resp *r)
{
	int st = cli_exit_status(rc, r);

	if (st != CMD_EXIT_OK)
		cli_print_error(rc, r);
	else if (a->conn.json)
		cli_print_object(a, r->json);
	else {
		char when[64];
		cli_cell(json_object_get(r->json, "expires_at"), true, when, sizeof(when));
		printf("join token (shown once, valid until %s):\n  %s\n\non the "
		       "agent's machine, run:\n  %s\n", when,
		       json_string_value(json_object_get(r->json, "token")),
		       json_string_value(json_object_get(r->json, "command")));
	}
	cli_resp_free(r);
	return st;
}

/* An agentless node's keys and wg-quick file (POST .../wireguard-config):
 * the file goes to stdout alone, so `> node.conf` keeps it. */
static int agent_wg_config(struct cli_args *a, long long id)
{
	struct cli_resp r;
	char path[64];
	int rc, st;

	snprintf(path, sizeof(path), "/agents/%lld/wireguard-config", id);
	rc = cli_request(&a->conn, "POST", path, NULL, NULL, NULL, &r);
	if ((st = cli_exit_status(rc, &r)) != CMD_EXIT_OK)
		cli_print_error(rc, &r);
	else if (a->conn.json)
		cli_print_object(a, r.json);
	else
		fputs(json_string_value(json_object_get(r.json, "config")), stdout);
	cli_resp_free(&r);
	return st;
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
	cli_print_object(a, r.json);
	cli_resp_free(&r);
	printf("\n");
	return agent_print_join(a, rc, &j);
}

static int agent_verb(struct cli_args *a)
{
	struct cli_resp r;
	long long id;
	uint64_t ttl;

	if (!strcmp(a->verb, "create"))
		return agent_create(a);
	if (strcmp(a->verb, "token") && strcmp(a->verb, "wireguard-config"))
		return -1;
	if ((id = cli_arg_id(a, 0)) < 0)
		return CMD_EXIT_USAGE;
	if (!strcmp(a->verb, "wireguard-config"))
		return agent_wg_config(a, id);
	if (agent_ttl(a, &ttl) < 0)
		return CMD_EXIT_USAGE;
	return agent_print_join(a, agent_join_token(a, id, ttl, &r), &r);
}

static const struct cli_noun agent_noun = {
	"agent", "/agents", "name", agent_flags, sizeof(agent_flags) / sizeof(agent_flags[0]),
	agent_cols, sizeof(agent_cols) / sizeof(agent_cols[0]), agent_options,
	"list | get ID | create NAME [--ttl SECONDS] [--kind wireguard]\n"
	"       | token ID [--ttl SECONDS] | wireguard-config ID (new keys for a node)\n"
	"       | update ID [--status pending|enrolled|disabled] [--ipv4 A] [--ipv6 A]\n"
	"       | delete ID\n(the agent itself: postern agent join|run|serve)", agent_verb,
};

int cli_cmd_agent(int argc, char **argv)
{
	static const char *const admin[] = { "list", "get", "create", "update",
					     "delete", "token", "wireguard-config", NULL };

	if (argc >= 2 && !strcmp(argv[1], "show"))
		argv[1] = (char *)"get";

	for (int i = 0; argc >= 2 && admin[i]; i++)
		if (!strcmp(argv[1], admin[i]))
			return cli_noun_main(&agent_noun, argc, argv);
	return cmd_agent(argc, argv);
}
