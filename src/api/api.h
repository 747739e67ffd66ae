/* api.h - the seam between the front (which speaks HTTP) and the admin
 * API (which speaks store and audit).
 *
 * The front turns an admin request (a request to the hub's own host name
 * under /api/, or any request on the local control socket) into a struct
 * api_req with the body fully read (at most API_BODY_MAX bytes), hands it
 * to the control thread, and writes back the struct api_resp it gets.
 * api_handle() runs on the control thread only: it is the one place that
 * reads and writes the store for admin requests.
 *
 * Ownership: the front owns the request (all strings are NUL-terminated
 * copies valid until it frees the call) and the response buffers; the
 * handler fills the response and keeps no pointer into either. */
#ifndef POSTERN_API_API_H
#define POSTERN_API_API_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "core/buf.h"

#define API_BODY_MAX (1u << 20)
#define API_RESP_MAX (8u << 20)
/* A join token's lifetime in seconds ("ttl"): the API's bounds, which the
 * CLI checks too before it creates anything. */
#define API_JOIN_TTL_MIN 60
#define API_JOIN_TTL_MAX (30 * 86400)

enum api_transport {
	API_TRANSPORT_HTTPS = 0,	/* the hub's public listener */
	API_TRANSPORT_UNIX,		/* the local control socket */
	API_TRANSPORT_TUNNEL,		/* an agent, inside WireGuard */
	API_TRANSPORT_HTTP,		/* plain HTTP: always refused */
	API_TRANSPORT_MAX
};

struct api_req {
	const char *method;		/* "GET", "POST", ... */
	const char *path;		/* raw path, no query: "/api/v1/routes/3" */
	const char *query;		/* raw query without '?', or NULL */
	const char *host;		/* Host / :authority, or NULL */
	/* Selected request headers, NULL when absent. */
	const char *authorization;
	const char *cookie;
	const char *origin;
	const char *if_match;
	const char *content_type;
	const char *csrf_token;		/* X-CSRF-Token */
	const char *user_agent;
	/* The name of a selected header (other than Cookie, whose fields
	 * are joined) that came more than once, or NULL: the request is
	 * refused with 400. */
	const char *repeated;
	const uint8_t *body;
	size_t body_len;
	const char *client_ip;		/* textual; "" for unix */
	enum api_transport transport;
	/* unix transport: the peer's credentials (SO_PEERCRED). */
	uid_t peer_uid;
	gid_t peer_gid;
	pid_t peer_pid;
	/* tunnel transport: the WireGuard public key the request came from. */
	const uint8_t *tunnel_peer_key;	/* 32 bytes, or NULL */
};

struct api_resp {
	int status;
	/* Extra header lines, each "Name: value\r\n" (ETag, Location,
	 * Set-Cookie, ...). Content-Type defaults to application/json. */
	struct buf headers;
	struct buf body;
};

struct api;	/* the control side's state (store, audit, ...) */

/* Initializes an empty response (status 500, bounded buffers). */
void api_resp_init(struct api_resp *resp);
void api_resp_free(struct api_resp *resp);

/* Called once the response is complete (control thread). */
typedef void api_done_fn(void *arg);

/* Handles one admin request on the control thread: fills `resp` (a JSON
 * error body for failures) and then calls done(arg) exactly once. Most
 * requests finish before it returns; a password login finishes later,
 * after its Argon2id check ran on the password threads
 * (api_start_workers), and `req` and `resp` must stay valid until then.
 * Never blocks on the network or on a password check. */
void api_handle_async(struct api *api, const struct api_req *req,
		      struct api_resp *resp, api_done_fn *done, void *arg);
/* The same, finished before it returns: password checks run on the
 * calling thread (tests, fuzzers, the offline CLI). */
void api_handle(struct api *api, const struct api_req *req,
		struct api_resp *resp);

/* --- The control side's life cycle (the hub's control thread). --- */

struct api_config {
	const char *data_dir;	/* holds postern.db, and by default the keys */
	const char *secret_key;	/* secrets key file; NULL = DATA/secret.key */
	const char *audit_key;	/* audit signing key; NULL = DATA/audit.key */
	const char *audit_head;	/* audit head record; NULL = DATA/audit.head */
	const char *group;	/* control socket group; NULL = "postern" */
	const char *public_url;	/* "https://hub.example.com" for links and
				 * Origin checks; NULL = the hub.public_url
				 * setting, else the request's Host */
};

