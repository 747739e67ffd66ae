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

static int dns_verb(struct cli_args *a)
{
	char path[96];
	json_t *set;
	int st;

	if (strcmp(a->verb, "set") && strcmp(a->verb, "delete"))
		return -1;
	if (a->npos != 1 || strlen(a->pos[0]) > 32 || (!strcmp(a->verb, "set") && !a->opt[0]))
		return cli_usage(a->noun, true);
	snprintf(path, sizeof(path), "/dns-providers/%s", a->pos[0]);
	if (!strcmp(a->verb, "delete"))
		return cli_call_print(a, "DELETE", path, NULL, NULL, a->if_match);
	if (!(set = dns_conf_read(a->opt[0])))
		return CMD_EXIT_USAGE;
	json_object_set_new(a->body, "settings", set);
	/* Replacing whatever is set, unless --if-match names a rev. */
	st = cli_call_print(a, "PUT", path, NULL, a->body, a->if_match ? a->if_match : "*");
	return st;
}

static const struct cli_noun dns_noun = {
	"dns-provider", "/dns-providers", NULL, NULL, 0, dns_cols, 3, dns_options,
	"list | set NAME --conf FILE|- | delete NAME\n"
	"       NAME: cloudflare, hetzner, digitalocean, route53, rfc2136; FILE holds\n"
	"       'key = value' lines (docs/acme.md, \"DNS providers\")", dns_verb,
};

int cli_cmd_dns_provider(int argc, char **argv)
{
	return cli_noun_main(&dns_noun, argc, argv);
}
