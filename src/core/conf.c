/* conf.c - "key = value" config files with sections. */
#include "core/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/array.h"
#include "core/num.h"

static void conf_err(char *err, size_t errlen, const char *name, unsigned line,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void conf_err(char *err, size_t errlen, const char *name, unsigned line,
		     const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "%s:%u: ", name, line);

	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static bool conf_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || ch == '.';
}

static bool conf_name_ok(const char *p, size_t n)
{
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!conf_name_char(p[i]))
			return false;
	return true;
}

void conf_free(struct conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].section);
		free(c->v[i].key);
		free(c->v[i].value);
	}
	free(c->v);
	free(c->name);
	memset(c, 0, sizeof(*c));
}

static struct conf_entry *conf_find(const struct conf *c, const char *section,
				    const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].section, section) && !strcmp(c->v[i].key, key))
			return &c->v[i];
	return NULL;
}

/* Decodes a value: trimmed raw text, or a quoted string. Returns a new
 * string, or NULL with `why` set. */
static char *conf_value(const char *p, size_t n, const char **why)
{
	char *out;
	size_t o = 0;

	if (n == 0 || p[0] != '"') {
		for (size_t i = 0; i < n; i++)
			if (p[i] == '"') {
				*why = "stray '\"' in unquoted value";
				return NULL;
			}
		return strndup(p, n);
	}
	if (n < 2 || p[n - 1] != '"') {
		*why = "unterminated quoted value";
		return NULL;
	}
	out = malloc(n);
	if (!out) {
		*why = "out of memory";
		return NULL;
	}
	for (size_t i = 1; i < n - 1; i++) {
		if (p[i] == '\\') {
			if (i + 1 >= n - 1 || (p[i + 1] != '"' && p[i + 1] != '\\')) {
				*why = "bad escape in quoted value (use \\\" or \\\\)";
				free(out);
				return NULL;
			}
			i++;
		} else if (p[i] == '"') {
			*why = "unescaped '\"' inside quoted value";
			free(out);
			return NULL;
		}
		out[o++] = p[i];
	}
	out[o] = '\0';
	return out;
}

static const char *trim(const char *p, const char *end, const char **out_end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*out_end = end;
	return p;
}

static int conf_add(struct conf *c, const char *section, const char *key,
		    size_t keylen, char *value, unsigned line)
{
	struct conf_entry *e;

	if (array_grow((void **)&c->v, c->n, &c->cap, sizeof(*c->v)) < 0)
		return -1;
	e = &c->v[c->n];
	e->section = strdup(section);
	e->key = strndup(key, keylen);
	e->value = value;
	e->line = line;
	e->used = false;
	if (!e->section || !e->key) {
		free(e->section);
		free(e->key);
		return -1;
	}
	c->n++;
	return 0;
}

/* Parses one non-empty, non-comment line. `section` is the current one. */
static int conf_line(struct conf *c, const char *p, const char *end,
		     char *section, unsigned line, char *err, size_t errlen)
{
	const char *eq, *k_end, *v, *v_end, *why = NULL;
	char *value;

	if (*p == '[') {
		if (end[-1] != ']' || !conf_name_ok(p + 1, (size_t)(end - p - 2))) {
			conf_err(err, errlen, c->name, line,
				 "bad section header (want [name], name of a-z 0-9 _ . -)");
			return -1;
		}
		memcpy(section, p + 1, (size_t)(end - p - 2));
		section[end - p - 2] = '\0';
		return 0;
	}
	eq = memchr(p, '=', (size_t)(end - p));
	if (!eq) {
		conf_err(err, errlen, c->name, line, "expected 'key = value'");
		return -1;
	}
	p = trim(p, eq, &k_end);
	if (!conf_name_ok(p, (size_t)(k_end - p))) {
		conf_err(err, errlen, c->name, line,
			 "bad key (use lower-case a-z 0-9 _ . -, at most 64)");
		return -1;
	}
	v = trim(eq + 1, end, &v_end);
	value = conf_value(v, (size_t)(v_end - v), &why);
	if (!value) {
		conf_err(err, errlen, c->name, line, "%s", why);
		return -1;
	}
	{
		char key[65];
		memcpy(key, p, (size_t)(k_end - p));
		key[k_end - p] = '\0';
		struct conf_entry *dup = conf_find(c, section, key);
		if (dup) {
			conf_err(err, errlen, c->name, line,
				 "'%s' already set on line %u", key, dup->line);
			free(value);
			return -1;
		}
	}
	if (conf_add(c, section, p, (size_t)(k_end - p), value, line) < 0) {
		free(value);
		conf_err(err, errlen, c->name, line, "out of memory");
		return -1;
	}
	return 0;
}

