/* http.h - HTTP/1.1 message heads as parsed views (types and limits only).
 *
 * A parsed head is a set of byte views into the caller's input buffer: it
 * is valid while that buffer is neither moved nor consumed. Parsing is
 * strict (RFC 9112): every ambiguity that could let two parsers disagree
 * about where a message ends is an error, never a guess. */
#ifndef POSTERN_HTTP_HTTP_H
#define POSTERN_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "core/str.h"

#define HTTP_MAX_HEADERS 100

enum http_method {
	HTTP_M_OTHER = 0,	/* a valid token we do not know: forwarded */
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_OPTIONS,
	HTTP_M_PATCH,
	HTTP_M_TRACE,
	HTTP_M_CONNECT,
	HTTP_M_MAX
};

/* How the body of a message is delimited. */
enum http_body {
	HTTP_BODY_NONE = 0,
	HTTP_BODY_LENGTH,	/* Content-Length bytes */
	HTTP_BODY_CHUNKED,	/* Transfer-Encoding: chunked */
	HTTP_BODY_CLOSE,	/* responses only: until the connection closes */
	HTTP_BODY_MAX
};

/* Parse errors. Each maps to the status sent before closing. */
enum http_err {
	HTTP_OK = 0,
	HTTP_E_SYNTAX = 1,	/* malformed line, bad token, bad version */
	HTTP_E_CTL,		/* NUL or another control byte */
	HTTP_E_BARE_CR,		/* CR not followed by LF */
	HTTP_E_BARE_LF,		/* LF without CR */
	HTTP_E_OBS_FOLD,	/* a line starting with SP/HTAB */
	HTTP_E_HDR_NAME,	/* invalid token char or space before ':' */
	HTTP_E_LINE_LONG,	/* request/status line over the limit (414) */
	HTTP_E_HEAD_LARGE,	/* head bytes over the limit (431) */
	HTTP_E_HDR_COUNT,	/* too many header fields (431) */
	HTTP_E_VERSION,		/* not HTTP/1.0 or HTTP/1.1 (505) */
	HTTP_E_CL_TE,		/* both Content-Length and Transfer-Encoding */
	HTTP_E_CL_DUP,		/* Content-Length more than once */
	HTTP_E_CL_BAD,		/* Content-Length not a bounded number */
	HTTP_E_TE_BAD,		/* chunked not last, repeated, or on HTTP/1.0 */
	HTTP_E_TE_CODING,	/* a coding other than chunked (501) */
	HTTP_E_HOST_DUP,	/* Host more than once */
	HTTP_E_HOST_MISSING,	/* HTTP/1.1 request without Host */
	HTTP_E_HOST_BAD,	/* Host with characters outside a URI authority */
	HTTP_E_HOST_MISMATCH,	/* absolute-URI authority differs from Host */
	HTTP_E_TARGET,		/* request-target form not allowed */
	HTTP_E_METHOD,		/* CONNECT: not a forward proxy (405) */
	HTTP_E_EXPECT,		/* an expectation other than 100-continue (417) */
	HTTP_E_STATUS,		/* response status code out of range */
	HTTP_E_MAX
};

#define HTTP_F_CLOSE (1u << 0)		/* Connection: close, or 1.0 w/o keep-alive */
#define HTTP_F_KEEPALIVE (1u << 1)	/* Connection: keep-alive was sent */
#define HTTP_F_UPGRADE (1u << 2)	/* Connection: upgrade and an Upgrade field */
#define HTTP_F_CONTINUE (1u << 3)	/* Expect: 100-continue */
#define HTTP_F_CONN_TOKENS (1u << 4)	/* Connection names other fields */
#define HTTP_F_ABSOLUTE (1u << 5)	/* request-target was absolute-form */

struct http_header {
	struct str name;
	struct str value;	/* OWS trimmed */
};

struct http_msg {
	/* request line */
	struct str method;
	enum http_method meth;
	struct str target;	/* as sent */
	struct str path;	/* origin-form part ("/x?y"), also for absolute-form */
	/* status line */
	int status;
	struct str reason;
	int minor;		/* HTTP/1.<minor>: 0 or 1 */
	struct http_header hdr[HTTP_MAX_HEADERS];
	unsigned nhdr;
	struct str host;	/* Host field value, or the absolute-form authority */
	struct str upgrade;	/* Upgrade field value */
	enum http_body body;
	uint64_t content_length;
	unsigned flags;
	size_t head_len;	/* bytes of the head including the blank line */
};

struct http_limits {
	size_t max_line;	/* request/status line */
	size_t max_head;	/* whole head */
	unsigned max_headers;	/* <= HTTP_MAX_HEADERS */
	uint64_t max_body;	/* largest Content-Length accepted */
};

/* The largest Content-Length or chunk size we represent (2^62). */
#define HTTP_LEN_MAX (1ULL << 62)

#endif
