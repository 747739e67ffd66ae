/* chunked.c - chunked transfer coding: strict decoder, header encoder. */
#include "http/chunked.h"

#include <errno.h>
#include <string.h>

#include "core/num.h"
#include "http/http.h"
#include "http/parse.h"

void http_chunked_init(struct http_chunked *c, bool keep_trailers)
{
	c->state = HTTP_CH_SIZE;
	c->remaining = 0;
	c->line_len = 0;
	c->ndigits = 0;
	c->keep_trailers = keep_trailers;
	if (c->trailers.max != HTTP_TRAILERS_MAX)
		buf_init(&c->trailers, HTTP_TRAILERS_MAX);
	buf_reset(&c->trailers);
}

void http_chunked_free(struct http_chunked *c)
{
	buf_free(&c->trailers);
}

static int hexdigit(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	       (ch >= 'A' && ch <= 'F');
}

/* A size digit, ';' or CR. */
static int http_chunked_size(struct http_chunked *c, unsigned char ch)
{
	if (hexdigit(ch)) {
		/* Leading zeros are legal but bounded like everything else. */
		if (c->ndigits == sizeof(c->digits))
			return -HTTP_E_SYNTAX;
		c->digits[c->ndigits++] = (char)ch;
		return 0;
	}
	if (c->ndigits == 0 || (ch != ';' && ch != '\r'))
		return -HTTP_E_SYNTAX;
	if (num_parse_hex_u64(c->digits, c->ndigits, 0, HTTP_LEN_MAX,
			      &c->remaining) < 0)
		return -HTTP_E_SYNTAX;
	c->state = ch == ';' ? HTTP_CH_EXT : HTTP_CH_SIZE_LF;
	return 0;
}

/* Chunk extensions are ignored but must be visible, bounded text. */
static int http_chunked_ext(struct http_chunked *c, unsigned char ch)
{
	if (ch == '\r') {
		c->state = HTTP_CH_SIZE_LF;
		return 0;
	}
	if (ch < 0x20 ? ch != '\t' : ch == 0x7f)
		return -HTTP_E_CTL;
	return 0;
}

static int http_chunked_size_lf(struct http_chunked *c, unsigned char ch)
{
	if (ch != '\n')
		return -HTTP_E_BARE_CR;
	c->ndigits = 0;
	c->line_len = 0;
	c->state = c->remaining ? HTTP_CH_DATA : HTTP_CH_TRAILER;
	return 0;
}

/* Framing fields in a trailer could re-frame the message downstream. */
static bool http_trailer_forbidden(struct str name)
{
	return str_eq_ci(name, STR_LIT("content-length")) ||
	       str_eq_ci(name, STR_LIT("host")) ||
	       http_msg_hop_by_hop(&(struct http_msg){ .flags = 0 }, name);
}

/* A complete trailer line (without CRLF) in c->line / the trailers buf. */
static int http_chunked_trailer_line(struct http_chunked *c, const char *p,
				     size_t n)
{
	struct http_header h;
	int r = http_parse_field_line(&h, p, n);

	if (r < 0)
		return r;
	if (!c->keep_trailers || http_trailer_forbidden(h.name))
		return 0;
	if (buf_append(&c->trailers, p, n) < 0 ||
	    buf_append(&c->trailers, "\r\n", 2) < 0)
		return -HTTP_E_HEAD_LARGE;
	return 0;
}

static int http_chunked_trailer(struct http_chunked *c, unsigned char ch)
{
	if (ch == '\r') {
		c->state = c->line_len ? HTTP_CH_TRAILER_LF : HTTP_CH_END_LF;
		return 0;
	}
	if (c->line_len >= sizeof(c->line))
		return -HTTP_E_HEAD_LARGE;
	c->line[c->line_len++] = (char)ch;
	return 0;
}

static int http_chunked_trailer_lf(struct http_chunked *c, unsigned char ch)
{
	int r;

	if (ch != '\n')
		return -HTTP_E_BARE_CR;
	r = http_chunked_trailer_line(c, c->line, c->line_len);
	c->line_len = 0;
	c->state = HTTP_CH_TRAILER;
	return r;
}

/* A framing byte that must be `want` (the CR or LF after a chunk's data,
 * the LF ending the body): on it, moves to `next` with an empty line;
 * otherwise returns -err. */
static int http_chunked_expect(struct http_chunked *c, unsigned char ch,
			       unsigned char want, int err,
			       enum http_chunked_state next)
{
	if (ch != want)
		return -err;
	c->state = next;
	c->line_len = 0;
	return 0;
}

/* One byte outside chunk data. Returns 0 or -err. */
static int http_chunked_byte(struct http_chunked *c, unsigned char ch)
{
	if (c->state <= HTTP_CH_SIZE_LF && ++c->line_len > HTTP_CHUNK_LINE_MAX)
		return -HTTP_E_LINE_LONG;
	switch (c->state) {
	case HTTP_CH_SIZE:
		return http_chunked_size(c, ch);
	case HTTP_CH_EXT:
		return http_chunked_ext(c, ch);
	case HTTP_CH_SIZE_LF:
		return http_chunked_size_lf(c, ch);
	case HTTP_CH_DATA_CR:
		return http_chunked_expect(c, ch, '\r', HTTP_E_SYNTAX, HTTP_CH_DATA_LF);
	case HTTP_CH_DATA_LF:
		return http_chunked_expect(c, ch, '\n', HTTP_E_BARE_CR, HTTP_CH_SIZE);
	case HTTP_CH_TRAILER:
		return http_chunked_trailer(c, ch);
	case HTTP_CH_TRAILER_LF:
		return http_chunked_trailer_lf(c, ch);
	case HTTP_CH_END_LF:
		return http_chunked_expect(c, ch, '\n', HTTP_E_BARE_CR, HTTP_CH_DONE);
	default:
		return -HTTP_E_SYNTAX;
	}
}

ssize_t http_chunked_feed(struct http_chunked *c, const char *in, size_t len,
			  struct str *data)
{
	size_t i = 0;

	*data = STR_NULL;
	while (i < len && c->state != HTTP_CH_DONE) {
		if (c->state == HTTP_CH_DATA) {
			size_t n = len - i;
			if (n > c->remaining)
				n = (size_t)c->remaining;
			*data = str_make(in + i, n);
			c->remaining -= n;
			if (!c->remaining)
				c->state = HTTP_CH_DATA_CR;
			return (ssize_t)(i + n);
		}
		int r = http_chunked_byte(c, (unsigned char)in[i]);
		if (r < 0)
			return r;
		i++;
	}
	return (ssize_t)i;
}

size_t http_chunk_header(char *out, uint64_t n)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	size_t k = 0, o = 0;

	do {
		tmp[k++] = hex[n & 15];
		n >>= 4;
	} while (n);
	while (k)
		out[o++] = tmp[--k];
	out[o++] = '\r';
	out[o++] = '\n';
	return o;
}

void http_chunked_unread(struct http_chunked *c, size_t n)
{
	if (n == 0)
		return;
	c->remaining += n;
	c->state = HTTP_CH_DATA;
}

int http_chunk_append(struct buf *b, const char *p, size_t n)
{
	char hdr[20];
	size_t hl = http_chunk_header(hdr, n);

	if (buf_room(b) < hl + n + 2)
		return -ENOBUFS;
	buf_append(b, hdr, hl);
	buf_append(b, p, n);
	buf_append(b, "\r\n", 2);
	return 0;
}
