/* r53_xml.c - expat callbacks that keep the Route 53 fields Postern uses. */
#include "acme/r53_xml.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <expat.h>

#define R53_NS_SEP '|'

/* Which element's text lands where: (parent, element) -> field. */
static const struct r53_field {
	const char *parent, *name;
	size_t off, cap;
	bool cut;		/* truncate instead of failing when too long */
} r53_fields[] = {
#define F(par, nm, fld, c) { par, nm, offsetof(struct r53_answer, fld), \
			     sizeof(((struct r53_answer *)0)->fld), c }
	F("Error", "Code", code, false),
	F("Error", "Message", message, true),
	F("HostedZone", "Id", zone_id, false),
	F("HostedZone", "Name", zone_name, false),
	F("ChangeInfo", "Id", change_id, false),
	F("ChangeInfo", "Status", status, false),
#undef F
};
#define R53_NFIELDS (sizeof(r53_fields) / sizeof(r53_fields[0]))
#define R53_DEPTH_MAX 16

struct r53_ctx {
	XML_Parser xp;
	struct r53_answer *a;
	char names[R53_DEPTH_MAX + 1][32];	/* local names, [0] = "" */
	unsigned depth, seen;		/* seen: bit per field already read */
	int field;			/* index being read, or -1 */
	size_t used;
	int err;
};

static void r53_stop(struct r53_ctx *c, int err)
{
	if (!c->err)
		c->err = err;
	XML_StopParser(c->xp, XML_FALSE);
}

/* "uri|local" or "local" -> "local", cut to fit (long names match nothing). */
static void r53_local(const XML_Char *name, char *out, size_t cap)
{
	const char *sep = strrchr(name, R53_NS_SEP);
	const char *l = sep ? sep + 1 : name;

	if (strlen(l) >= cap)
		l = "";
	memcpy(out, l, strlen(l) + 1);
}

static void XMLCALL r53_start(void *ud, const XML_Char *name, const XML_Char **attr)
{
	struct r53_ctx *c = ud;

	if (c->field >= 0 || ++c->depth > R53_DEPTH_MAX) {
		r53_stop(c, -EINVAL);	/* markup inside a field, or too deep */
		return;
	}
	r53_local(name, c->names[c->depth], sizeof(c->names[0]));
	for (size_t i = 0; i < R53_NFIELDS; i++)
		if (!(c->seen & 1u << i) &&
		    !strcmp(r53_fields[i].parent, c->names[c->depth - 1]) &&
		    !strcmp(r53_fields[i].name, c->names[c->depth])) {
			c->field = (int)i;
			c->used = 0;
			return;
		}
}

static void XMLCALL r53_end(void *ud, const XML_Char *name)
{
	struct r53_ctx *c = ud;

	if (c->field >= 0)
		c->seen |= 1u << c->field;
	c->field = -1;
	c->depth--;
}

static void XMLCALL r53_text(void *ud, const XML_Char *s, int len)
{
	struct r53_ctx *c = ud;
	const struct r53_field *f;
	char *dst;
	size_t n = (size_t)len;

	if (c->field < 0)
		return;
	f = &r53_fields[c->field];
	dst = (char *)c->a + f->off;
	if (c->used + n >= f->cap) {
		if (!f->cut) {
			r53_stop(c, -ENOBUFS);
			return;
		}
		n = f->cap - 1 - c->used;
	}
	memcpy(dst + c->used, s, n);
	c->used += n;
	dst[c->used] = 0;
}

/* Route 53 never sends a DTD: refusing one refuses every entity
 * declaration, so nothing expands (no "billion laughs") and no external
 * entity is ever looked at. */
static void XMLCALL r53_doctype(void *ud, const XML_Char *name,
				const XML_Char *sysid, const XML_Char *pubid,
				int has_internal_subset)
{
	r53_stop(ud, -EINVAL);
}

int r53_xml_parse(const char *p, size_t len, struct r53_answer *a)
{
	struct r53_ctx c = { .a = a, .field = -1 };
	enum XML_Status st;

	memset(a, 0, sizeof(*a));
	if (len > R53_XML_MAX)
		return -EMSGSIZE;
	c.xp = XML_ParserCreateNS("UTF-8", R53_NS_SEP);
	if (!c.xp)
		return -ENOMEM;
	XML_SetUserData(c.xp, &c);
	XML_SetElementHandler(c.xp, r53_start, r53_end);
	XML_SetCharacterDataHandler(c.xp, r53_text);
	XML_SetStartDoctypeDeclHandler(c.xp, r53_doctype);
	XML_SetParamEntityParsing(c.xp, XML_PARAM_ENTITY_PARSING_NEVER);
	st = XML_Parse(c.xp, p, (int)len, XML_TRUE);
	XML_ParserFree(c.xp);
	if (c.err || st != XML_STATUS_OK) {
		memset(a, 0, sizeof(*a));
		return c.err ? c.err : -EINVAL;
	}
	return 0;
}
