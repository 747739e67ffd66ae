/* noun.c - the generic engine behind `postern NOUN VERB`. */
#include "cli/noun.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cmd.h"
#include "core/num.h"
#include "core/secure.h"

#define CLI_FILE_MAX (256u << 10)

static void cli_usage_conn(FILE *f)
{
	fprintf(f, "\nconnection (before the noun or after the verb): --socket PATH "
		   "(default %s)\n| --hub URL --token T [--cacert FILE] [--resolve "
		   "HOST:PORT:ADDR]\n(or POSTERN_SOCKET, POSTERN_HUB, POSTERN_TOKEN); "
		   "--json prints the API's JSON\n", CLI_DEFAULT_SOCKET);
}

int cli_usage(const struct cli_noun *n, bool error)
{
	FILE *f = error ? stderr : stdout;

	fprintf(f, "usage: postern %s %s\n", n->name, n->usage);
	cli_usage_conn(f);
	return error ? CMD_EXIT_USAGE : CMD_EXIT_OK;
}

/* A separator between two verbs of a usage text: a '|' with a blank on
 * both sides ("a|b" inside a verb's options is a choice, not one). */
static bool cli_usage_sep(const char *u, const char *p)
{
	return *p == '|' && p > u && (p[-1] == ' ') && p[1] == ' ';
}

/* Prints the part of the noun's usage that is about `verb` (the segment
 * between separators that starts with the verb's name). Returns the exit
 * status: OK, or USAGE when the noun has no such verb. */
static int cli_verb_usage(const struct cli_noun *n, const char *verb)
{
	const char *p = n->usage, *end;
	size_t vlen = strlen(verb);

	for (;;) {
		while (*p == ' ' || *p == '\n' || *p == '|')
			p++;
		for (end = p; *end && !cli_usage_sep(n->usage, end); end++)
			;
		if (!strncmp(p, verb, vlen) && (p[vlen] == ' ' || p[vlen] == '\n' ||
						 p + vlen == end)) {
			while (end > p && (end[-1] == ' ' || end[-1] == '\n'))
				end--;
			printf("usage: postern %s %.*s\n", n->name, (int)(end - p), p);
			cli_usage_conn(stdout);
			return CMD_EXIT_OK;
		}
		if (!*end)
			break;
		p = end;
	}
	fprintf(stderr, "postern %s: no verb '%s'\n", n->name, verb);
	return cli_usage(n, true);
}

