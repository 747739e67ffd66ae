/* client.c - HTTP requests to the hub's admin API with libcurl. */
#include "cli/client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cmd.h"
#include "core/buf.h"
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

static size_t cli_on_body(char *p, size_t size, size_t n, void *arg)
{
	return buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

static size_t cli_on_header(char *p, size_t size, size_t n, void *arg)
{
	struct cli_resp *r = arg;
	size_t len = size * n;

	if (len > 6 && !strncasecmp(p, "ETag: ", 6)) {
		size_t v = len - 6;
		while (v && (p[6 + v - 1] == '\r' || p[6 + v - 1] == '\n'))
			v--;
		snprintf(r->etag, sizeof(r->etag), "%.*s", (int)v, p + 6);
	}
	return len;
}

/* The request's headers (the token stays out of argv and logs). */
static struct curl_slist *cli_headers(const struct cli_conn *c, const json_t *body,
				      const char *if_match, char *auth, size_t alen)
{
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
	char line[128];

	if (body)
		h = curl_slist_append(h, "Content-Type: application/json");
	if (if_match) {
		snprintf(line, sizeof(line), "If-Match: %s", if_match);
		h = curl_slist_append(h, line);
	}
	if (c->hub && c->token) {
		snprintf(auth, alen, "Authorization: Bearer %s", c->token);
		h = curl_slist_append(h, auth);
	}
	return h;
}

static void cli_setup(CURL *curl, const struct cli_conn *c, const char *method,
		      const char *url, const char *data, struct curl_slist **resolve)
{
	if (c->hub && c->resolve) {
		*resolve = curl_slist_append(NULL, c->resolve);
		curl_easy_setopt(curl, CURLOPT_RESOLVE, *resolve);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
	if (!c->hub)
		curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, c->socket);
	if (c->cacert)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->cacert);
	if (data) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(data));
	}
}

int cli_request(const struct cli_conn *c, const char *method, const char *path,
		const char *query, const json_t *body, const char *if_match,
		struct cli_resp *r)
{
	char url[2048], auth[1024] = "";
	char *data = body ? json_dumps(body, JSON_COMPACT) : NULL;
	CURL *curl = curl_easy_init();
	struct curl_slist *h, *resolve = NULL;
	struct buf b;
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	buf_init(&b, CLI_RESP_MAX);
	if (c->hub && c->token && strncmp(c->hub, "https://", 8))
		fprintf(stderr, "postern: warning: sending the token without TLS "
			"to %s\n", c->hub);
	snprintf(url, sizeof(url), "%s/api/v1%s%s%s", c->hub ? c->hub : "http://localhost",
		 path, query ? "?" : "", query ? query : "");
	h = cli_headers(c, body, if_match, auth, sizeof(auth));
	if (!curl) {
		snprintf(r->error, sizeof(r->error), "cannot initialize libcurl");
		cc = CURLE_FAILED_INIT;
	} else {
		cli_setup(curl, c, method, url, data, &resolve);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cli_on_body);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
		curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, cli_on_header);
		curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
		cc = curl_easy_perform(curl);
		if (cc == CURLE_OK)
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
		else
			snprintf(r->error, sizeof(r->error), "cannot reach the hub at %s: %s",
				 c->hub ? c->hub : c->socket, curl_easy_strerror(cc));
	}
	if (cc == CURLE_OK && b.len)
		r->json = json_loadb((const char *)buf_head(&b), b.len, 0, NULL);
	curl_easy_cleanup(curl);
	curl_slist_free_all(h);
	curl_slist_free_all(resolve);
	secure_wipe(auth, sizeof(auth));
	buf_free_secure(&b);
	if (data)
		secure_free(data, strlen(data));
	return cc == CURLE_OK ? 0 : -1;
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
