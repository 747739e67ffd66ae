/* acme_http.c - libcurl easy requests with bounded bodies and the headers
 * ACME needs (Replay-Nonce, Location, Retry-After, Link). */
#define LOG_SUBSYS "acme"
#include "acme/acme_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "core/log.h"
#include "core/num.h"
#include "core/str.h"
#include "core/version.h"

#define HTTP_HEADER_MAX 2048	/* longest header value kept */

int acme_http_init(struct acme_http *h, const char *ca_file, long timeout_ms)
{
	static bool global_done;

	memset(h, 0, sizeof(*h));
	if (!global_done) {	/* first use is on one thread, before workers */
		curl_global_init(CURL_GLOBAL_DEFAULT);
		global_done = true;
	}
	h->curl = curl_easy_init();
	if (!h->curl)
		return -ENOMEM;
	if (ca_file && !(h->ca_file = strdup(ca_file))) {
		acme_http_free(h);
		return -ENOMEM;
	}
	h->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	return 0;
}

void acme_http_free(struct acme_http *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->ca_file);
	memset(h, 0, sizeof(*h));
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

static size_t http_body_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct acme_http_resp *r = ud;

	if (buf_append(&r->body, p, sz * n))
		return 0;	/* over the limit: curl aborts the transfer */
	return sz * n;
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

static size_t http_header_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct acme_http_resp *r = ud;
	struct str line = str_make(p, sz * n), name, v;
	const char *colon = memchr(p, ':', line.len);

	if (!colon)
		return line.len;
	name = str_make(p, (size_t)(colon - p));
	v = str_make(colon + 1, line.len - name.len - 1);
	while (v.len && (v.p[v.len - 1] == '\n' || v.p[v.len - 1] == '\r'))
		v.len--;
	v = str_trim_ows(v);
	if (str_eq_ci(name, STR_LIT("Replay-Nonce")))
		http_keep(&r->nonce, v);
	else if (str_eq_ci(name, STR_LIT("Location")))
		http_keep(&r->location, v);
	else if (str_eq_ci(name, STR_LIT("Content-Type")))
		http_keep(&r->content_type, v);
	else if (str_eq_ci(name, STR_LIT("Link")))
		http_link(r, v);
	else if (str_eq_ci(name, STR_LIT("Retry-After")))
		r->has_retry_after = acme_http_retry_after(
			v.p, v.len, (int64_t)time(NULL), &r->retry_after_s) == 0;
	return line.len;
}

int acme_http_retry_after(const char *v, size_t len, int64_t now,
			  uint64_t *out_s)
{
	char tmp[64];
	time_t t;

	if (num_parse_u64(v, len, 0, UINT32_MAX, out_s) == 0)
		return 0;
	if (len == 0 || len >= sizeof(tmp) || memchr(v, 0, len))
		return -EINVAL;
	memcpy(tmp, v, len);
	tmp[len] = 0;
	t = curl_getdate(tmp, NULL);
	if (t < 0)
		return -EINVAL;
	*out_s = t > now ? (uint64_t)(t - now) : 0;
	return 0;
}

/* Builds the header list into *out (NULL when empty). Returns 0 or -ENOMEM. */
static int http_headers(const struct acme_http_req *req, struct curl_slist **out)
{
	struct curl_slist *l = NULL, *t;
	/* curl adds "Expect: 100-continue" to big POSTs; ACME CAs do not want
	 * it. A signed request leaves it out: libcurl 7.88 would sign the
	 * empty "expect" header it never sends (signed bodies stay far below
	 * curl's 1 MiB threshold for adding one). */
	if (!req->aws_sigv4 && !(l = curl_slist_append(NULL, "Expect:")))
		return -ENOMEM;
	for (const char *const *hp = req->headers; hp && *hp; hp++) {
		t = curl_slist_append(l, *hp);
		if (!t) {
			curl_slist_free_all(l);
			return -ENOMEM;
		}
		l = t;
	}
	*out = l;
	return 0;
}

static void http_setup(struct acme_http *h, const struct acme_http_req *req,
		       struct acme_http_resp *r, struct curl_slist *hdrs)
{
	CURL *c = h->curl;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "postern/" POSTERN_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms / 2);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (h->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
	if (req->aws_sigv4) {	/* curl copies the key pair; reset drops it */
		curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->aws_sigv4);
		curl_easy_setopt(c, CURLOPT_USERNAME, req->aws_key_id);
		curl_easy_setopt(c, CURLOPT_PASSWORD, req->aws_secret);
	}
	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
				 req->body ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
				 (long)req->body_len);
	}
}

int acme_http_do(struct acme_http *h, const struct acme_http_req *req,
		 struct acme_http_resp *r, char *err, size_t errlen)
{
	struct curl_slist *hdrs = NULL;
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, ACME_HTTP_BODY_MAX);
	if (http_headers(req, &hdrs)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	http_setup(h, req, r, hdrs);
	cc = curl_easy_perform(h->curl);
	curl_slist_free_all(hdrs);
	if (req->aws_sigv4)	/* curl keeps its copy of the secret until then */
		curl_easy_setopt(h->curl, CURLOPT_PASSWORD, NULL);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s %s: %s", req->method, req->url,
			 curl_easy_strerror(cc));
		acme_http_resp_free(r);
		return cc == CURLE_WRITE_ERROR ? -EMSGSIZE : -EIO;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
	log_debug("%s %s -> %ld (%zu bytes)", req->method, req->url, r->status,
		  r->body.len);
	return 0;
}
