/* conf.h - the bootstrap config reader ("key = value" with [sections]).
 *
 * Grammar, one item per line:
 *   # comment            (whole lines only)
 *   [section]            section names and keys: [a-z0-9_.-]+
 *   key = value          value trimmed; or "double quoted" with \" and \\
 * A key may appear once per section. Lines are at most 4096 bytes and
 * files at most 1 MiB. Every getter marks its key used; conf_check_unused
 * then reports the first key nobody asked for, so typos are errors rather
 * than silently ignored settings. Errors read "FILE:LINE: message". */
#ifndef POSTERN_CORE_CONF_H
#define POSTERN_CORE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_MAX_FILE (1u << 20)
#define CONF_MAX_LINE 4096

struct conf_entry {
	char *section;	/* "" for keys before any [section] */
	char *key;
	char *value;
	unsigned line;
	bool used;
};

struct conf {
	char *name;	/* file name for messages */
	struct conf_entry *v;
	size_t n, cap;
};

/* Parses `len` bytes of text. On error returns -1 and writes a message to
 * err; `c` is then empty. The caller owns `c` and frees it with conf_free. */
int conf_parse(struct conf *c, const char *name, const char *text, size_t len,
	       char *err, size_t errlen);
/* Reads and parses a file. Returns 0 or -1 with a message in err. */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);
void conf_free(struct conf *c);

/* Returns the value (owned by `c`), or NULL when absent. Marks it used. */
const char *conf_get(struct conf *c, const char *section, const char *key);
/* Typed getters: return 1 when absent (*out untouched), 0 when set, -1 with
 * a "FILE:LINE: key: why" message when the value is invalid. */
int conf_get_u64(struct conf *c, const char *section, const char *key,
		 uint64_t min, uint64_t max, uint64_t *out, char *err,
		 size_t errlen);
int conf_get_bool(struct conf *c, const char *section, const char *key,
		  bool *out, char *err, size_t errlen);
int conf_get_duration(struct conf *c, const char *section, const char *key,
		      uint64_t min_ns, uint64_t max_ns, uint64_t *out,
		      char *err, size_t errlen);
/* Returns 0, or -1 naming the first key no getter asked for. */
int conf_check_unused(const struct conf *c, char *err, size_t errlen);

#endif
