/* acme_http.h - blocking HTTPS requests for the ACME worker thread.
 *
 * One struct acme_http per thread wraps the project's one outbound HTTP
 * client (core/http_client: TLS, timeouts, size cap, no redirects) and
 * keeps its connections for reuse across requests. Calls block, which is why they only run on the
 * ACME worker thread (acme_worker.h), never on the control loop. Response
 * bodies are bounded; headers the ACME client and the DNS providers need
 * are captured. */
#ifndef POSTERN_ACME_ACME_HTTP_H
#define POSTERN_ACME_ACME_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/http_client.h"

#define ACME_HTTP_BODY_MAX (1u << 20)

struct acme_http {
	struct http_client hc;
	void *curl;		/* hc.curl: non-NULL once set up */
};

struct acme_http_resp {
	long status;
	struct buf body;
	char *nonce;		/* Replay-Nonce */
	char *location;
	char *content_type;
	char *link_up;		/* Link: <...>;rel="up" (alternate chains) */
	bool has_retry_after;
	uint64_t retry_after_s;	/* Retry-After, as seconds from now */
};

struct acme_http_req {
	const char *method;	/* "GET", "POST", "HEAD", "PUT", "DELETE", ... */
	const char *url;
	const char *const *headers;	/* "Name: value", NULL-terminated; or NULL */
	const void *body;
	size_t body_len;
	/* AWS Signature V4, signed by libcurl (CURLOPT_AWS_SIGV4): the
	 * "aws:amz:REGION:SERVICE" string and the key pair, or all NULL.
	 * Every header in `headers` is signed too. libcurl 7.88 signs the
	 * query string as written: give it sorted and encoded. */
	const char *aws_sigv4;
	const char *aws_key_id;
	const char *aws_secret;
};

/* Sets up the handle. `ca_file` (copied; NULL = system store) is trusted in
 * addition to nothing else. Returns 0 or -ENOMEM. */
int acme_http_init(struct acme_http *h, const char *ca_file, long timeout_ms);
void acme_http_free(struct acme_http *h);

/* Performs one request. On 0 `resp` holds the answer (any HTTP status);
 * the caller frees it with acme_http_resp_free. Returns -EIO (transport
 * failure, message in err) or -EMSGSIZE (body over the limit). */
int acme_http_do(struct acme_http *h, const struct acme_http_req *req,
		 struct acme_http_resp *resp, char *err, size_t errlen);
void acme_http_resp_free(struct acme_http_resp *resp);

#endif
