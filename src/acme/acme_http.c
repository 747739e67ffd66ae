/* acme_http.c - ACME's requests on core/http_client, with the headers
 * ACME needs (Replay-Nonce, Location, Retry-After, Link rel="up"). */
#define LOG_SUBSYS "acme"
#include "acme/acme_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/str.h"

#define HTTP_HEADER_MAX 2048	/* longest header value kept */

int acme_http_init(struct acme_http *h, const char *ca_file, long timeout_ms)
{
	int rc = http_client_init(&h->hc, ca_file, timeout_ms > 0 ? timeout_ms : 30000,
				  ACME_HTTP_BODY_MAX);

	h->curl = rc == 0 ? h->hc.curl : NULL;
	return rc;
}

void acme_http_free(struct acme_http *h)
{
	http_client_free(&h->hc);
	h->curl = NULL;
}

void acme_http_resp_free(struct acme_http_resp *r)
{
	buf_free(&r->body);
	free(r->nonce);
	free(r->location);
	free(r->content_type);
	free(r->link_up);
	memset(r, 0, sizeof(*r));
}

static void http_keep(char **slot, struct str v)
{
	if (v.len > HTTP_HEADER_MAX)
		return;
	free(*slot);
	*slot = strndup(v.p, v.len);
}

/* Link: <url>;rel="up" -- keeps the URL of the first rel=up link. */
static void http_link(struct acme_http_resp *r, struct str v)
{
	const char *lt = memchr(v.p, '<', v.len), *gt;

	if (!lt || r->link_up)
		return;
	gt = memchr(lt, '>', v.len - (size_t)(lt - v.p));
	if (!gt || !memmem(gt, v.len - (size_t)(gt - v.p), "rel=\"up\"", 8))
		return;
	http_keep(&r->link_up, str_make(lt + 1, (size_t)(gt - lt - 1)));
}

/* The headers core/http_client does not keep itself. */
static void http_header(void *ctx, const char *n, size_t nlen, const char *v, size_t vlen)
{
	struct acme_http_resp *r = ctx;
	struct str name = str_make(n, nlen), val = str_make(v, vlen);

	if (str_eq_ci(name, STR_LIT("Replay-Nonce")))
		http_keep(&r->nonce, val);
	else if (str_eq_ci(name, STR_LIT("Link")))
		http_link(r, val);
}

int acme_http_do(struct acme_http *h, const struct acme_http_req *req,
		 struct acme_http_resp *r, char *err, size_t errlen)
{
	struct http_client_req hr = {
		.method = req->method, .url = req->url, .headers = req->headers,
		.body = req->body, .body_len = req->body_len, .aws_sigv4 = req->aws_sigv4,
		.aws_key_id = req->aws_key_id, .aws_secret = req->aws_secret,
	};
	struct http_client_resp resp;
	int rc;

	memset(r, 0, sizeof(*r));
	h->hc.on_header = http_header;
	h->hc.header_ctx = r;
	rc = http_client_do(&h->hc, &hr, &resp, err, errlen);
	h->hc.on_header = NULL;
	if (rc < 0) {
		/* The caller's messages name the request. */
		char why[256];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s %s: %s", req->method, req->url, why);
		acme_http_resp_free(r);
		return rc;
	}
	r->status = resp.status;
	r->body = resp.body;			/* moved */
	r->location = resp.location;		/* moved */
	r->content_type = resp.content_type;	/* moved */
	r->has_retry_after = resp.has_retry_after;
	r->retry_after_s = resp.retry_after_s;
	log_debug("%s %s -> %ld (%zu bytes)", req->method, req->url, r->status,
		  r->body.len);
	return 0;
}
