/* xml_min.h - pulling one element's text out of a small XML answer (the
 * Route 53 API). Not an XML parser: it finds the first <Tag>text</Tag>
 * with no attributes, refuses markup inside the text, and decodes the five
 * predefined entities. Untrusted input; fuzzed by fuzz_acme_json. */
#ifndef POSTERN_ACME_XML_MIN_H
#define POSTERN_ACME_XML_MIN_H

#include <stddef.h>

/* Copies the text of the first <tag>...</tag> found at or after `from`
 * into out (NUL-terminated). Returns the offset just past the closing tag,
 * or -ENOENT (absent), -EINVAL (malformed) or -ENOBUFS. */
long xml_text(const char *p, size_t len, size_t from, const char *tag,
	      char *out, size_t cap);

/* Escapes &, <, >, " for element text. Returns 0 or -ENOBUFS. */
int xml_escape(const char *s, char *out, size_t cap);

#endif
