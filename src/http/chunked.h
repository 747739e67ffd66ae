/* chunked.h - the chunked transfer coding (RFC 9112 7.1), both ways.
 *
 * The decoder is a byte-at-a-time state machine over whatever arrives, so
 * a chunk line split across reads needs no buffering by the caller. It is
 * strict: chunk sizes are bare hex (one bounded parser: core/num), no
 * whitespace, CRLF only, extensions bounded and free of control bytes,
 * trailers parsed as header fields and bounded. */
#ifndef POSTERN_HTTP_CHUNKED_H
#define POSTERN_HTTP_CHUNKED_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/str.h"

#define HTTP_CHUNK_LINE_MAX 1024	/* size + extensions */
#define HTTP_TRAILERS_MAX 8192		/* all trailer lines */

enum http_chunked_state {
	HTTP_CH_SIZE = 0,
	HTTP_CH_EXT,
	HTTP_CH_SIZE_LF,
	HTTP_CH_DATA,
	HTTP_CH_DATA_CR,
	HTTP_CH_DATA_LF,
	HTTP_CH_TRAILER,
	HTTP_CH_TRAILER_LF,
	HTTP_CH_END_LF,
	HTTP_CH_DONE,
	HTTP_CH_MAX
};

struct http_chunked {
	enum http_chunked_state state;
	uint64_t remaining;	/* data bytes left in the current chunk */
	uint16_t line_len;	/* bytes of the current size/ext/trailer line */
	uint8_t ndigits;
	char digits[16];
	/* Trailer lines kept for forwarding ("Name: value\r\n" each), when
	 * keep_trailers; framing fields are dropped. */
	bool keep_trailers;
	struct buf trailers;
	char line[256];		/* current trailer line (prefix, for checks) */
};

/* Resets the decoder for a new body. `keep_trailers` keeps trailer lines
 * in c->trailers (bounded by HTTP_TRAILERS_MAX). */
void http_chunked_init(struct http_chunked *c, bool keep_trailers);
void http_chunked_free(struct http_chunked *c);

/* Decodes from in[0..len). Stops after one span of body data, at the end
 * of the body, or when the input is used up. Returns the bytes consumed
 * (>= 0; 0 only when len is 0 or the body is already done) with *data set
 * to the body bytes among them (a view into `in`, possibly empty), or
 * -enum http_err on malformed input. */
ssize_t http_chunked_feed(struct http_chunked *c, const char *in, size_t len,
			  struct str *data);

/* Gives back the last `n` bytes of the data span just returned (the
 * consumer took fewer): they will be returned again by the next feed,
 * which the caller must start at those bytes. */
void http_chunked_unread(struct http_chunked *c, size_t n);

static inline bool http_chunked_done(const struct http_chunked *c)
{
	return c->state == HTTP_CH_DONE;
}

/* Writes the chunk header "<hex>\r\n" for a chunk of `n` bytes into out
 * (at least 19 bytes). Returns its length. */
size_t http_chunk_header(char *out, uint64_t n);

/* Appends one chunk (header, `n` bytes, CRLF) to b; the caller has
 * checked the room (n + HTTP_CHUNK_OVERHEAD). Returns 0 or -ENOBUFS. */
#define HTTP_CHUNK_OVERHEAD 32
int http_chunk_append(struct buf *b, const char *p, size_t n);

#endif