/* What changed in a committed transaction (api_publish_fn's `what`). */
#define API_CHANGED_ROUTES (1u << 0)
#define API_CHANGED_CERTS (1u << 1)
#define API_CHANGED_AGENTS (1u << 2)
#define API_CHANGED_POLICIES (1u << 3)
#define API_CHANGED_USERS (1u << 4)	/* who may log in to routes */
/* Called on the control thread after every committed change that the
 * front's snapshot depends on; `store` is readable (api_store()). */
typedef void api_publish_fn(void *ctx, struct api *api, unsigned what);

/* Opens the store (migrating it), the secrets key, the audit log and its
 * signing key; completes an interrupted key rotation. Returns the state,
 * or NULL with a message in `err`. */
struct api *api_open(const struct api_config *cfg, char *err, size_t errlen);
/* Signs the audit tail (a clean stop leaves nothing unsigned), closes. */
void api_close(struct api *api);
/* First start: when no user exists, creates the admin user "admin" and
 * writes a one-time setup link (valid 24 h) to `out`. Returns 1 when it
 * did, 0 when users exist, -1 on error. */
int api_bootstrap(struct api *api, FILE *out);
void api_set_publisher(struct api *api, api_publish_fn *fn, void *ctx);
/* Before a raw TCP route takes public port `port` (created, or moved to
 * another port): 0 when the hub can listen there, else -1 with why (the
 * hub's own listener, another process) in `why`. Without a hook every
 * port is accepted (the store's unique index still keeps routes apart). */
typedef int api_port_check_fn(void *ctx, unsigned port, char *why, size_t len);
/* A raw TCP route's port now: 1 listening, 0 not (why), -1 unknown.
 * Shown as the route's "listen_status". */
typedef int api_port_status_fn(void *ctx, unsigned port, char *why, size_t len);
void api_set_tcp_ports(struct api *api, api_port_check_fn *check,
		       api_port_status_fn *status, void *ctx);
/* Whether an agent's reported allowlist `allow` (a JSON array of its
 * --allow values, agent_proto.h) lets it reach `host` (lower case) on
 * `port`: 1 yes, 0 no, -1 cannot tell. A route whose target it refuses
 * carries a warning. Without a hook nothing is flagged. */
struct json_t;
typedef int api_allow_check_fn(const struct json_t *allow, const char *host,
			       unsigned port);
void api_set_allow_check(struct api *api, api_allow_check_fn *fn);
/* Periodic work (call every few seconds): time-based audit checkpoints,
 * expired sessions and tokens removed. */
void api_tick(struct api *api);
/* Appends the control plane's metrics (Prometheus text; any thread while
 * api is open): the webhook delivery counters (events.h) and
 * postern_certificate_expiry_timestamp_seconds{name,source} as of the
 * last tick. With api NULL (no control plane) the webhook counters read
 * zero. Returns 0 or -ENOBUFS. */
struct buf;
int api_metrics_render(struct api *api, struct buf *out);

struct loop;
/* Starts the password threads, whose results come back on `loop` (the
 * control loop). Without them, checks run inline. Returns 0 or -errno. */
int api_start_workers(struct api *api, struct loop *loop);
/* Stops them; requests still waiting for a check are answered 503 (their
 * done runs now), and so is every later login. Call before the workers
 * that own the requests go. */
void api_stop_workers(struct api *api);
/* Starts the webhook delivery worker (src/events) on its own thread; a
 * receiver's 410 disables its webhook through `loop` (the control loop).
 * `ca_file`: extra trust anchors, or NULL. Returns 0 or -1 (logged). */
int api_events_start(struct api *api, struct loop *loop, const char *ca_file);
/* Stops it (before api_close). */
void api_events_stop(struct api *api);

struct store;
struct secret_keyring;
struct auth_users;
/* The users who may log in to routes, with the session cookie key
 * (created and sealed in the store on first use), as a table for the
 * hub snapshot (auth/auth_users.h). NULL when the store cannot be read
 * or the key cannot be made. Control thread. */
struct auth_users *api_auth_users(struct api *api);
/* The route tokens and live share links for a snapshot (auth_creds.h),
 * with the last-use clocks of `prev` carried over; NULL on error
 * (logged). */
struct auth_creds;
struct auth_creds *api_machine_creds(struct api *api, const struct auth_creds *prev);
/* Writes the tokens' last use the workers recorded in `t` since the
 * last call, in one transaction; audits each token's first use. */
void api_machine_flush(struct api *api, struct auth_creds *t);
/* The store and key ring, for the snapshot compiler (control thread). */
struct store *api_store(struct api *api);
const struct secret_keyring *api_keys(struct api *api);

#endif
