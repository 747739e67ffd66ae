/* parse.c - strict HTTP/1.1 request and response heads.
 *
 * The head is located first (the blank line, within the limits), then
 * parsed in one pass: start line, fields, and the framing rules that
 * decide where the body ends. Anything ambiguous is an error. */
#include "http/parse.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core/num.h"

#define HTTP_MAX_LEADING_CRLF 8

/* ---- character classes ---- */

static const uint8_t http_tchar_tab[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
	['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
	['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
	['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
};

bool http_tchar(unsigned char c)
{
	return http_tchar_tab[c];
}

/* field-vchar / SP / HTAB / obs-text: everything but CTLs and DEL. */
static bool http_vchar_ws(unsigned char c)
{
	return c >= 0x20 ? c != 0x7f : c == '\t';
}

/* Characters of a URI authority (reg-name, IP-literal, port). */
static bool http_host_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("-._~!$&'()*+,;=:[]%", c) != NULL;
}

/* ---- line splitting ---- */

/* Checks the bytes of one line (without its CRLF) for bare CR, bare LF
 * and NUL. Returns 0 or -err. */
static int http_line_check(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20)
			continue;
		if (c == '\r')
			return -HTTP_E_BARE_CR;
		if (c == '\n')
			return -HTTP_E_BARE_LF;
		if (c != '\t')
			return -HTTP_E_CTL;
	}
	return 0;
}

/* The first blank line in p[from, len): the "\r\n\r\n" that ends a
 * head (returned), or a bare "\n\n" before it (*lf2 set, NULL returned).
 * NULL with *lf2 NULL: neither yet. One pass over the LFs (heads are
 * parsed twice per proxied request, so two memmem scans showed up). */
static const char *http_blank_line(const char *p, size_t from, size_t len,
				   const char **lf2)
{
	const char *q = p + from, *end = p + len;

	*lf2 = NULL;
	while (q < end && (q = memchr(q, '\n', (size_t)(end - q)))) {
		if (q + 1 < end && q[1] == '\n') {
			*lf2 = q;
			return NULL;
		}
		if (q + 2 < end && q[1] == '\r' && q[2] == '\n' && q > p + from &&
		    q[-1] == '\r')
			return q - 1;
		q++;
	}
	return NULL;
}

/* Locates the end of the head. Returns its length (through CRLFCRLF),
 * 0 if more bytes are needed, or -err when a limit is exceeded. A bare LF
 * anywhere in the head is found by the line checks later. */
static int http_head_end(const char *p, size_t len, size_t start,
			 const struct http_limits *lim, size_t *scan)
{
	size_t from = *scan > start + 3 ? *scan - 3 : start;
	const char *nl, *end, *lf2;

	/* The start line must end within max_line. */
	nl = memchr(p + start, '\n', len - start);
	if (!nl) {
		if (len - start > lim->max_line)
			return -HTTP_E_LINE_LONG;
		*scan = len;
		return 0;
	}
	if ((size_t)(nl - (p + start)) > lim->max_line)
		return -HTTP_E_LINE_LONG;
	end = http_blank_line(p, from, len, &lf2);
	/* A head ending in a bare LF would otherwise wait for the limit. */
	if (lf2)
		return -HTTP_E_BARE_LF;
	if (!end) {
		if (len - start > lim->max_head)
			return -HTTP_E_HEAD_LARGE;
		*scan = len;
		return 0;
	}
	if ((size_t)(end + 4 - (p + start)) > lim->max_head)
		return -HTTP_E_HEAD_LARGE;
	return (int)(end + 4 - p);
}

/* ---- start lines ---- */

