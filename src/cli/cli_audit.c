/* cli_audit.c - `postern audit list|export|verify`. `verify --data DIR`
 * checks a store directly (read-only; the hub may be running or not),
 * with the public key and head record beside it or given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_verify.h"
#include "cli/cmd.h"
#include "cli/noun.h"
#include "store/store.h"

static const struct cli_column audit_cols[] = {
	{ "SEQ", "seq", false }, { "TIME", "time", true }, { "ACTOR", "actor", false },
	{ "SOURCE", "source", false }, { "ACTION", "action", false },
	{ "OBJECT", "object", false },
};
/* opt[]: --limit, --after, --data, --pubkey (and --head via pos). */
enum { OPT_LIMIT, OPT_AFTER, OPT_DATA, OPT_PUBKEY };
static const char *const audit_options[] = { "limit", "after", "data", "pubkey", NULL };

/* list: one page (--limit, --after); export --jsonl: every entry, one
 * JSON object per line. */
static int audit_list(struct cli_args *a, bool all)
{
	uint64_t after, limit;
	char query[64];
	struct cli_resp r;
	json_t *items, *it, *next;
	size_t i;
	bool more;
	int rc, st;

	if (cli_opt_num(a, OPT_AFTER, "after", 0, INT64_MAX, 0, &after) < 0 ||
	    cli_opt_num(a, OPT_LIMIT, "limit", 1, 500, all ? 500 : 100, &limit) < 0)
		return CMD_EXIT_USAGE;
	do {
		snprintf(query, sizeof(query), "limit=%llu&after=%llu",
			 (unsigned long long)limit, (unsigned long long)after);
		rc = cli_request(&a->conn, "GET", "/audit", query, NULL, NULL, &r);
		if ((st = cli_exit_status(rc, &r)) != CMD_EXIT_OK) {
			cli_print_error(rc, &r);
			cli_resp_free(&r);
			return st;
		}
		items = json_object_get(r.json, "items");
		next = json_object_get(r.json, "next");
		if (all) {
			json_array_foreach(items, i, it) {
				char *line = json_dumps(it, JSON_COMPACT);
				printf("%s\n", line ? line : "{}");
				free(line);
			}
		} else if (a->conn.json) {
			cli_print_object(a, r.json);
		} else {
			cli_print_items(a->noun, items);
		}
		more = json_is_integer(next) && json_integer_value(next) > 0;
		after = more ? (uint64_t)json_integer_value(next) : 0;
		cli_resp_free(&r);
	} while (all && more);
	return CMD_EXIT_OK;
}

/* verify against the store in a data directory, without the hub. */
static int audit_verify_offline(struct cli_args *a)
{
	const char *dir = a->opt[OPT_DATA];
	char db[1024], pub[1024], head[1024], err[512];
	struct audit_verify_result r;
	struct audit_key key;
	struct store s;
	int rc;

	snprintf(db, sizeof(db), "%s/%s", dir, STORE_DB_NAME);
	snprintf(pub, sizeof(pub), "%s", a->opt[OPT_PUBKEY] ? a->opt[OPT_PUBKEY] : "");
	if (!pub[0])
		snprintf(pub, sizeof(pub), "%s/audit.key.pub", dir);
	snprintf(head, sizeof(head), "%s/audit.head", dir);
	if (audit_key_load_public(&key, pub, err, sizeof(err)) < 0 ||
	    store_open(&s, db, STORE_F_READONLY, err, sizeof(err)) < 0) {
		fprintf(stderr, "postern audit verify: %s\n", err);
		audit_key_free(&key);
		return CMD_EXIT_FAIL;
	}
	rc = audit_verify(&s, &key, head, &r);
	store_close(&s);
	if (rc == 0 && a->conn.json) {
		json_t *o = json_pack("{s:b,s:I,s:I,s:I,s:s,s:s}", "ok", r.ok,
			"entries", (json_int_t)r.entries, "signed_seq",
			(json_int_t)r.signed_seq, "bad_seq", (json_int_t)r.bad_seq,
			"message", r.message, "key_fingerprint", key.fingerprint);
		cli_print_object(a, o);
		json_decref(o);
	} else
		printf("%s%s\nkey %s\n", r.ok ? "" : "FAILED: ", r.message, key.fingerprint);
	audit_key_free(&key);
	return rc == 0 && r.ok ? CMD_EXIT_OK : CMD_EXIT_FAIL;
}

static int audit_verify_api(struct cli_args *a)
{
	struct cli_resp r;
	int rc = cli_request(&a->conn, "GET", "/audit/verify", NULL, NULL, NULL, &r);
	int st = cli_exit_status(rc, &r);
	bool ok = json_is_true(json_object_get(r.json, "ok"));

	if (st != CMD_EXIT_OK)
		cli_print_error(rc, &r);
	else if (a->conn.json)
		cli_print_object(a, r.json);
	else
		printf("%s%s\nkey %s\n", ok ? "" : "FAILED: ",
		       json_string_value(json_object_get(r.json, "message")),
		       json_string_value(json_object_get(r.json, "key_fingerprint")));
	cli_resp_free(&r);
	return st != CMD_EXIT_OK ? st : ok ? CMD_EXIT_OK : CMD_EXIT_FAIL;
}

static int audit_list_page(struct cli_args *a)
{
	return audit_list(a, false);
}

static int audit_export(struct cli_args *a)
{
	if (a->npos || !a->conn.json) {
		fprintf(stderr, "postern audit export: only --jsonl is supported\n");
		return CMD_EXIT_USAGE;
	}
	return audit_list(a, true);
}

static int audit_verify_verb(struct cli_args *a)
{
	return a->opt[OPT_DATA] ? audit_verify_offline(a) : audit_verify_api(a);
}

static const struct cli_verb audit_verbs[] = {
	CLI_VERB_FN("list", audit_list_page), CLI_VERB_FN("export", audit_export),
	CLI_VERB_FN("verify", audit_verify_verb), CLI_VERBS_END,
};

const struct cli_noun cli_noun_audit = {
	.name = "audit", .path = "/audit", .verbs = audit_verbs, .own_only = true,
	CLI_COLS(audit_cols), .options = audit_options,
	.usage = "list [--limit N] [--after SEQ] | export --jsonl\n"
	"       | verify [--data DIR [--pubkey FILE]]",
};

int cli_cmd_audit(int argc, char **argv)
{
	/* --jsonl is export's way of saying --json. */
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--jsonl"))
			argv[i] = (char *)"--json";
	return cli_noun_main(&cli_noun_audit, argc, argv);
}