void cli_cell(const json_t *v, bool time, char *out, size_t len)
{
	if (!v || json_is_null(v)) {
		snprintf(out, len, "-");
	} else if (json_is_string(v)) {
		snprintf(out, len, "%s", json_string_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(out, len, "%s", json_is_true(v) ? "yes" : "no");
	} else if (json_is_integer(v) && time) {
		time_t t = (time_t)(json_integer_value(v) / 1000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(out, len, "%Y-%m-%d %H:%M:%SZ", &tm);
	} else if (json_is_array(v)) {
		size_t n = 0, i;
		json_t *x;
		out[0] = 0;
		json_array_foreach(v, i, x)
			n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s",
					      i ? "," : "", json_string_value(x) ?: "?");
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		snprintf(out, len, "%s", s ? s : "?");
		free(s);
	}
}

void cli_print_items(const struct cli_noun *n, const json_t *items)
{
	size_t w[16] = { 0 }, nc = n->ncols < 16 ? n->ncols : 16, i;
	char cell[512];
	json_t *it;

	for (size_t c = 0; c < nc; c++)
		w[c] = strlen(n->cols[c].title);
	json_array_foreach(items, i, it)
		for (size_t c = 0; c < nc; c++) {
			cli_cell(json_object_get(it, n->cols[c].field), n->cols[c].time,
				 cell, sizeof(cell));
			if (strlen(cell) > w[c])
				w[c] = strlen(cell);
		}
	for (size_t c = 0; c < nc; c++)
		if (c + 1 < nc)
			printf("%-*s  ", (int)w[c], n->cols[c].title);
		else
			printf("%s\n", n->cols[c].title);
	json_array_foreach(items, i, it)
		for (size_t c = 0; c < nc; c++) {
			cli_cell(json_object_get(it, n->cols[c].field), n->cols[c].time,
				 cell, sizeof(cell));
			if (c + 1 < nc)
				printf("%-*s  ", (int)w[c], cell);
			else
				printf("%s\n", cell);
		}
}

void cli_print_object(const struct cli_args *a, const json_t *o)
{
	const char *key;
	json_t *v;
	char cell[4096];

	if (a->conn.json) {
		char *s = json_dumps(o, JSON_INDENT(2));
		printf("%s\n", s ? s : "null");
		free(s);
		return;
	}
	json_object_foreach((json_t *)o, key, v) {
		bool time = strstr(key, "_at") || !strcmp(key, "not_before") ||
			    !strcmp(key, "not_after") || !strcmp(key, "time");
		cli_cell(v, time, cell, sizeof(cell));
		printf("%s: %s\n", key, cell);
	}
	if (json_object_get(o, "token") && !a->conn.json)
		fprintf(stderr, "postern: the token is shown only this once: keep it now\n");
}

int cli_call_print(struct cli_args *a, const char *method, const char *path,
		   const char *query, const json_t *body, const char *if_match)
{
	struct cli_resp r;
	int rc = cli_request(&a->conn, method, path, query, body, if_match, &r);
	int st = cli_exit_status(rc, &r);

	if (st != CMD_EXIT_OK)
		cli_print_error(rc, &r);
	else if (r.json)
		cli_print_object(a, r.json);
	if (st == CMD_EXIT_OK && strcmp(method, "GET"))
		cli_print_warnings(r.json);
	cli_resp_free(&r);
	return st;
}

int cli_call_show(struct cli_args *a, const char *method, const char *path,
		  const char *query, cli_show_fn *show, const void *arg)
{
	struct cli_resp r;
	int rc = cli_request(&a->conn, method, path, query, NULL, NULL, &r);
	int st = cli_exit_status(rc, &r);

	if (st != CMD_EXIT_OK)
		cli_print_error(rc, &r);
	else if (a->conn.json)
		cli_print_object(a, r.json);
	else
		show(r.json, arg);
	cli_resp_free(&r);
	return st;
}

void cli_print_warnings(const json_t *o)
{
	size_t i;
	json_t *w;

	json_array_foreach(json_object_get(o, "warnings"), i, w)
		fprintf(stderr, "postern: warning: %s\n", json_string_value(w) ?: "?");
}

/* Every item of the list at `path`, following the pages to the end: a
 * new array, or NULL with the error printed and *st set. */
static json_t *cli_fetch_all(struct cli_args *a, const char *path, int *st)
{
	json_t *all = json_array();
	char query[64] = "limit=500";
	struct cli_resp r;
	int rc;

	for (;;) {
		rc = cli_request(&a->conn, "GET", path, query, NULL, NULL, &r);
		if ((*st = cli_exit_status(rc, &r)) != CMD_EXIT_OK) {
			cli_print_error(rc, &r);
			cli_resp_free(&r);
			json_decref(all);
			return NULL;
		}
		json_array_extend(all, json_object_get(r.json, "items"));
		json_t *next = json_object_get(r.json, "next");
		if (!json_is_integer(next))
			break;
		snprintf(query, sizeof(query), "limit=500&after=%lld",
			 (long long)json_integer_value(next));
		cli_resp_free(&r);
	}
	cli_resp_free(&r);
	return all;
}

long long cli_resolve_name(struct cli_args *a, const char *path, const char *what,
			   const char *arg)
{
	long long id = -1;
	uint64_t n;
	size_t i, hits = 0;
	json_t *all, *it;
	int st;

	if (num_parse_cstr(arg, 1, INT64_MAX, &n) == 0)
		return (long long)n;
	if (!(all = cli_fetch_all(a, path, &st)))
		return -st;
	json_array_foreach(all, i, it)
		if (!strcmp(json_string_value(json_object_get(it, "name")) ?: "", arg)) {
			id = (long long)json_integer_value(json_object_get(it, "id"));
			hits++;
		}
	json_decref(all);
	if (hits == 1)
		return id;
	fprintf(stderr, "postern %s %s: %s %s '%s' (see 'postern %s list')\n",
		a->noun->name, a->verb, hits ? "more than one" : "no", what, arg, what);
	return hits ? -CMD_EXIT_USAGE : -CMD_EXIT_NOTFOUND;
}

long long cli_arg_id(struct cli_args *a, int i)
{
	if (i >= a->npos) {
		fprintf(stderr, "postern %s %s: give the ID or the name (see 'postern %s "
			"list')\n", a->noun->name, a->verb, a->noun->name);
		return -CMD_EXIT_USAGE;
	}
	if (!a->noun->create_arg || strcmp(a->noun->create_arg, "name"))
		return cli_arg_num(a, i);
	return cli_resolve_name(a, a->noun->path, a->noun->name, a->pos[i]);
}

int cli_obj_path(struct cli_args *a, const char *sub, char *path, size_t len)
{
	long long id = cli_arg_id(a, 0);

	if (id < 0)
		return (int)-id;
	snprintf(path, len, "%s/%lld%s%s", a->noun->path, id, sub ? "/" : "", sub ? sub : "");
	return 0;
}

long long cli_arg_num(struct cli_args *a, int i)
{
	uint64_t id;

	if (i >= a->npos || num_parse_cstr(a->pos[i], 1, INT64_MAX, &id) < 0) {
		fprintf(stderr, "postern %s %s: give the numeric ID (see 'postern %s "
			"list')\n", a->noun->name, a->verb, a->noun->name);
		return -CMD_EXIT_USAGE;
	}
	return (long long)id;
}

/* Flags that name another resource (struct cli_flag.ref) took the name
 * as given; now that the connection options are known, it becomes the
 * ID. Returns 0, or the exit status after printing why not. */
static int cli_resolve_refs(struct cli_args *a)
{
	for (size_t k = 0; k < a->noun->nflags; k++) {
		const struct cli_flag *f = &a->noun->flags[k];
		json_t *v = json_object_get(a->body, f->field);
		long long id;

		if (!f->ref || !json_is_string(v))
			continue;
		if ((id = cli_resolve_name(a, f->ref, f->flag, json_string_value(v))) < 0)
			return (int)-id;
		json_object_set_new(a->body, f->field, json_integer((json_int_t)id));
	}
	return 0;
}

int cli_opt_num(struct cli_args *a, int i, const char *name, uint64_t min,
		uint64_t max, uint64_t def, uint64_t *out)
{
	*out = def;
	if (!a->opt[i] || num_parse_cstr(a->opt[i], min, max, out) == 0)
		return 0;
	fprintf(stderr, "postern %s %s: --%s must be a number from %llu to %llu\n",
		a->noun->name, a->verb, name, (unsigned long long)min,
		(unsigned long long)max);
	return -1;
}

/* Reads a file or a line of stdin into a new string. */
static char *cli_read_value(enum cli_ftype t, const char *path)
{
	char *buf = calloc(1, CLI_FILE_MAX + 1);
	size_t n = 0;
	FILE *f = t == CLI_STDIN ? stdin : fopen(path, "re");

	if (!buf || !f) {
		if (!f)
			fprintf(stderr, "postern: %s: %s\n", path, strerror(errno));
		free(buf);
		return NULL;
	}
	if (t == CLI_STDIN) {
		if (fgets(buf, CLI_FILE_MAX, f))
			buf[strcspn(buf, "\r\n")] = 0;
	} else {
		n = fread(buf, 1, CLI_FILE_MAX, f);
		buf[n] = 0;
		fclose(f);
	}
	return buf;
}

/* Sets the body member of a flag from its value. Returns 0 or -1. */
static int cli_flag_value(json_t *body, const struct cli_flag *f, const char *v)
{
	uint64_t x;
	char *s;

	if (f->nullable && !strcmp(v, "none"))
		return json_object_set_new(body, f->field, json_null());
	if (f->type == CLI_INT) {
		if (num_parse_cstr(v, 0, INT64_MAX, &x) < 0 && f->ref && *v)
			return json_object_set_new(body, f->field, json_string(v));
		if (num_parse_cstr(v, 0, INT64_MAX, &x) < 0)
			return -1;
		return json_object_set_new(body, f->field, json_integer((json_int_t)x));
	}
	if (f->type == CLI_FILE || f->type == CLI_STDIN) {
		if (!(s = cli_read_value(f->type, v)))
			return -1;
		json_object_set_new(body, f->field, json_string(s));
		secure_free(s, CLI_FILE_MAX + 1);
		return 0;
	}
	return json_object_set_new(body, f->field, json_string(v));
}

/* One "--name" of the noun's flags at argv[*i]. Returns 1, 0 (not one) or
 * -1 (bad value). */
static int cli_noun_flag(struct cli_args *a, int argc, char **argv, int *i)
{
	const char *arg = argv[*i] + 2;
	bool no = !strncmp(arg, "no-", 3);

	for (size_t k = 0; k < a->noun->nflags; k++) {
		const struct cli_flag *f = &a->noun->flags[k];
		if (f->type == CLI_BOOL && !strcmp(no ? arg + 3 : arg, f->flag)) {
			json_object_set_new(a->body, f->field, json_boolean(!no));
			return 1;
		}
		if (strcmp(arg, f->flag))
			continue;
		if (f->type == CLI_STDIN)
			return cli_flag_value(a->body, f, "-") < 0 ? -1 : 1;
		if (*i + 1 >= argc || cli_flag_value(a->body, f, argv[*i + 1]) < 0)
			return -1;
		++*i;
		return 1;
	}
	for (int k = 0; a->noun->options && a->noun->options[k] && k < 4; k++)
		if (!strcmp(arg, a->noun->options[k])) {
			if (*i + 1 >= argc)
				return -1;
			a->opt[k] = argv[++*i];
			return 1;
		}
	return 0;
}

static int cli_parse(struct cli_args *a, int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		int r = cli_conn_option(&a->conn, argc, argv, &i);
		if (r == 0 && !strcmp(argv[i], "--if-match") && i + 1 < argc) {
			a->if_match = argv[++i];
			r = 1;
		} else if (r == 0 && !strncmp(argv[i], "--", 2) && argv[i][2]) {
			r = cli_noun_flag(a, argc, argv, &i);
			if (r == 0) {
				fprintf(stderr, "postern %s: unknown option %s\n",
					a->noun->name, argv[i]);
				return -1;
			}
		} else if (r == 0 && a->npos < 4) {
			a->pos[a->npos++] = argv[i];
			r = 1;
		}
		if (r <= 0) {
			fprintf(stderr, "postern %s: bad or missing value for %s\n",
				a->noun->name, argv[i]);
			return -1;
		}
	}
	return 0;
}

