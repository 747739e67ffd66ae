/* aws_sigv4.h - AWS Signature Version 4 for one request (header-based
 * auth), as Route 53 requires. Only what a JSON/XML REST call needs:
 * method, URL (path + query), payload; signs host and x-amz-date (and
 * x-amz-security-token for temporary credentials). */
#ifndef POSTERN_ACME_AWS_SIGV4_H
#define POSTERN_ACME_AWS_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct aws_sigv4_key {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;	/* or NULL */
	const char *region;		/* "us-east-1" for Route 53 */
	const char *service;		/* "route53" */
};

/* The header lines to send with the request, each "Name: value". */
struct aws_sigv4_out {
	char host[300];		/* "Host: ..." */
	char date[64];		/* "X-Amz-Date: ..." */
	char token[2200];	/* "X-Amz-Security-Token: ..." or "" */
	char auth[600];		/* "Authorization: AWS4-HMAC-SHA256 ..." */
};

/* Signs `method url` with `body` at time `now`. The URL is
 * scheme://authority/path[?query]; the authority becomes the signed Host.
 * Returns 0 or -EINVAL (URL too long or malformed). `out` holds the
 * session token when there is one: the caller wipes it after use. */
int aws_sigv4_sign(const struct aws_sigv4_key *k, const char *method,
		   const char *url, const void *body, size_t body_len,
		   time_t now, struct aws_sigv4_out *out);

#endif
