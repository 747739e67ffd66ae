/* str.h - byte views (pointer + length) for parsing untrusted input.
 *
 * A view never owns its bytes and is never assumed NUL-terminated. */
#ifndef POSTERN_CORE_STR_H
#define POSTERN_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct str {
	const char *p;
	size_t len;
};

#define STR_LIT(s) ((struct str){ (s), sizeof(s) - 1 })
#define STR_NULL ((struct str){ NULL, 0 })

static inline struct str str_make(const char *p, size_t len)
{
	return (struct str){ p, len };
}

static inline struct str str_cstr(const char *s)
{
	return (struct str){ s, strlen(s) };
}

static inline bool str_eq(struct str a, struct str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static inline char str_lower_ascii(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* ASCII case-insensitive equality (header names, host names). */
static inline bool str_eq_ci(struct str a, struct str b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (str_lower_ascii(a.p[i]) != str_lower_ascii(b.p[i]))
			return false;
	return true;
}

static inline bool str_has_prefix(struct str s, struct str prefix)
{
	return s.len >= prefix.len && memcmp(s.p, prefix.p, prefix.len) == 0;
}

/* str_has_prefix, ASCII case folded. */
static inline bool str_has_prefix_ci(struct str s, struct str prefix)
{
	return s.len >= prefix.len && str_eq_ci(str_make(s.p, prefix.len), prefix);
}

/* Drops leading and trailing spaces and tabs (HTTP OWS). */
static inline struct str str_trim_ows(struct str s)
{
	while (s.len && (s.p[0] == ' ' || s.p[0] == '\t')) {
		s.p++;
		s.len--;
	}
	while (s.len && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t'))
		s.len--;
	return s;
}

#endif
