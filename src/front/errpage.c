/* errpage.c - the hub's own responses: fixed texts that reveal nothing
 * about the upstream or the reason beyond the status itself. */
#include <stdio.h>
#include <string.h>

#include "front/xchg.h"

/* RFC 9110 s15's reason phrases. A status outside the table gets an
 * empty phrase (allowed by RFC 9112 s4), never a wrong one. */
const char *errpage_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 203: return "Non-Authoritative Information";
	case 204: return "No Content";
	case 205: return "Reset Content";
	case 206: return "Partial Content";
	case 300: return "Multiple Choices";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 407: return "Proxy Authentication Required";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 422: return "Unprocessable Content";
	case 426: return "Upgrade Required";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "";
	}
}

void errpage_body(char *out, size_t len, int status, const char *agent)
{
	const char *t = errpage_status_text(status);

	if (agent && agent[0])
		snprintf(out, len, "%d %s\nThe agent \"%s\" is offline.\n", status, t, agent);
	else
		snprintf(out, len, "%d %s\n", status, t);
}

int errpage_make(struct buf *out, int status, bool head_only)
{
	return errpage_make_agent(out, status, head_only, NULL);
}

int errpage_make_agent(struct buf *out, int status, bool head_only,
			  const char *agent)
{
	const char *t = errpage_status_text(status);
	char body[160];
	int n;

	errpage_body(body, sizeof(body), status, agent);
	n = (int)strlen(body);
	return buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			  "Content-Length: %d\r\nCache-Control: no-store\r\n"
			  "Connection: close\r\n\r\n%s",
			  status, t, n, head_only ? "" : body);
}
