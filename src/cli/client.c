/* client.c - HTTP requests to the hub's admin API (core/http_client). */
#include "cli/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cmd.h"
#include "core/buf.h"
#include "core/http_client.h"
#include "core/secure.h"

#define CLI_RESP_MAX (16u << 20)

void cli_conn_defaults(struct cli_conn *c)
{
	c->socket = getenv("POSTERN_SOCKET");
	c->hub = getenv("POSTERN_HUB");
	c->token = getenv("POSTERN_TOKEN");
	if (!c->socket)
		c->socket = CLI_DEFAULT_SOCKET;
}

int cli_conn_option(struct cli_conn *c, int argc, char **argv, int *i)
{
	static const char *const names[] = { "--socket", "--hub", "--token", "--cacert",
					     "--resolve" };
	const char **slots[] = { &c->socket, &c->hub, &c->token, &c->cacert,
				 &c->resolve };

	if (!strcmp(argv[*i], "--json")) {
		c->json = true;
		return 1;
	}
	for (size_t k = 0; k < sizeof(slots) / sizeof(slots[0]); k++) {
		if (strcmp(argv[*i], names[k]))
			continue;
		if (*i + 1 >= argc)
			return -1;
		*slots[k] = argv[++*i];
		return 1;
	}
	return 0;
}

static void cli_on_header(void *arg, const char *name, size_t nlen,
			  const char *value, size_t vlen)
{
	struct cli_resp *r = arg;

	if (nlen == 4 && !strncasecmp(name, "ETag", 4))
		snprintf(r->etag, sizeof(r->etag), "%.*s", (int)vlen, value);
}

/* The request's headers (the token stays out of argv and logs): `lines`
 * holds the storage, `out` the NULL-terminated list. */
static void cli_headers(const struct cli_conn *c, const json_t *body,
			const char *if_match, char lines[2][1024],
			const char *out[5])
{
	size_t n = 0;

	out[n++] = "Accept: application/json";
	if (body)
		out[n++] = "Content-Type: application/json";
	if (if_match) {
		snprintf(lines[0], sizeof(lines[0]), "If-Match: %s", if_match);
		out[n++] = lines[0];
	}
	if (c->hub && c->token) {
		snprintf(lines[1], sizeof(lines[1]), "Authorization: Bearer %s", c->token);
		out[n++] = lines[1];
	}
	out[n] = NULL;
}

/* The client for one request (core/http_client: TLS verification on,
 * no redirects), to the control socket or to a remote hub. */
static int cli_client(struct http_client *h, const struct cli_conn *c,
		      struct cli_resp *r)
{
	if (http_client_init(h, c->hub ? c->cacert : NULL, 120000, CLI_RESP_MAX) < 0)
		return -1;
	h->on_header = cli_on_header;
	h->header_ctx = r;
	if (c->hub)
		h->resolve = c->resolve;
	else
		h->unix_socket = c->socket;
	return 0;
}

int cli_request(const struct cli_conn *c, const char *method, const char *path,
		const char *query, const json_t *body, const char *if_match,
		struct cli_resp *r)
{
	char url[2048], lines[2][1024] = { "", "" }, why[256];
	char *data = body ? json_dumps(body, JSON_COMPACT) : NULL;
	const char *hdrs[5];
	struct http_client_req req = { .method = method, .url = url, .headers = hdrs,
				       .body = data, .body_len = data ? strlen(data) : 0 };
	struct http_client_resp resp = { 0 };
	struct http_client h;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (c->hub && c->token && strncmp(c->hub, "https://", 8))
		fprintf(stderr, "postern: warning: sending the token without TLS "
			"to %s\n", c->hub);
	snprintf(url, sizeof(url), "%s/api/v1%s%s%s", c->hub ? c->hub : "http://localhost",
		 path, query ? "?" : "", query ? query : "");
	cli_headers(c, body, if_match, lines, hdrs);
	if (cli_client(&h, c, r) < 0) {
		snprintf(r->error, sizeof(r->error), "out of memory");
	} else if (http_client_do(&h, &req, &resp, why, sizeof(why)) < 0) {
		snprintf(r->error, sizeof(r->error), "cannot reach the hub at %.100s: %.120s",
			 c->hub ? c->hub : c->socket, why);
	} else {
		r->status = resp.status;
		if (resp.body.len)
			r->json = json_loadb((const char *)buf_head(&resp.body),
					     resp.body.len, 0, NULL);
		rc = 0;
	}
	http_client_free(&h);
	secure_wipe(lines, sizeof(lines));
	buf_free_secure(&resp.body);
	http_client_resp_free(&resp);
	if (data)
		secure_free(data, strlen(data));
	return rc;
}

void cli_resp_free(struct cli_resp *r)
{
	json_decref(r->json);
	r->json = NULL;
}

int cli_exit_status(int rc, const struct cli_resp *r)
{
	if (rc < 0)
		return CMD_EXIT_UNAVAILABLE;
	if (r->status >= 200 && r->status < 300)
		return CMD_EXIT_OK;
	switch (r->status) {
	case 400: case 405: case 413: case 415: case 422:
		return CMD_EXIT_USAGE;
	case 401: case 403:
		return CMD_EXIT_AUTH;
	case 404:
		return CMD_EXIT_NOTFOUND;
	case 409: case 412: case 428:
		return CMD_EXIT_CONFLICT;
	case 502: case 503: case 504:
		return CMD_EXIT_UNAVAILABLE;
	default:
		return CMD_EXIT_FAIL;
	}
}

void cli_print_error(int rc, const struct cli_resp *r)
{
	json_t *e = json_object_get(r->json, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));

	if (rc < 0)
		fprintf(stderr, "postern: %s\n", r->error);
	else if (msg)
		fprintf(stderr, "postern: %s (HTTP %ld)\n", msg, r->status);
	else
		fprintf(stderr, "postern: the hub answered HTTP %ld\n", r->status);
}
