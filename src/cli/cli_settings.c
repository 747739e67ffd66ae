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

static int settings_verb(struct cli_args *a)
{
	char path[128];
	int want = !strcmp(a->verb, "set") ? 2 : !strcmp(a->verb, "list") ? 0 : 1;

	if (strcmp(a->verb, "list") && strcmp(a->verb, "get") &&
	    strcmp(a->verb, "set") && strcmp(a->verb, "reset"))
		return cli_usage(a->noun, true);
	if (a->npos != want)
		return cli_usage(a->noun, true);
	if (!strcmp(a->verb, "list"))
		return -1;	/* the generic list, with the columns above */
	if (!strcmp(a->verb, "get")) {
		snprintf(path, sizeof(path), "/settings/%s", a->pos[0]);
		return cli_call_print(a, "GET", path, NULL, NULL, NULL);
	}
	return settings_put(a, !strcmp(a->verb, "set") ? settings_value(a->pos[1])
						      : json_null());
}

static const struct cli_noun settings_noun = {
	"settings", "/settings", NULL, NULL, 0, settings_cols,
	sizeof(settings_cols) / sizeof(settings_cols[0]), NULL,
	"list | get KEY | set KEY VALUE | reset KEY", settings_verb,
};

int cli_cmd_settings(int argc, char **argv)
{
	return cli_noun_main(&settings_noun, argc, argv);
}
