/* xml_min.c - first-element text extraction with entity decoding. */
#include "acme/xml_min.h"

#include <errno.h>
#include <string.h>

static const struct {
	const char *ent;
	char ch;
} xml_ents[] = {
	{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
	{ "&quot;", '"' }, { "&apos;", '\'' },
};

static int xml_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		char ch = s[i];

		if (ch == '<' || ch == 0)
			return -EINVAL;
		if (ch == '&') {
			size_t k;
			for (k = 0; k < sizeof(xml_ents) / sizeof(xml_ents[0]); k++) {
				size_t el = strlen(xml_ents[k].ent);
				if (n - i >= el && !memcmp(s + i, xml_ents[k].ent, el)) {
					ch = xml_ents[k].ch;
					i += el;
					break;
				}
			}
			if (k == sizeof(xml_ents) / sizeof(xml_ents[0]))
				return -EINVAL;
		} else {
			i++;
		}
		if (o + 1 >= cap)
			return -ENOBUFS;
		out[o++] = ch;
	}
	out[o] = 0;
	return 0;
}

long xml_text(const char *p, size_t len, size_t from, const char *tag,
	      char *out, size_t cap)
{
	char open[80], close[82];
	size_t tl = strlen(tag);
	const char *s, *e;
	int rc;

	if (tl == 0 || tl > 64 || cap == 0 || from > len)
		return -EINVAL;
	memcpy(open + 1, tag, tl);
	open[0] = '<';
	open[tl + 1] = '>';
	memcpy(close + 2, tag, tl);
	close[0] = '<';
	close[1] = '/';
	close[tl + 2] = '>';
	s = memmem(p + from, len - from, open, tl + 2);
	if (!s)
		return -ENOENT;
	s += tl + 2;
	e = memmem(s, len - (size_t)(s - p), close, tl + 3);
	if (!e)
		return -EINVAL;
	rc = xml_decode(s, (size_t)(e - s), out, cap);
	if (rc)
		return rc;
	return (long)(e - p) + (long)tl + 3;
}

int xml_escape(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; *s; s++) {
		const char *rep = NULL;
		char one[2] = { *s, 0 };

		for (size_t k = 0; k < 4; k++)
			if (xml_ents[k].ch == *s)
				rep = xml_ents[k].ent;
		if (!rep)
			rep = one;
		size_t rl = strlen(rep);
		if (o + rl + 1 > cap)
			return -ENOBUFS;
		memcpy(out + o, rep, rl);
		o += rl;
	}
	out[o] = 0;
	return 0;
}