enum http_method http_method_lookup(struct str m)
{
	static const struct {
		const char *name;
		enum http_method m;
	} tab[] = {
		{ "GET", HTTP_M_GET }, { "HEAD", HTTP_M_HEAD },
		{ "POST", HTTP_M_POST }, { "PUT", HTTP_M_PUT },
		{ "DELETE", HTTP_M_DELETE }, { "OPTIONS", HTTP_M_OPTIONS },
		{ "PATCH", HTTP_M_PATCH }, { "TRACE", HTTP_M_TRACE },
		{ "CONNECT", HTTP_M_CONNECT },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (str_eq(m, str_cstr(tab[i].name)))
			return tab[i].m;
	return HTTP_M_OTHER;
}

/* "HTTP/1.x" -> minor in *minor. Returns 0 or -err. */
static int http_version(const char *p, size_t n, int *minor)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.')
		return -HTTP_E_SYNTAX;
	if (p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return -HTTP_E_SYNTAX;
	if (p[5] != '1' || p[7] > '1')
		return -HTTP_E_VERSION;
	*minor = p[7] - '0';
	return 0;
}

/* Splits an absolute-form target "scheme://authority/path?q" into the
 * authority and the origin-form path. Returns 0 or -err. */
static int http_target_absolute(struct http_msg *m)
{
	struct str t = m->target;
	size_t i = 0, a;

	while (i < t.len && t.p[i] != ':')
		i++;
	if (!str_eq_ci(str_make(t.p, i), STR_LIT("http")) &&
	    !str_eq_ci(str_make(t.p, i), STR_LIT("https")))
		return -HTTP_E_TARGET;
	if (t.len - i < 3 || memcmp(t.p + i, "://", 3) != 0)
		return -HTTP_E_TARGET;
	a = i + 3;
	for (i = a; i < t.len && t.p[i] != '/' && t.p[i] != '?'; i++)
		if (!http_host_char((unsigned char)t.p[i]))
			return -HTTP_E_HOST_BAD;
	if (i == a)
		return -HTTP_E_TARGET;
	m->host = str_make(t.p + a, i - a);
	m->path = i < t.len && t.p[i] == '/' ? str_make(t.p + i, t.len - i)
					       : STR_LIT("/");
	m->flags |= HTTP_F_ABSOLUTE;
	return 0;
}

static int http_target(struct http_msg *m)
{
	for (size_t i = 0; i < m->target.len; i++) {
		unsigned char c = (unsigned char)m->target.p[i];
		if (c <= 0x20 || c >= 0x7f)
			return -HTTP_E_TARGET;
	}
	if (m->meth == HTTP_M_CONNECT)
		return -HTTP_E_METHOD;
	if (m->target.p[0] == '/') {
		m->path = m->target;
		return 0;
	}
	if (m->target.len == 1 && m->target.p[0] == '*')
		return m->meth == HTTP_M_OPTIONS ? 0 : -HTTP_E_TARGET;
	return http_target_absolute(m);
}

/* method SP request-target SP HTTP-version */
static int http_request_line(struct http_msg *m, const char *p, size_t n)
{
	const char *sp1, *sp2;
	size_t i;
	int r;

	sp1 = memchr(p, ' ', n);
	if (!sp1 || sp1 == p)
		return -HTTP_E_SYNTAX;
	for (i = 0; p + i < sp1; i++)
		if (!http_tchar((unsigned char)p[i]))
			return -HTTP_E_SYNTAX;
	m->method = str_make(p, i);
	m->meth = http_method_lookup(m->method);
	sp2 = memchr(sp1 + 1, ' ', (size_t)(p + n - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return -HTTP_E_SYNTAX;
	m->target = str_make(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	r = http_version(sp2 + 1, (size_t)(p + n - sp2 - 1), &m->minor);
	if (r < 0)
		return r;
	return http_target(m);
}

/* HTTP-version SP 3DIGIT [SP reason-phrase] */
static int http_status_line(struct http_msg *m, const char *p, size_t n)
{
	uint64_t code;
	int r;

	if (n < 12 || p[8] != ' ')
		return -HTTP_E_SYNTAX;
	r = http_version(p, 8, &m->minor);
	if (r < 0)
		return r;
	if (num_parse_u64(p + 9, 3, 100, 999, &code) < 0)
		return -HTTP_E_STATUS;
	if (n > 12 && p[12] != ' ')
		return -HTTP_E_SYNTAX;
	m->status = (int)code;
	m->reason = n > 13 ? str_make(p + 13, n - 13) : STR_NULL;
	return 0;
}

/* ---- fields ---- */

/* Walks a comma-separated list: returns the next element (OWS trimmed,
 * possibly empty) and advances *rest. False at the end. */
static bool http_list_next(struct str *rest, struct str *elem)
{
	const char *comma;

	if (!rest->p || rest->len == 0)
		return false;
	comma = memchr(rest->p, ',', rest->len);
	if (!comma) {
		*elem = str_trim_ows(*rest);
		*rest = STR_NULL;
		return true;
	}
	*elem = str_trim_ows(str_make(rest->p, (size_t)(comma - rest->p)));
	rest->len -= (size_t)(comma - rest->p) + 1;
	rest->p = comma + 1;
	return true;
}

struct http_seen {
	bool cl, te, chunked, host;
};

static int http_field_te(struct http_msg *m, struct http_seen *s, struct str v)
{
	struct str rest = v, e;

	s->te = true;
	while (http_list_next(&rest, &e)) {
		if (e.len == 0)
			continue;
		/* Any coding after chunked, or chunked twice: ambiguous. */
		if (s->chunked)
			return -HTTP_E_TE_BAD;
		if (!str_eq_ci(e, STR_LIT("chunked")))
			return -HTTP_E_TE_CODING;
		s->chunked = true;
	}
	(void)m;
	return 0;
}

static int http_field_cl(struct http_msg *m, struct http_seen *s, struct str v,
			 const struct http_limits *lim)
{
	if (s->cl)
		return -HTTP_E_CL_DUP;
	s->cl = true;
	if (num_parse_u64(v.p, v.len, 0, HTTP_LEN_MAX, &m->content_length) < 0)
		return -HTTP_E_CL_BAD;
	if (lim->max_body && m->content_length > lim->max_body)
		return -HTTP_E_CL_BAD;
	return 0;
}

static void http_field_connection(struct http_msg *m, struct str v)
{
	struct str rest = v, e;

	while (http_list_next(&rest, &e)) {
		if (str_eq_ci(e, STR_LIT("close")))
			m->flags |= HTTP_F_CLOSE;
		else if (str_eq_ci(e, STR_LIT("keep-alive")))
			m->flags |= HTTP_F_KEEPALIVE;
		else if (str_eq_ci(e, STR_LIT("upgrade")))
			m->flags |= HTTP_F_UPGRADE;
		else if (e.len)
			m->flags |= HTTP_F_CONN_TOKENS;
	}
}

static int http_field_host(struct http_msg *m, struct http_seen *s, struct str v)
{
	if (s->host)
		return -HTTP_E_HOST_DUP;
	s->host = true;
	for (size_t i = 0; i < v.len; i++)
		if (!http_host_char((unsigned char)v.p[i]))
			return -HTTP_E_HOST_BAD;
	if (m->flags & HTTP_F_ABSOLUTE) {
		/* The authority wins, but a different Host is an attack. */
		if (!str_eq_ci(m->host, v))
			return -HTTP_E_HOST_MISMATCH;
		return 0;
	}
	m->host = v;
	return 0;
}

/* Interprets the fields that decide framing and routing. */
static int http_field(struct http_msg *m, struct http_seen *s,
		      const struct http_header *h, const struct http_limits *lim,
		      bool request)
{
	struct str n = h->name;

	switch (n.len) {
	case 4:
		if (request && str_eq_ci(n, STR_LIT("host")))
			return http_field_host(m, s, h->value);
		break;
	case 6:
		if (request && str_eq_ci(n, STR_LIT("expect"))) {
			if (!str_eq_ci(h->value, STR_LIT("100-continue")))
				return -HTTP_E_EXPECT;
			m->flags |= HTTP_F_CONTINUE;
		}
		break;
	case 7:
		if (str_eq_ci(n, STR_LIT("upgrade")))
			m->upgrade = h->value;
		break;
	case 10:
		if (str_eq_ci(n, STR_LIT("connection")))
			http_field_connection(m, h->value);
		break;
	case 14:
		if (str_eq_ci(n, STR_LIT("content-length")))
			return http_field_cl(m, s, h->value, lim);
		break;
	case 17:
		if (str_eq_ci(n, STR_LIT("transfer-encoding")))
			return http_field_te(m, s, h->value);
		break;
	}
	return 0;
}

/* name ":" OWS value OWS (no CRLF). */
static int http_field_line(struct http_header *h, const char *p, size_t n)
{
	size_t i = 0;

	if (p[0] == ' ' || p[0] == '\t')
		return -HTTP_E_OBS_FOLD;
	while (i < n && http_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return -HTTP_E_HDR_NAME;
	h->name = str_make(p, i);
	for (size_t j = i + 1; j < n; j++)
		if (!http_vchar_ws((unsigned char)p[j]))
			return -HTTP_E_CTL;
	h->value = str_trim_ows(str_make(p + i + 1, n - i - 1));
	return 0;
}

/* Parses fields from p[0..n) (each ending in CRLF; the blank line is not
 * included). Returns 0 or -err. */
static int http_fields(struct http_msg *m, const char *p, size_t n,
		       const struct http_limits *lim, bool request,
		       struct http_seen *s)
{
	const char *end = p + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ln;
		int r;

		if (!nl || nl == p || nl[-1] != '\r')
			return nl ? -HTTP_E_BARE_LF : -HTTP_E_SYNTAX;
		ln = (size_t)(nl - 1 - p);
		if (ln == 0)
			return -HTTP_E_SYNTAX;
		r = http_line_check(p, ln);
		if (r < 0)
			return r;
		if (m->nhdr >= lim->max_headers || m->nhdr >= HTTP_MAX_HEADERS)
			return -HTTP_E_HDR_COUNT;
		r = http_field_line(&m->hdr[m->nhdr], p, ln);
		if (r < 0)
			return r;
		r = http_field(m, s, &m->hdr[m->nhdr], lim, request);
		if (r < 0)
			return r;
		m->nhdr++;
		p = nl + 1;
	}
	return 0;
}

/* Splits off the start line of p[0..head) and checks it. Sets *line_len
 * and returns 0 or -err. */
static int http_start_line(const char *p, size_t head, size_t *line_len)
{
	const char *nl = memchr(p, '\n', head);
	int r;

	if (!nl || nl == p || nl[-1] != '\r')
		return -HTTP_E_BARE_LF;
	*line_len = (size_t)(nl - 1 - p);
	r = http_line_check(p, *line_len);
	return r;
}

/* Skips up to HTTP_MAX_LEADING_CRLF empty lines before a request line
 * (RFC 9112 2.2). Returns the offset of the first other byte, or -1 when
 * the input so far is only CRLFs (need more). */
static long http_skip_crlf(const char *p, size_t len, int *err)
{
	size_t i = 0;
	unsigned n = 0;

	*err = 0;
	while (i + 1 < len && p[i] == '\r' && p[i + 1] == '\n') {
		if (++n > HTTP_MAX_LEADING_CRLF) {
			*err = -HTTP_E_SYNTAX;
			return -1;
		}
		i += 2;
	}
	if (i == len || (i + 1 == len && p[i] == '\r'))
		return -1;
	return (long)i;
}

static int http_request_framing(struct http_msg *m, const struct http_seen *s)
{
	if (s->cl && s->te)
		return -HTTP_E_CL_TE;
	if (s->te) {
		/* A 1.0 message cannot carry chunked; request TE must end in
		 * chunked or the length is unknowable. */
		if (m->minor == 0 || !s->chunked)
			return -HTTP_E_TE_BAD;
		m->body = HTTP_BODY_CHUNKED;
	} else if (s->cl && m->content_length > 0) {
		m->body = HTTP_BODY_LENGTH;
	}
	if (m->minor == 1 && !s->host)
		return -HTTP_E_HOST_MISSING;
	if (m->minor == 0 && !(m->flags & HTTP_F_KEEPALIVE))
		m->flags |= HTTP_F_CLOSE;
	if (m->upgrade.len == 0)
		m->flags &= ~HTTP_F_UPGRADE;
	return 0;
}

int http_parse_request(struct http_msg *m, const char *p, size_t len,
		       const struct http_limits *lim, size_t *scan)
{
	struct http_seen s = { 0 };
	size_t line_len;
	long start;
	int head, r;

	start = http_skip_crlf(p, len, &r);
	if (start < 0)
		return r;
	head = http_head_end(p, len, (size_t)start, lim, scan);
	if (head <= 0)
		return head;
	memset(m, 0, offsetof(struct http_msg, hdr));
	m->nhdr = 0;
	m->host = m->upgrade = STR_NULL;
	m->body = HTTP_BODY_NONE;
	m->content_length = 0;
	m->flags = 0;
	r = http_start_line(p + start, (size_t)head - (size_t)start, &line_len);
	if (r < 0)
		return r;
	r = http_request_line(m, p + start, line_len);
	if (r < 0)
		return r;
	r = http_fields(m, p + start + line_len + 2,
			(size_t)head - (size_t)start - line_len - 4, lim, true, &s);
	if (r < 0)
		return r;
	r = http_request_framing(m, &s);
	if (r < 0)
		return r;
	m->head_len = (size_t)head;
	return head;
}

static int http_response_framing(struct http_msg *m, const struct http_seen *s,
				 enum http_method req)
{
	if (s->cl && s->te)
		return -HTTP_E_CL_TE;
	if (s->te && (m->minor == 0 || !s->chunked))
		return -HTTP_E_TE_BAD;
	if (m->minor == 0 && !(m->flags & HTTP_F_KEEPALIVE))
		m->flags |= HTTP_F_CLOSE;
	if (req == HTTP_M_HEAD || m->status < 200 || m->status == 204 ||
	    m->status == 304)
		m->body = HTTP_BODY_NONE;
	else if (s->te)
		m->body = HTTP_BODY_CHUNKED;
	else if (s->cl)
		m->body = m->content_length ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	else
		m->body = HTTP_BODY_CLOSE;
	if (m->upgrade.len == 0)
		m->flags &= ~HTTP_F_UPGRADE;
	return 0;
}

int http_parse_response(struct http_msg *m, const char *p, size_t len,
			const struct http_limits *lim, size_t *scan,
			enum http_method req)
{
	struct http_seen s = { 0 };
	size_t line_len;
	int head, r;

	head = http_head_end(p, len, 0, lim, scan);
	if (head <= 0)
		return head;
	memset(m, 0, offsetof(struct http_msg, hdr));
	m->nhdr = 0;
	m->host = m->upgrade = STR_NULL;
	m->content_length = 0;
	m->flags = 0;
	r = http_start_line(p, (size_t)head, &line_len);
	if (r < 0)
		return r;
	r = http_status_line(m, p, line_len);
	if (r < 0)
		return r;
	r = http_fields(m, p + line_len + 2, (size_t)head - line_len - 4, lim,
			false, &s);
	if (r < 0)
		return r;
	r = http_response_framing(m, &s, req);
	if (r < 0)
		return r;
	m->head_len = (size_t)head;
	return head;
}

int http_err_status(int err)
{
	switch (err < 0 ? -err : err) {
	case HTTP_E_LINE_LONG:
		return 414;
	case HTTP_E_HEAD_LARGE:
	case HTTP_E_HDR_COUNT:
		return 431;
	case HTTP_E_VERSION:
		return 505;
	case HTTP_E_TE_CODING:
		return 501;
	case HTTP_E_METHOD:
		return 405;
	case HTTP_E_EXPECT:
		return 417;
	default:
		return 400;
	}
}

const char *http_err_name(int err)
{
	static const char *const names[HTTP_E_MAX] = {
		[HTTP_OK] = "ok", [HTTP_E_SYNTAX] = "syntax",
		[HTTP_E_CTL] = "ctl", [HTTP_E_BARE_CR] = "bare_cr",
		[HTTP_E_BARE_LF] = "bare_lf", [HTTP_E_OBS_FOLD] = "obs_fold",
		[HTTP_E_HDR_NAME] = "header_name",
		[HTTP_E_LINE_LONG] = "line_too_long",
		[HTTP_E_HEAD_LARGE] = "head_too_large",
		[HTTP_E_HDR_COUNT] = "too_many_headers",
		[HTTP_E_VERSION] = "version", [HTTP_E_CL_TE] = "cl_and_te",
		[HTTP_E_CL_DUP] = "cl_duplicate", [HTTP_E_CL_BAD] = "cl_invalid",
		[HTTP_E_TE_BAD] = "te_invalid", [HTTP_E_TE_CODING] = "te_coding",
		[HTTP_E_HOST_DUP] = "host_duplicate",
		[HTTP_E_HOST_MISSING] = "host_missing",
		[HTTP_E_HOST_BAD] = "host_invalid",
		[HTTP_E_HOST_MISMATCH] = "host_mismatch",
		[HTTP_E_TARGET] = "target", [HTTP_E_METHOD] = "method",
		[HTTP_E_EXPECT] = "expect", [HTTP_E_STATUS] = "status",
	};
	int e = err < 0 ? -err : err;
	return e < HTTP_E_MAX && names[e] ? names[e] : "unknown";
}

int http_msg_find(const struct http_msg *m, struct str name)
{
	for (unsigned i = 0; i < m->nhdr; i++)
		if (str_eq_ci(m->hdr[i].name, name))
			return (int)i;
	return -1;
}

static bool http_hop_fixed(struct str n)
{
	static const struct str hop[] = {
		STR_LIT("connection"), STR_LIT("keep-alive"),
		STR_LIT("proxy-connection"), STR_LIT("te"),
		STR_LIT("transfer-encoding"), STR_LIT("upgrade"),
		STR_LIT("proxy-authorization"), STR_LIT("proxy-authenticate"),
		STR_LIT("trailer"),
	};
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (str_eq_ci(n, hop[i]))
			return true;
	return false;
}

bool http_msg_hop_by_hop(const struct http_msg *m, struct str name)
{
	if (http_hop_fixed(name))
		return true;
	if (!(m->flags & HTTP_F_CONN_TOKENS))
		return false;
	for (unsigned i = 0; i < m->nhdr; i++) {
		struct str rest, e;
		if (!str_eq_ci(m->hdr[i].name, STR_LIT("connection")))
			continue;
		rest = m->hdr[i].value;
		while (http_list_next(&rest, &e))
			if (str_eq_ci(e, name))
				return true;
	}
	return false;
}

int http_parse_field_line(struct http_header *h, const char *p, size_t n)
{
	int r;

	if (n == 0)
		return -HTTP_E_SYNTAX;
	r = http_line_check(p, n);
	return r < 0 ? r : http_field_line(h, p, n);
}
