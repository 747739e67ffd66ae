/* nouns.c - the admin CLI's resources: route, agent, cert, user, token. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/noun.h"
#include "core/num.h"

static const struct cli_flag route_flags[] = {
	{ "host", "host", CLI_STR, false, NULL },
	{ "path", "path_prefix", CLI_STR, false, NULL },
	{ "target", "target", CLI_STR, false, NULL },
	{ "agent", "agent_id", CLI_INT, true, "/agents" },
	{ "strip-prefix", "strip_prefix", CLI_BOOL, false, NULL },
	{ "redirect-https", "redirect_https", CLI_BOOL, false, NULL },
	{ "hsts", "hsts_max_age", CLI_INT, false, NULL },
	{ "tls-verify", "tls_verify", CLI_BOOL, false, NULL },
	{ "tls-server-name", "tls_server_name", CLI_STR, true, NULL },
	{ "tcp-port", "tcp_listen_port", CLI_INT, true, NULL },
	{ "policy", "policy", CLI_STR, true, NULL },
};
static const struct cli_column route_cols[] = {
	{ "ID", "id", false }, { "HOST", "host", false }, { "PATH", "path_prefix", false },
	{ "TARGET", "target", false }, { "AGENT", "agent_id", false },
	{ "STATUS", "target_status", false },
};
static const struct cli_verb route_verbs[] = {
	CLI_VERB("list"), CLI_VERB("get"), CLI_VERB("create"), CLI_VERB("update"),
	CLI_VERB("delete"), CLI_VERBS_END,
};
const struct cli_noun cli_noun_route = {
	.name = "route", .path = "/routes", .verbs = route_verbs,
	CLI_FLAGS(route_flags), CLI_COLS(route_cols),
	.usage = "list | get ID | create --host H --target URL [--path P] [--agent ID|NAME]\n"
	"       [--[no-]strip-prefix] [--[no-]redirect-https] [--hsts SECONDS]\n"
	"       [--[no-]tls-verify] [--tls-server-name N] [--tcp-port N]\n"
	"       [--policy JSON] | update ID [same options] | delete ID",
};

/* request: names from the arguments and --names, order options from
 * the flags. */
