/* client.h - the admin CLI's connection to a hub: the local control socket
 * (libcurl over a unix socket, authorized by the hub from our peer
 * credentials) or a remote hub over HTTPS with an API token. Both speak
 * the same /api/v1 JSON API. */
#ifndef POSTERN_CLI_CLIENT_H
#define POSTERN_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CLI_DEFAULT_SOCKET "/run/postern/control.sock"

struct cli_conn {
	const char *socket;	/* control socket (when no hub URL) */
	const char *hub;	/* "https://hub.example.com[:port]" */
	const char *token;	/* API token for a remote hub */
	const char *cacert;	/* CA bundle for a remote hub */
	const char *resolve;	/* "HOST:PORT:ADDRESS", as curl --resolve */
	bool json;		/* --json: print the API's JSON */
};

struct cli_resp {
	long status;		/* 0 when the hub was not reached */
	json_t *json;		/* the body, when it is JSON */
	char etag[64];
	char error[256];	/* transport error */
};

/* Takes a connection option (--socket, --hub, --token, --cacert,
 * --resolve, --json)
 * at argv[*i], advancing *i past its value. Returns 1 when it was one, 0
 * when not, -1 when its value is missing. Environment: POSTERN_SOCKET,
 * POSTERN_HUB, POSTERN_TOKEN (a token in argv is visible to `ps`). */
int cli_conn_option(struct cli_conn *c, int argc, char **argv, int *i);
/* Fills defaults from the environment. */
void cli_conn_defaults(struct cli_conn *c);

/* Sends one request: `path` under /api/v1 with an optional query, JSON
 * body and If-Match. Returns 0 when a response came back (any status; r
 * filled, free with cli_resp_free) or -1 when the hub could not be
 * reached (r->error says why). */
int cli_request(const struct cli_conn *c, const char *method, const char *path,
		const char *query, const json_t *body, const char *if_match,
		struct cli_resp *r);
void cli_resp_free(struct cli_resp *r);

/* The exit status (cli/cmd.h) for a response or a failed request. */
int cli_exit_status(int rc, const struct cli_resp *r);
/* Prints the API's error (or the transport error) on stderr. */
void cli_print_error(int rc, const struct cli_resp *r);

#endif
