/* cli_dns.c - `postern dns-provider`: DNS-01 credentials kept (sealed) by
 * the hub. Values are read from a file (or stdin), never from the command
 * line, so they stay out of `ps` and shell history. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/noun.h"
#include "core/conf.h"

static const struct cli_column dns_cols[] = {
	{ "NAME", "name", false }, { "SET", "set", false }, { "KEYS", "keys", false },
};
static const char *const dns_options[] = { "conf", NULL };

/* The settings of a `key = value` file ("-" = stdin) as an object. */
static json_t *dns_conf_read(const char *path)
{
	struct conf cf = { 0 };
	char err[256];
	json_t *o;

	if (conf_load(&cf, !strcmp(path, "-") ? "/dev/stdin" : path, err, sizeof(err))) {
		fprintf(stderr, "postern dns-provider: %s\n", err);
		return NULL;
	}
	o = json_object();
	for (size_t i = 0; i < cf.n; i++)
		json_object_set_new(o, cf.v[i].key, json_string(cf.v[i].value));
	conf_free(&cf);
	return o;
}

/* The provider's path from NAME (the one argument), or -1 after the
 * usage. */
static int dns_path(struct cli_args *a, char *path, size_t len)
{
	if (a->npos != 1 || strlen(a->pos[0]) > 32)
		return -1;
	snprintf(path, len, "/dns-providers/%s", a->pos[0]);
	return 0;
}

static int dns_delete(struct cli_args *a)
{
	char path[96];

	if (dns_path(a, path, sizeof(path)) < 0)
		return cli_usage(a->noun, true);
	return cli_call_print(a, "DELETE", path, NULL, NULL, a->if_match);
}

static int dns_set(struct cli_args *a)
{
	char path[96];
	json_t *set;

	if (dns_path(a, path, sizeof(path)) < 0 || !a->opt[0])
		return cli_usage(a->noun, true);
	if (!(set = dns_conf_read(a->opt[0])))
		return CMD_EXIT_USAGE;
	json_object_set_new(a->body, "settings", set);
	/* Replacing whatever is set, unless --if-match names a rev. */
	return cli_call_print(a, "PUT", path, NULL, a->body, a->if_match ? a->if_match : "*");
}

static const struct cli_verb dns_verbs[] = {
	CLI_VERB("list"), CLI_VERB_FN("set", dns_set), CLI_VERB_FN("delete", dns_delete),
	CLI_VERBS_END,
};

const struct cli_noun cli_noun_dns_provider = {
	.name = "dns-provider", .path = "/dns-providers", .verbs = dns_verbs,
	CLI_COLS(dns_cols), .options = dns_options,
	.usage = "list | set NAME --conf FILE|- | delete NAME\n"
	"       NAME: cloudflare, hetzner, digitalocean, route53, rfc2136; FILE holds\n"
	"       'key = value' lines (docs/acme.md, \"DNS providers\")",
};
