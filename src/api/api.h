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
#include <sys/types.h>

#include "core/buf.h"

#define API_BODY_MAX (1u << 20)
#define API_RESP_MAX (8u << 20)

enum api_transport {
	API_TRANSPORT_HTTPS = 0,	/* the hub's public listener */
	API_TRANSPORT_UNIX,		/* the local control socket */
	API_TRANSPORT_TUNNEL,		/* an agent, inside WireGuard */
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

/* Handles one admin request on the control thread. Always fills `resp`
 * (a JSON error body for failures); never blocks on the network. */
void api_handle(struct api *api, const struct api_req *req,
		struct api_resp *resp);

#endif