static int cert_request(struct cli_args *a)
{
	json_t *names = json_array();
	char list[2048], *save = NULL;

	for (int i = 0; i < a->npos; i++)
		json_array_append_new(names, json_string(a->pos[i]));
	snprintf(list, sizeof(list), "%s", a->opt[0] ? a->opt[0] : "");
	for (char *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		json_array_append_new(names, json_string(t));
	if (!json_array_size(names)) {
		json_decref(names);
		return cli_usage(a->noun, true);
	}
	json_object_set_new(a->body, "names", names);
	return cli_call_print(a, "POST", "/certificates/request", NULL, a->body, NULL);
}

/* renew ID, revoke ID [--reason N]. */
static int cert_action(struct cli_args *a)
{
	json_t *body = NULL;
	char path[96];
	uint64_t reason;
	int st = cli_obj_path(a, a->verb, path, sizeof(path));

	if (st)
		return st;
	if (!strcmp(a->verb, "revoke")) {
		body = json_object();
		if (a->opt[1] && num_parse_cstr(a->opt[1], 0, 10, &reason) < 0) {
			json_decref(body);
			fprintf(stderr, "postern cert revoke: --reason is 0..10\n");
			return CMD_EXIT_USAGE;
		}
		if (a->opt[1])
			json_object_set_new(body, "reason", json_integer((json_int_t)reason));
	}
	st = cli_call_print(a, "POST", path, NULL, body, NULL);
	json_decref(body);
	return st;
}

static const struct cli_flag cert_flags[] = {
	{ "name", "name", CLI_STR, false, NULL },
	{ "cert", "cert_pem", CLI_FILE, false, NULL },
	{ "key", "key_pem", CLI_FILE, false, NULL },
	{ "challenge", "challenge", CLI_STR, false, NULL },
	{ "key-type", "key_type", CLI_STR, false, NULL },
	{ "dns-provider", "dns_provider", CLI_STR, false, NULL },
};
static const struct cli_column cert_cols[] = {
	{ "ID", "id", false }, { "NAME", "name", false }, { "NAMES", "names", false },
	{ "ISSUER", "issuer", false }, { "NOT AFTER", "not_after", true },
	{ "STATUS", "status", false }, { "SOURCE", "source", false },
};
static const char *const cert_options[] = { "names", "reason", NULL };

/* import is the generic add, replace the generic update. */
static const struct cli_verb cert_verbs[] = {
	CLI_VERB("list"), CLI_VERB("get"), CLI_VERB_AS("import", "add"),
	CLI_VERB_FN("request", cert_request), CLI_VERB_FN("renew", cert_action),
	CLI_VERB_FN("revoke", cert_action), CLI_VERB_AS("replace", "update"),
	CLI_VERB("delete"), CLI_VERBS_END,
};
const struct cli_noun cli_noun_cert = {
	.name = "cert", .path = "/certificates", .create_arg = "name", .verbs = cert_verbs,
	CLI_FLAGS(cert_flags), CLI_COLS(cert_cols), .options = cert_options,
	.usage = "list | get ID | import NAME --cert FILE --key FILE\n"
	"       | request DNSNAME... [--names \"A B\"] [--name NAME]\n"
	"         [--challenge http-01|tls-alpn-01|dns-01] [--key-type ec256|rsa2048|rsa3072]\n"
	"         [--dns-provider P]\n"
	"       | renew ID | revoke ID [--reason N] | replace ID --cert FILE --key FILE\n"
	"       | delete ID",
};

static const struct cli_flag user_flags[] = {
	{ "role", "role", CLI_STR, false, NULL },
	{ "password-stdin", "password", CLI_STDIN, false, NULL },
	{ "disabled", "disabled", CLI_BOOL, false, NULL },
	{ "groups", "groups", CLI_STR, false, NULL },
	{ "email", "email", CLI_STR, false, NULL },
	{ "require-passkey", "require_passkey", CLI_BOOL, false, NULL },
};
static const struct cli_column user_cols[] = {
	{ "ID", "id", false }, { "NAME", "name", false }, { "ROLE", "role", false },
	{ "GROUPS", "groups", false }, { "DISABLED", "disabled", false },
	{ "PASSWORD", "has_password", false },
};

/* setup-link ID (POST /users/ID/setup-link), passkeys ID (GET
 * /users/ID/passkeys). */
static int user_sub(struct cli_args *a)
{
	char path[64];
	int st = cli_obj_path(a, a->verb, path, sizeof(path));

	if (st)
		return st;
	return cli_call_print(a, strcmp(a->verb, "passkeys") ? "POST" : "GET", path, NULL, NULL,
			      NULL);
}

/* passkey-remove ID: DELETE /passkeys/ID (the ID is taken as a user's
 * name too, as it always was). */
static int user_passkey_remove(struct cli_args *a)
{
	char path[64];
	long long id;

	if ((id = cli_arg_id(a, 0)) < 0)
		return (int)-id;
	snprintf(path, sizeof(path), "/passkeys/%lld", id);
	return cli_call_print(a, "DELETE", path, NULL, NULL, NULL);
}

static const struct cli_verb user_verbs[] = {
	CLI_VERB("list"), CLI_VERB("get"), CLI_VERB("create"), CLI_VERB("update"),
	CLI_VERB_FN("setup-link", user_sub), CLI_VERB_FN("passkeys", user_sub),
	CLI_VERB_FN("passkey-remove", user_passkey_remove), CLI_VERB("delete"), CLI_VERBS_END,
};
const struct cli_noun cli_noun_user = {
	.name = "user", .path = "/users", .create_arg = "name", .verbs = user_verbs,
	CLI_FLAGS(user_flags), CLI_COLS(user_cols),
	.usage = "list | get ID | create NAME --role admin|operator|viewer\n"
	"       [--password-stdin] [--groups G1,G2] [--email ADDR]\n"
	"       | update ID [--role R] [--password-stdin] [--groups G1,G2]\n"
	"       [--email ADDR] [--[no-]disabled] [--[no-]require-passkey]\n"
	"       | setup-link ID | passkeys ID | passkey-remove PASSKEY_ID | delete ID",
};

static const struct cli_flag token_flags[] = {
	{ "scope", "scope", CLI_STR, false, NULL },
	{ "user", "user_id", CLI_INT, false, "/users" },
	{ "expires", "expires_in", CLI_INT, false, NULL },
};
static const struct cli_column token_cols[] = {
	{ "ID", "id", false }, { "NAME", "name", false }, { "SCOPE", "scope", false },
	{ "USER", "user_id", false }, { "HINT", "hint", false },
	{ "EXPIRES", "expires_at", true }, { "LAST USED", "last_used_at", true },
};

const struct cli_noun cli_noun_token = {
	.name = "token", .path = "/tokens", .create_arg = "name", .verbs = cli_verbs_revocable,
	CLI_FLAGS(token_flags), CLI_COLS(token_cols),
	.usage = "list | get ID | create NAME --scope read|write "
	"[--user ID] [--expires SECONDS]\n       | revoke ID",
};
