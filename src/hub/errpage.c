/* errpage.c - the hub's own responses: fixed texts that reveal nothing
 * about the upstream or the reason beyond the status itself. */
#include <stdio.h>
#include <string.h>

#include "hub/xchg.h"

const char *xchg_status_text(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

void xchg_error_body(char *out, size_t len, int status, const char *agent)
{
	const char *t = xchg_status_text(status);

	if (agent && agent[0])
		snprintf(out, len, "%d %s\nThe agent \"%s\" is offline.\n", status, t, agent);
	else
		snprintf(out, len, "%d %s\n", status, t);
}

int xchg_error_page(struct buf *out, int status, bool head_only)
{
	return xchg_error_page_agent(out, status, head_only, NULL);
}

int xchg_error_page_agent(struct buf *out, int status, bool head_only,
			  const char *agent)
{
	const char *t = xchg_status_text(status);
	char body[160];
	int n;

	xchg_error_body(body, sizeof(body), status, agent);
	n = (int)strlen(body);
	return buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			  "Content-Length: %d\r\nCache-Control: no-store\r\n"
			  "Connection: close\r\n\r\n%s",
			  status, t, n, head_only ? "" : body);
}