int conf_parse(struct conf *c, const char *name, const char *text, size_t len,
	       char *err, size_t errlen)
{
	char section[65] = "";
	const char *p = text, *end = text + len;
	unsigned line = 0;

	memset(c, 0, sizeof(*c));
	c->name = strdup(name);
	if (!c->name) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	if (len > CONF_MAX_FILE) {
		conf_err(err, errlen, name, 0, "file larger than %u bytes",
			 CONF_MAX_FILE);
		goto fail;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s, *e;
		line++;
		if (le - p > CONF_MAX_LINE) {
			conf_err(err, errlen, name, line, "line longer than %d bytes",
				 CONF_MAX_LINE);
			goto fail;
		}
		if (memchr(p, '\0', (size_t)(le - p))) {
			conf_err(err, errlen, name, line, "NUL byte");
			goto fail;
		}
		s = trim(p, le, &e);
		if (s < e && *s != '#' &&
		    conf_line(c, s, e, section, line, err, errlen) < 0)
			goto fail;
		p = nl ? nl + 1 : end;
	}
	return 0;
fail:
	conf_free(c);
	return -1;
}

int conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd, r;

	memset(c, 0, sizeof(*c));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > CONF_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes",
			 path, CONF_MAX_FILE);
		close(fd);
		return -1;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	n = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		snprintf(err, errlen, "%s: short read", path);
		free(text);
		return -1;
	}
	r = conf_parse(c, path, text, (size_t)n, err, errlen);
	free(text);
	return r;
}

const char *conf_get(struct conf *c, const char *section, const char *key)
{
	struct conf_entry *e = conf_find(c, section, key);
	if (!e)
		return NULL;
	e->used = true;
	return e->value;
}

/* Shared shape of the typed getters. */
static int conf_typed(struct conf *c, const char *section, const char *key,
		      struct conf_entry **out)
{
	*out = conf_find(c, section, key);
	if (!*out)
		return 1;
	(*out)->used = true;
	return 0;
}

int conf_get_u64(struct conf *c, const char *section, const char *key,
		 uint64_t min, uint64_t max, uint64_t *out, char *err,
		 size_t errlen)
{
	struct conf_entry *e;
	int r = conf_typed(c, section, key, &e);

	if (r)
		return r;
	r = num_parse_cstr(e->value, min, max, out);
	if (r < 0) {
		conf_err(err, errlen, c->name, e->line,
			 "%s: want a whole number from %llu to %llu", key,
			 (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	return 0;
}

int conf_get_bool(struct conf *c, const char *section, const char *key,
		  bool *out, char *err, size_t errlen)
{
	struct conf_entry *e;
	int r = conf_typed(c, section, key, &e);

	if (r)
		return r;
	if (!strcmp(e->value, "true") || !strcmp(e->value, "yes") ||
	    !strcmp(e->value, "on")) {
		*out = true;
	} else if (!strcmp(e->value, "false") || !strcmp(e->value, "no") ||
		   !strcmp(e->value, "off")) {
		*out = false;
	} else {
		conf_err(err, errlen, c->name, e->line,
			 "%s: want true or false", key);
		return -1;
	}
	return 0;
}

int conf_get_duration(struct conf *c, const char *section, const char *key,
		      uint64_t min_ns, uint64_t max_ns, uint64_t *out,
		      char *err, size_t errlen)
{
	struct conf_entry *e;
	int r = conf_typed(c, section, key, &e);

	if (r)
		return r;
	if (num_parse_duration(e->value, min_ns, max_ns, out) < 0) {
		conf_err(err, errlen, c->name, e->line,
			 "%s: want a duration such as 500ms, 30s, 5m, 2h "
			 "(from %llums to %llus)", key,
			 (unsigned long long)(min_ns / 1000000),
			 (unsigned long long)(max_ns / 1000000000));
		return -1;
	}
	return 0;
}

int conf_check_unused(const struct conf *c, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct conf_entry *e = &c->v[i];
		if (e->used)
			continue;
		if (e->section[0])
			conf_err(err, errlen, c->name, e->line,
				 "unknown key '%s' in [%s]", e->key, e->section);
		else
			conf_err(err, errlen, c->name, e->line,
				 "unknown key '%s'", e->key);
		return -1;
	}
	return 0;
}
