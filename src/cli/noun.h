/* noun.h - `postern NOUN VERB ...`: the admin CLI's resources, described
 * as tables (flags -> JSON fields, columns for output) and run by one
 * generic engine: list, get ID, create, update ID, delete ID, plus verbs
 * a noun adds. Human-readable tables by default, the API's JSON with
 * --json; exit statuses from cli/cmd.h. */
#ifndef POSTERN_CLI_NOUN_H
#define POSTERN_CLI_NOUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/client.h"

enum cli_ftype {
	CLI_STR = 0,	/* --flag VALUE */
	CLI_INT,	/* --flag N (or "none" when nullable) */
	CLI_BOOL,	/* --flag / --no-flag */
	CLI_FILE,	/* --flag FILE: the file's contents */
	CLI_STDIN,	/* --flag: one line read from stdin (passwords) */
	CLI_FTYPE_MAX
};

struct cli_flag {
	const char *flag;	/* "strip-prefix" */
	const char *field;	/* "strip_prefix" */
	enum cli_ftype type;
	bool nullable;		/* "none" means null */
	const char *ref;	/* CLI_INT naming a resource at this API path:
				 * its name is taken as well as its ID */
};

struct cli_column {
	const char *title;
	const char *field;
	bool time;		/* milliseconds since the epoch */
};

struct cli_noun;

/* What a verb gets: the parsed arguments. */
struct cli_args {
	const struct cli_noun *noun;
	struct cli_conn conn;
	const char *verb;
	const char *pos[4];	/* positional arguments */
	int npos;
	json_t *body;		/* fields from flags */
	const char *if_match;
	const char *opt[4];	/* values of the noun's extra options */
};

/* Elements in a table (flags, columns). */
#define CLI_COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* A noun's flag or column table with its size, in a cli_noun initializer. */
#define CLI_FLAGS(t) .flags = (t), .nflags = CLI_COUNT(t)
#define CLI_COLS(t) .cols = (t), .ncols = CLI_COUNT(t)

/* One verb of a noun, in the order `postern --help` lists them. `fn`
 * runs it and returns the exit status, or -1 to run the generic verb of
 * the same name after its own checks; without `fn`, `as` names the
 * generic verb it is another word for ("revoke" is "delete"), and
 * without either it is the generic verb itself (list, get, create, add,
 * update, delete). */
struct cli_verb {
	const char *name;
	int (*fn)(struct cli_args *a);
	const char *as;
};
#define CLI_VERB(name) { (name), NULL, NULL }
#define CLI_VERB_FN(name, fn) { (name), (fn), NULL }
#define CLI_VERB_AS(name, as) { (name), NULL, (as) }
#define CLI_VERBS_END { NULL, NULL, NULL }

struct cli_noun {
	const char *name;	/* "route" */
	const char *path;	/* "/routes" */
	const char *create_arg;	/* field create's first argument sets, or NULL */
	const struct cli_flag *flags;
	size_t nflags;
	const struct cli_column *cols;
	size_t ncols;
	const char *const *options;	/* extra "--name VALUE" options */
	const char *usage;
	/* Its verbs, ending with { NULL }. A verb not in the table is
	 * still tried as a generic verb, unless `own_only` says the noun has
	 * none but its own ("no verb" and the usage, exit USAGE). */
	const struct cli_verb *verbs;
	bool own_only;
};

/* The nouns cmd.c's table runs (one file each, route/cert/user/token in
 * nouns.c). */
extern const struct cli_noun cli_noun_agent, cli_noun_route, cli_noun_cert,
	cli_noun_dns_provider, cli_noun_user, cli_noun_token, cli_noun_route_token,
	cli_noun_share_link, cli_noun_webhook, cli_noun_login, cli_noun_settings,
	cli_noun_audit;

/* The verbs of a credential that is revoked rather than edited: list,
 * get, create, revoke (the generic delete). */
extern const struct cli_verb cli_verbs_revocable[];

/* Whether `verb` is in the noun's table. */
bool cli_noun_has_verb(const struct cli_noun *n, const char *verb);
/* Runs argv = { NOUN, VERB, ... }. Returns the exit status. */
int cli_noun_main(const struct cli_noun *n, int argc, char **argv);

/* Helpers for nouns' own verbs. */
/* Sends a request and prints the result (table/object or JSON); returns
 * the exit status. */
int cli_call_print(struct cli_args *a, const char *method, const char *path,
		   const char *query, const json_t *body, const char *if_match);
/* Sends a request without a body and prints the answer: the API's JSON
 * with --json, else `show(answer, arg)`. Returns the exit status. */
typedef void cli_show_fn(const json_t *o, const void *arg);
int cli_call_show(struct cli_args *a, const char *method, const char *path,
		  const char *query, cli_show_fn *show, const void *arg);
/* Prints the "warnings" of an API answer on stderr (after a change). */
void cli_print_warnings(const json_t *o);
/* Prints a list's items as a table with the noun's columns. */
void cli_print_items(const struct cli_noun *n, const json_t *items);
/* Prints an object as "key: value" lines (or JSON with --json). */
void cli_print_object(const struct cli_args *a, const json_t *o);
/* Formats a JSON value for a table cell. */
void cli_cell(const json_t *v, bool time, char *out, size_t len);
/* Positional argument `i` naming an object of the noun: its ID, or its
 * name for nouns created by name (looked up in the list). Returns the ID,
 * or minus the exit status after printing why not (usage, not found,
 * hub unreachable). */
long long cli_arg_id(struct cli_args *a, int i);
/* The path of the object the first argument names (cli_arg_id):
 * "<noun path>/<ID>", or "<noun path>/<ID>/<sub>" when `sub` is given
 * (e.g. a->verb: "/webhooks/3/test"). Returns 0, or the exit status after
 * printing why not. */
int cli_obj_path(struct cli_args *a, const char *sub, char *path, size_t len);
/* The same for an argument that can only be a numeric ID. */
long long cli_arg_num(struct cli_args *a, int i);
/* `arg` as an ID, or the ID of the one object named `arg` in the list at
 * `path` (`what` names the kind in messages). Returns it, or minus the
 * exit status after printing why not. */
long long cli_resolve_name(struct cli_args *a, const char *path, const char *what,
			   const char *arg);
/* Option `opt[i]` (named `name` in messages) as a number in [min, max],
 * or `def` when absent. Returns 0, or -1 with the usage error printed. */
int cli_opt_num(struct cli_args *a, int i, const char *name, uint64_t min,
		uint64_t max, uint64_t def, uint64_t *out);
int cli_usage(const struct cli_noun *n, bool error);

#endif
