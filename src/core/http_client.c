/* http_client.c - the one libcurl setup for outbound requests (see the
 * header for the rules it enforces). */
#define LOG_SUBSYS "http"
#include "core/http_client.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "core/log.h"
#include "core/num.h"
#include "core/str.h"
#include "core/version.h"

#define HTTP_HEADER_KEEP 2048	/* longest header value kept */

static pthread_once_t http_client_once = PTHREAD_ONCE_INIT;

static void http_client_global(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int http_client_init(struct http_client *h, const char *ca_file, long timeout_ms,
		     size_t body_max)
{
	memset(h, 0, sizeof(*h));
	pthread_once(&http_client_once, http_client_global);
	h->curl = curl_easy_init();
	if (!h->curl)
		return -ENOMEM;
	if (ca_file && !(h->ca_file = strdup(ca_file))) {
		http_client_free(h);
		return -ENOMEM;
	}
	h->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	h->body_max = body_max ? body_max : (1u << 20);
	return 0;
}

void http_client_free(struct http_client *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->ca_file);
	memset(h, 0, sizeof(*h));
}

void http_client_resp_free(struct http_client_resp *r)
{
	buf_free(&r->body);
	free(r->location);
	free(r->content_type);
	memset(r, 0, sizeof(*r));
}

int http_client_retry_after(const char *v, size_t len, int64_t now,
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

static size_t http_client_body_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct http_client_resp *r = ud;

	if (buf_append(&r->body, p, sz * n)) {
		r->truncated = true;
		return 0;	/* over the cap: curl aborts the transfer */
	}
	return sz * n;
}

static void http_client_keep(char **slot, struct str v)
{
	if (v.len > HTTP_HEADER_KEEP)
		return;
	free(*slot);
	*slot = strndup(v.p, v.len);
}

static size_t http_client_header_cb(char *p, size_t sz, size_t n, void *ud)
{
	struct http_client *h = ud;
	struct http_client_resp *r = h->cur;
	struct str line = str_make(p, sz * n), name, v;
	const char *colon = memchr(p, ':', line.len);

	if (!colon)
		return line.len;
	name = str_make(p, (size_t)(colon - p));
	v = str_make(colon + 1, line.len - name.len - 1);
	while (v.len && (v.p[v.len - 1] == '\n' || v.p[v.len - 1] == '\r'))
		v.len--;
	v = str_trim_ows(v);
	if (h->on_header)
		h->on_header(h->header_ctx, name.p, name.len, v.p, v.len);
	if (str_eq_ci(name, STR_LIT("Location")))
		http_client_keep(&r->location, v);
	else if (str_eq_ci(name, STR_LIT("Content-Type")))
		http_client_keep(&r->content_type, v);
	else if (str_eq_ci(name, STR_LIT("Retry-After")))
		r->has_retry_after = http_client_retry_after(
			v.p, v.len, (int64_t)time(NULL), &r->retry_after_s) == 0;
	return line.len;
}

/* libcurl asks here for every socket it is about to connect: the address
 * is checked after resolution, each time. */
static curl_socket_t http_client_open_cb(void *ud, curlsocktype purpose,
					 struct curl_sockaddr *a)
{
	struct http_client *h = ud;
	const char *why;

	(void)purpose;
	why = h->addr_ok ? h->addr_ok(h->addr_ctx, &a->addr, a->addrlen) : NULL;
	if (why) {
		snprintf(h->refused, sizeof(h->refused), "%s", why);
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Builds the header list into *out (NULL when empty). Returns 0 or -ENOMEM. */
static int http_client_headers(const struct http_client_req *req, struct curl_slist **out)
{
	struct curl_slist *l = NULL, *t;

	/* curl adds "Expect: 100-continue" to big POSTs; nobody we talk to
	 * wants it. A signed request leaves it out: libcurl 7.88 would sign
	 * the empty "expect" header it never sends (signed bodies stay far
	 * below curl's 1 MiB threshold for adding one). */
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

/* The pin, the socket and the --resolve entry, when the caller set them. */
static void http_client_route(struct http_client *h, struct curl_slist *resolve)
{
	CURL *c = h->curl;

	if (h->pin) {
		/* The pin is the authentication: the certificate may be
		 * self-signed and name only the peer's IP. */
		curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, h->pin);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->unix_socket)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, h->unix_socket);
	if (resolve)
		curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
}

static void http_client_setup(struct http_client *h, const struct http_client_req *req,
			      struct http_client_resp *r, struct curl_slist *hdrs)
{
	CURL *c = h->curl;
	const char *proto = (h->flags & HTTP_CLIENT_F_HTTPS_ONLY) ? "https" : "https,http";

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "postern/" POSTERN_VERSION);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, proto);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, proto);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, (h->flags & HTTP_CLIENT_F_FOLLOW) ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms / 2);
	if (!(h->flags & HTTP_CLIENT_F_TRUNCATE))
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->body_max);
	curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, (h->flags & HTTP_CLIENT_F_FRESH) ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_client_body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_client_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (h->addr_ok) {
		curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, http_client_open_cb);
		curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, h);
	}
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
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
	}
}

/* The errno for a failed transfer (the contract of http_client_do). */
static int http_client_errno(const struct http_client *h, CURLcode cc)
{
	if (h->refused[0])
		return -EACCES;
	switch (cc) {
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return -EMSGSIZE;
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return -EKEYREJECTED;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return -EPERM;
	default:
		return -EIO;
	}
}

int http_client_do(struct http_client *h, const struct http_client_req *req,
		   struct http_client_resp *r, char *err, size_t errlen)
{
	struct curl_slist *hdrs = NULL, *resolve = NULL;
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, h->body_max);
	h->refused[0] = 0;
	h->cur = r;
	if (http_client_headers(req, &hdrs) < 0 ||
	    (h->resolve && !(resolve = curl_slist_append(NULL, h->resolve)))) {
		curl_slist_free_all(hdrs);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	http_client_setup(h, req, r, hdrs);
	http_client_route(h, resolve);
	cc = curl_easy_perform(h->curl);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(resolve);
	if (req->aws_sigv4)	/* curl keeps its copy of the secret until then */
		curl_easy_setopt(h->curl, CURLOPT_PASSWORD, NULL);
	curl_easy_getinfo(h->curl, CURLINFO_TOTAL_TIME, &r->total_s);
	/* The status is known once the body starts: a cut body still answers. */
	if (cc == CURLE_WRITE_ERROR && r->truncated && (h->flags & HTTP_CLIENT_F_TRUNCATE))
		cc = CURLE_OK;
	if (cc != CURLE_OK) {
		if (h->refused[0])
			snprintf(err, errlen, "address refused: %s", h->refused);
		else
			snprintf(err, errlen, "%s", curl_easy_strerror(cc));
		http_client_resp_free(r);
		return http_client_errno(h, cc);
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
	log_debug("%s -> %ld (%zu bytes)", req->method, r->status, r->body.len);
	return 0;
}
