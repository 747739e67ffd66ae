/* form.c - urlencoded form fields (see form.h). */
#include "http/form.h"

#include <string.h>

static int form_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = str_lower_ascii(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes s into out (cap bytes with the NUL). Returns the length or -2. */
static long form_decode(struct str s, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '%') {
			int hi = i + 2 < s.len ? form_hex(s.p[i + 1]) : -1;
			int lo = i + 2 < s.len ? form_hex(s.p[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -2;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c < 0x20 || c == 0x7f || n + 1 >= cap)
			return -2;
		out[n++] = (char)c;
	}
	out[n] = 0;
	return (long)n;
}

long http_form_get(struct str in, const char *name, char *out, size_t cap)
{
	char key[64];
	long found = -1;

	if (!cap)
		return -2;
	out[0] = 0;
	while (in.len) {
		const char *amp = memchr(in.p, '&', in.len);
		size_t n = amp ? (size_t)(amp - in.p) : in.len;
		struct str pair = str_make(in.p, n);
		const char *eq = memchr(pair.p, '=', pair.len);
		struct str k = eq ? str_make(pair.p, (size_t)(eq - pair.p)) : pair;
		struct str v = eq ? str_make(eq + 1, pair.len - k.len - 1) : STR_NULL;

		in = amp ? str_make(amp + 1, in.len - n - 1) : STR_NULL;
		if (form_decode(k, key, sizeof(key)) < 0 || strcmp(key, name))
			continue;
		if (found >= 0) {
			out[0] = 0;
			return -2;	/* given twice */
		}
		found = form_decode(v, out, cap);
		if (found < 0) {
			out[0] = 0;	/* nothing half-decoded is left */
			return -2;
		}
	}
	return found;
}
