/* target.c - request-target normalisation (see target.h). */
#include "http/target.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/num.h"
#include "http/http.h"

/* RFC 3986 s2.3 */
static bool target_unreserved(unsigned c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Decodes the escapes of unreserved bytes in p[0..n) in place and
 * upper-cases the others. Returns the new length or -HTTP_E_TARGET. */
static long target_decode(char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t r = 0, w = 0;

	while (r < n) {
		uint64_t v;

		if (p[r] == '\\')
			return -HTTP_E_TARGET;
		if (p[r] != '%') {
			p[w++] = p[r++];
			continue;
		}
		/* Two hex digits, not zero (no NUL). */
		if (n - r < 3 || num_parse_hex_u64(p + r + 1, 2, 1, 255, &v) < 0)
			return -HTTP_E_TARGET;
		r += 3;
		if (target_unreserved((unsigned)v)) {
			p[w++] = (char)v;
		} else {
			p[w++] = '%';
			p[w++] = hex[v >> 4];
			p[w++] = hex[v & 15];
		}
	}
	return (long)w;
}

static bool target_is_dots(const char *s, size_t n)
{
	return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

/* True when a backend that also splits at "%2F", "%5C" or ';' would see
 * a dot segment in seg[0..n). Escapes are upper-case by now. */
static bool target_hidden_dots(const char *seg, size_t n)
{
	size_t start = 0, i = 0;

	while (i <= n) {
		size_t cut = 0;
		if (i == n || seg[i] == ';')
			cut = 1;
		else if (n - i >= 3 && (!memcmp(seg + i, "%2F", 3) || !memcmp(seg + i, "%5C", 3)))
			cut = 3;
		if (!cut) {
			i++;
			continue;
		}
		if (target_is_dots(seg + start, i - start))
			return true;
		i += cut;
		start = i;
	}
	return false;
}

/* Removes dot segments and empty segments from the decoded path
 * p[0..n) (p[0] == '/') in place. Returns the new length or -err. */
static long target_segments(char *p, size_t n)
{
	size_t r = 0, w = 0;

	while (r < n) {
		size_t s = r + 1, e = s;
		bool last;

		while (e < n && p[e] != '/')
			e++;
		last = e >= n;
		r = e;
		if (e == s || target_is_dots(p + s, e - s)) {
			if (e - s == 2)	/* "..": back to the previous '/' */
				while (w > 0 && p[--w] != '/')
					;
			if (last)
				p[w++] = '/';
			continue;
		}
		if (target_hidden_dots(p + s, e - s))
			return -HTTP_E_TARGET;
		p[w++] = '/';
		memmove(p + w, p + s, e - s);
		w += e - s;
	}
	if (w == 0)
		p[w++] = '/';
	return (long)w;
}

int http_target_normalize(char *p, size_t *len)
{
	size_t n = *len, q;
	const char *qm;
	long plen;

	if (n == 0 || p[0] != '/')
		return 0;
	if (memchr(p, '#', n))
		return -HTTP_E_TARGET;
	qm = memchr(p, '?', n);
	q = qm ? (size_t)(qm - p) : n;
	plen = target_decode(p, q);
	if (plen < 0)
		return (int)plen;
	plen = target_segments(p, (size_t)plen);
	if (plen < 0)
		return (int)plen;
	memmove(p + plen, p + q, n - q);
	*len = (size_t)plen + (n - q);
	return 0;
}

/* An encoded separator ("%2F" or "%5C", upper case in a normalised
 * path) at path.p[i]. */
static bool target_encoded_slash(struct str path, size_t i)
{
	return i + 3 <= path.len && path.p[i] == '%' &&
	       ((path.p[i + 1] == '2' && path.p[i + 2] == 'F') ||
		(path.p[i + 1] == '5' && path.p[i + 2] == 'C'));
}

bool http_path_has_encoded_slash(struct str path)
{
	for (size_t i = 0; i < path.len && path.p[i] != '?'; i++)
		if (target_encoded_slash(path, i))
			return true;
	return false;
}

/* The index after the run of separators ('/', "%2F", "%5C") at i. */
static size_t target_skip_slashes(struct str path, size_t i)
{
	for (;;) {
		if (i < path.len && path.p[i] == '/')
			i++;
		else if (target_encoded_slash(path, i))
			i += 3;
		else
			return i;
	}
}

bool http_path_prefix_match_decoded(struct str path, const char *prefix, size_t plen)
{
	size_t i = 0;

	for (size_t k = 0; k < plen; k++) {
		if (prefix[k] == '/') {
			size_t j = target_skip_slashes(path, i);

			if (j == i)
				return false;
			i = j;
			continue;
		}
		if (i >= path.len || str_lower_ascii(path.p[i]) != str_lower_ascii(prefix[k]))
			return false;
		i++;
	}
	if (plen == 1 || i == path.len)
		return true;
	return path.p[i] == '/' || path.p[i] == '?' || path.p[i] == ';' ||
	       target_encoded_slash(path, i);
}

bool http_path_prefix_match(struct str path, const char *prefix, size_t plen)
{
	char next;

	if (path.len < plen || strncasecmp(path.p, prefix, plen))
		return false;
	if (plen == 1 || path.len == plen)
		return true;
	next = path.p[plen];
	return next == '/' || next == '?' || next == ';';
}