/* list: follows the pages to the end. */
static int cli_list(struct cli_args *a)
{
	int st;
	json_t *all = cli_fetch_all(a, a->noun->path, &st);

	if (all && a->conn.json) {
		json_t *o = json_pack("{s:O}", "items", all);
		cli_print_object(a, o);
		json_decref(o);
	} else if (all)
		cli_print_items(a->noun, all);
	json_decref(all);
	return st;
}

/* update: the current ETag first, unless --if-match gave one. */
static int cli_update(struct cli_args *a, const char *path)
{
	struct cli_resp r;
	char etag[64];
	int rc, st;

	if (a->if_match)
		return cli_call_print(a, "PATCH", path, NULL, a->body, a->if_match);
	rc = cli_request(&a->conn, "GET", path, NULL, NULL, NULL, &r);
	st = cli_exit_status(rc, &r);
	snprintf(etag, sizeof(etag), "%s", r.etag);
	if (st != CMD_EXIT_OK)
		cli_print_error(rc, &r);
	cli_resp_free(&r);
	return st != CMD_EXIT_OK ? st : cli_call_print(a, "PATCH", path, NULL, a->body, etag);
}

static int cli_generic(struct cli_args *a)
{
	const char *v = a->verb;
	char path[256];
	int st;

	if (!strcmp(v, "list"))
		return cli_list(a);
	if (!strcmp(v, "create") || !strcmp(v, "add")) {
		if (a->noun->create_arg && a->npos > 0)
			json_object_set_new(a->body, a->noun->create_arg,
					    json_string(a->pos[0]));
		return cli_call_print(a, "POST", a->noun->path, NULL, a->body, NULL);
	}
	if (strcmp(v, "get") && strcmp(v, "update") && strcmp(v, "delete"))
		return cli_usage(a->noun, true);
	if ((st = cli_obj_path(a, NULL, path, sizeof(path))) != 0)
		return st;
	if (!strcmp(v, "get"))
		return cli_call_print(a, "GET", path, NULL, NULL, NULL);
	if (!strcmp(v, "update"))
		return cli_update(a, path);
	return cli_call_print(a, "DELETE", path, NULL, NULL, a->if_match);
}

