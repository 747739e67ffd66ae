/* http_client.h - THE outbound HTTP setup (libcurl): every request the
 * daemon makes to the outside world goes through here, so the safety rules
 * live once: TLS peer and host verification always on, connect and total
 * timeouts, a cap on the response body, http(s) only, no redirects unless
 * the caller asks, a proxy only from the environment (libcurl's own
 * http_proxy / https_proxy / no_proxy), and an optional check of every
 * address the connection is about to use (after resolution, on every
 * request: a name cannot rebind around it). A public-key pin (the agent's
 * join to a hub with no public certificate yet) is the one way to turn
 * the CA and name checks off, and it replaces them with the pin.
 * No other file sets up libcurl (`make check-tree` greps for it).
 *
 * Calls block: they belong on worker threads, never on a loop. One struct
 * http_client per thread (it keeps connections for reuse). */
#ifndef POSTERN_CORE_HTTP_CLIENT_H
#define POSTERN_CORE_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"

#define HTTP_CLIENT_F_FOLLOW (1u << 0)	/* follow redirects (off by default) */
#define HTTP_CLIENT_F_FRESH (1u << 1)	/* a new connection per request */
#define HTTP_CLIENT_F_TRUNCATE (1u << 2)	/* a body over body_max is cut
						 * (the answer still counts)
						 * instead of failing */
#define HTTP_CLIENT_F_HTTPS_ONLY (1u << 3)	/* refuse http:// */

/* Decides whether the client may connect to `sa` (the resolved peer or
 * proxy). Returns NULL to allow it, else why not ("loopback"). */
typedef const char *http_client_addr_fn(void *ctx, const struct sockaddr *sa,
					socklen_t len);

struct http_client {
	void *curl;		/* CURL * */
	char *ca_file;		/* extra trust anchors, or NULL: system store */
	long timeout_ms;	/* whole request */
	size_t body_max;	/* response bytes kept; more fails the request */
	unsigned flags;		/* HTTP_CLIENT_F_* */
	http_client_addr_fn *addr_ok;	/* NULL: any address */
	/* Sees every response header (name and value trimmed), or NULL. */
	void (*on_header)(void *ctx, const char *name, size_t nlen,
			  const char *value, size_t vlen);
	void *header_ctx;
	void *addr_ctx;
	/* Borrowed strings (they must outlive the requests), or NULL: */
	const char *pin;	/* "sha256//BASE64" of the peer's public key:
				 * checked instead of the CA chain and name */
	const char *unix_socket;	/* connect to this socket, not host:port */
	const char *resolve;	/* "HOST:PORT:ADDRESS", as curl --resolve */
	char refused[128];	/* why addr_ok refused, for the error */
	struct http_client_resp *cur;	/* the response being read */
};

struct http_client_req {
	const char *method;	/* "GET", "POST", "HEAD", ... */
	const char *url;
	const char *const *headers;	/* "Name: value", NULL-terminated, or NULL */
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

struct http_client_resp {
	long status;
	struct buf body;
	bool truncated;		/* HTTP_CLIENT_F_TRUNCATE cut the body */
	bool has_retry_after;
	uint64_t retry_after_s;	/* Retry-After as seconds from now */
	char *location;		/* Location, or NULL */
	char *content_type;	/* or NULL */
	double total_s;		/* time the request took */
};

/* Sets the client up. `ca_file` is copied (NULL = the system store).
 * Returns 0 or -ENOMEM. */
int http_client_init(struct http_client *h, const char *ca_file, long timeout_ms,
		     size_t body_max);
void http_client_free(struct http_client *h);

/* Performs one request. On 0 `resp` holds the answer, whatever its status
 * (the caller frees it with http_client_resp_free). Returns -EIO (transport
 * failure: message in err), -EMSGSIZE (response over body_max), -EACCES
 * (addr_ok refused every address: its reason in err), -EKEYREJECTED (the
 * peer's key does not match `pin`), -EPERM (the peer's certificate is not
 * trusted or does not name the host), -ENOMEM. */
int http_client_do(struct http_client *h, const struct http_client_req *req,
		   struct http_client_resp *resp, char *err, size_t errlen);
void http_client_resp_free(struct http_client_resp *resp);

/* Parses a Retry-After value (delta-seconds or an HTTP-date) into seconds
 * from `now` (Unix time). Returns 0 or -EINVAL. */
int http_client_retry_after(const char *v, size_t len, int64_t now,
			    uint64_t *out_s);

#endif
