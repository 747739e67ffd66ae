/* cli_settings.c - `postern settings list|get|set|reset`. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/noun.h"

static const struct cli_column settings_cols[] = {
	{ "KEY", "key", false }, { "VALUE", "value", false }, { "SECRET SET", "set", false },
};

/* "42", "true", "null" as JSON; anything else as a string. */
static json_t *settings_value(const char *s)
{
	json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);

	if (v && (json_is_integer(v) || json_is_boolean(v) || json_is_null(v)))
		return v;
	json_decref(v);
	return json_string(s);
}

static int settings_put(struct cli_args *a, json_t *value)
{
	struct cli_resp r;
	char path[128], etag[64];
	json_t *body;
	int rc, st;

	snprintf(path, sizeof(path), "/settings/%s", a->pos[0]);
	rc = cli_request(&a->conn, "GET", path, NULL, NULL, NULL, &r);
	st = cli_exit_status(rc, &r);
	snprintf(etag, sizeof(etag), "%s", a->if_match ? a->if_match : r.etag);
	if (st != CMD_EXIT_OK)
		cli_print_error(rc, &r);
	cli_resp_free(&r);
	if (st != CMD_EXIT_OK) {
		json_decref(value);
		return st;
	}
	body = json_pack("{s:o}", "value", value);
	st = cli_call_print(a, "PUT", path, NULL, body, etag);
	json_decref(body);
	return st;
}

/* list (the generic list, with the columns above), get KEY, set KEY
 * VALUE, reset KEY. */
static int settings_verb(struct cli_args *a)
{
	char path[128];
	int want = !strcmp(a->verb, "set") ? 2 : !strcmp(a->verb, "list") ? 0 : 1;

	if (a->npos != want)
		return cli_usage(a->noun, true);
	if (!strcmp(a->verb, "list"))
		return -1;
	if (!strcmp(a->verb, "get")) {
		snprintf(path, sizeof(path), "/settings/%s", a->pos[0]);
		return cli_call_print(a, "GET", path, NULL, NULL, NULL);
	}
	return settings_put(a, !strcmp(a->verb, "set") ? settings_value(a->pos[1])
						      : json_null());
}

static const struct cli_verb settings_verbs[] = {
	CLI_VERB_FN("list", settings_verb), CLI_VERB_FN("get", settings_verb),
	CLI_VERB_FN("set", settings_verb), CLI_VERB_FN("reset", settings_verb), CLI_VERBS_END,
};

const struct cli_noun cli_noun_settings = {
	.name = "settings", .path = "/settings", .verbs = settings_verbs, .own_only = true,
	CLI_COLS(settings_cols),
	.usage = "list | get KEY | set KEY VALUE | reset KEY",
};