const struct cli_verb cli_verbs_revocable[] = {
	CLI_VERB("list"), CLI_VERB("get"), CLI_VERB("create"), CLI_VERB_AS("revoke", "delete"),
	CLI_VERBS_END,
};

static const struct cli_verb *cli_verb_find(const struct cli_noun *n, const char *verb)
{
	for (const struct cli_verb *v = n->verbs; v && v->name; v++)
		if (!strcmp(v->name, verb))
			return v;
	return NULL;
}

bool cli_noun_has_verb(const struct cli_noun *n, const char *verb)
{
	return cli_verb_find(n, verb) != NULL;
}

/* Runs a->verb as the noun's table says (struct cli_verb). Returns the
 * exit status. */
static int cli_run_verb(struct cli_args *a)
{
	const struct cli_verb *v = cli_verb_find(a->noun, a->verb);
	int st;

	if (!v && a->noun->own_only) {
		fprintf(stderr, "postern %s: no verb '%s'\n", a->noun->name, a->verb);
		return cli_usage(a->noun, true);
	}
	if (v && v->as)
		a->verb = v->as;
	st = v && v->fn ? v->fn(a) : -1;
	return st < 0 ? cli_generic(a) : st;
}

int cli_noun_main(const struct cli_noun *n, int argc, char **argv)
{
	struct cli_args a = { .noun = n };
	int st;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cli_usage(n, argc < 2);
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return cli_verb_usage(n, argv[1]);
	cli_conn_defaults(&a.conn);
	a.verb = argv[1];
	a.body = json_object();
	if (cli_parse(&a, argc, argv) < 0) {
		json_decref(a.body);
		return CMD_EXIT_USAGE;
	}
	if ((st = cli_resolve_refs(&a)) != 0) {
		json_decref(a.body);
		return st;
	}
	st = cli_run_verb(&a);
	json_decref(a.body);
	return st;
}
