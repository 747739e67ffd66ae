/* agent_join.c - `postern agent join URL TOKEN [--fingerprint SHA256]`.
 *
 * Generates the agent's X25519 key here (the private key never leaves
 * this machine), posts the public key with the one-time token to the
 * hub over HTTPS (agent_proto.h, part 2), and writes the answer and the
 * key to the 0600 state file. The hub is authenticated by its certificate
 * (system CAs), or, when it has no public certificate yet, by the SHA-256
 * of its certificate's public key (SubjectPublicKeyInfo) that
 * `postern agent create` printed: a different key refuses the join. */
#define LOG_SUBSYS "agent"
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_cli.h"
#include "proto/agent_proto.h"
#include "agent/agent_service.h"
#include "agent/state.h"
#include "core/exit.h"
#include "core/buf.h"
#include "core/enc.h"
#include "core/http_client.h"
#include "core/num.h"
#include "core/secure.h"
#include "core/version.h"
#include "wg/crypto.h"

#define JOIN_RESP_MAX 65536

/* "AB:cd:..." or "abcd..." (64 hex digits) or "sha256//BASE64" into
 * curl's pin syntax. Returns 0 or -EINVAL. */
static int join_pin(const char *fp, char *out, size_t len)
{
	uint8_t h[32];
	char hex[65], b64[B64_LEN(32)];
	size_t n = 0;

	if (!strncmp(fp, "sha256//", 8)) {
		if (enc_b64std_decode(h, sizeof(h), fp + 8, strlen(fp + 8)) != 32)
			return -EINVAL;
		snprintf(out, len, "%s", fp);
		return 0;
	}
	for (; *fp; fp++) {
		if (*fp == ':')
			continue;
		if (n == 64 || !isxdigit((unsigned char)*fp))
			return -EINVAL;
		hex[n++] = *fp;
	}
	if (n != 64 || enc_hex_decode(h, 32, hex, 64) < 0)
		return -EINVAL;
	enc_b64std_encode(b64, h, 32);
	snprintf(out, len, "sha256//%s", b64);
	return 0;
}

/* The request body; the caller wipes and frees it. */
static char *join_body(const char *token, const uint8_t pub[32])
{
	char b64[B64_LEN(32)];
	json_t *j;
	char *text;

	enc_b64std_encode(b64, pub, 32);
	j = json_pack("{s:i, s:s, s:s, s:s}", "version", AGENT_PROTO_VERSION,
		      "token", token, "public_key", b64, "agent_version",
		      POSTERN_VERSION);
	if (!j)
		return NULL;
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return text;
}

static const char *join_transport_error(int rc, bool pinned, const char *why)
{
	switch (rc) {
	case -EKEYREJECTED:
		return "the hub's public key does not match --fingerprint: refusing "
		       "to join (wrong fingerprint, or someone in the middle)";
	case -EPERM:
		return pinned ? "TLS verification failed" :
		       "the hub's certificate is not trusted: if the hub has no public "
		       "certificate yet, pass the --fingerprint it printed";
	default:
		return why;
	}
}

/* POSTs body to url over HTTPS (core/http_client: the pin, when given,
 * authenticates the hub). Fills resp. Returns CMD_EXIT_*. */
static int join_post(const char *url, const char *pin, const char *ca,
		     const char *body, struct http_client_resp *resp)
{
	static const char *const hdrs[] = { "Content-Type: application/json", NULL };
	struct http_client_req req = { .method = "POST", .url = url, .headers = hdrs,
				       .body = body, .body_len = strlen(body) };
	struct http_client h;
	char why[256];
	int rc;

	if (http_client_init(&h, ca, 30000, JOIN_RESP_MAX) < 0)
		return CMD_EXIT_FAIL;
	h.flags = HTTP_CLIENT_F_HTTPS_ONLY;
	h.pin = pin;
	rc = http_client_do(&h, &req, resp, why, sizeof(why));
	http_client_free(&h);
	if (rc < 0) {
		fprintf(stderr, "postern agent join: %s\n",
			join_transport_error(rc, pin != NULL, why));
		return rc == -EKEYREJECTED || rc == -EPERM ? CMD_EXIT_AUTH :
		       CMD_EXIT_UNAVAILABLE;
	}
	return CMD_EXIT_OK;
}

static json_t *join_json(const struct buf *resp);

static int join_refused(const struct buf *resp, long status)
{
	json_t *j = join_json(resp);
	const char *msg = NULL, *code = NULL;

	json_unpack(j, "{s:{s?s, s?s}}", "error", "code", &code, "message", &msg);
	fprintf(stderr, "postern agent join: the hub refused the join (HTTP %ld%s%s): %s\n",
		status, code ? ", " : "", code ? code : "", msg ? msg : "no reason given");
	json_decref(j);
	return status == 401 || status == 403 ? CMD_EXIT_AUTH : CMD_EXIT_FAIL;
}

/* Copies the non-empty string v into dst (cap bytes); -1 if v is not one
 * or does not fit. */
static int join_copy(char *dst, size_t cap, json_t *v)
{
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap)
		return -1;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* 1 if s is an address of family af with an optional "/prefix" that fits
 * it, else 0. A hub's answer is not trusted to be well formed. */
static int join_addr_ok(const char *s, int af)
{
	char a[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t prefix;

	if (n == 0 || n >= sizeof(a))
		return 0;
	memcpy(a, s, n);
	a[n] = 0;
	if (inet_pton(af, a, bin) != 1)
		return 0;
	return !slash || num_parse_cstr(slash + 1, 0, af == AF_INET ? 32 : 128, &prefix) == 0;
}

/* Addresses come as a list; the first of each family is used. */
static int join_addrs(json_t *list, char *v4, char *v6, size_t cap)
{
	size_t i;
	json_t *v;

	if (!json_is_array(list))
		return -1;
	json_array_foreach(list, i, v) {
		if (!json_is_string(v))
			return -1;
		int af = strchr(json_string_value(v), ':') ? AF_INET6 : AF_INET;
		char *dst = af == AF_INET6 ? v6 : v4;

		if (!join_addr_ok(json_string_value(v), af))
			return -1;
		if (!dst[0] && join_copy(dst, cap, v) < 0)
			return -1;
	}
	return v4[0] || v6[0] ? 0 : -1;
}

/* resp's bytes; a never-filled buf has no storage (and no head). */
static json_t *join_json(const struct buf *resp)
{
	return resp->len ? json_loadb((const char *)buf_head(resp), resp->len, 0, NULL)
			 : NULL;
}

static int join_answer(const struct buf *resp, struct agent_state *st)
{
	json_t *j = join_json(resp);
	json_t *ka;
	int rc = -1;

	if (!j)
		return -1;
	const char *hk = json_string_value(json_object_get(j, "hub_public_key"));
	if (join_copy(st->name, sizeof(st->name), json_object_get(j, "agent")) == 0 &&
	    join_copy(st->hub_endpoint, sizeof(st->hub_endpoint), json_object_get(j, "hub_endpoint")) == 0 &&
	    hk && enc_b64std_decode(st->hub_public_key, 32, hk, strlen(hk)) == 32 &&
	    join_addrs(json_object_get(j, "tunnel_addresses"), st->tunnel_ipv4,
		       st->tunnel_ipv6, sizeof(st->tunnel_ipv4)) == 0 &&
	    join_addrs(json_object_get(j, "hub_tunnel_addresses"), st->hub_tunnel_ipv4,
		       st->hub_tunnel_ipv6, sizeof(st->hub_tunnel_ipv4)) == 0)
		rc = 0;
	ka = json_object_get(j, "keepalive");
	st->keepalive = json_is_integer(ka) && json_integer_value(ka) > 0 &&
			json_integer_value(ka) <= 3600 ? (unsigned)json_integer_value(ka) : 25;
	json_decref(j);
	return rc;
}

static int join_mkdir_for(const char *path)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

struct join_args {
	const char *url, *fingerprint, *state, *ca;
	char *token;
	bool force, service;
	char *allow[AGENT_SERVICE_ALLOW_MAX];
	unsigned nallow;
};

static int join_parse(int argc, char **argv, struct join_args *a)
{
	static const struct option longs[] = {
		{ "fingerprint", required_argument, NULL, 'f' },
		{ "state", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'F' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "enable-service", no_argument, NULL, 'E' },
		{ "allow", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 'f')
			a->fingerprint = optarg;
		else if (c == 's')
			a->state = optarg;
		else if (c == 'F')
			a->force = true;
		else if (c == 'c')
			a->ca = optarg;
		else if (c == 'E')
			a->service = true;
		else if (c == 'a' && a->nallow < AGENT_SERVICE_ALLOW_MAX)
			a->allow[a->nallow++] = optarg;
		else
			return -1;
	}
	if (argc - optind != 2 || (a->nallow && !a->service))
		return -1;
	a->url = argv[optind];
	a->token = argv[optind + 1];
	return strncmp(a->url, "https://", 8) ? -2 : 0;
}

/* Generates the key, enrolls, fills st. Returns CMD_EXIT_*. */
static int join_enroll(const struct join_args *a, const char *pin,
		       struct agent_state *st)
{
	char url[1024];
	uint8_t pub[32];
	struct http_client_resp resp = { 0 };
	char *body;
	int rc;

	if (wg_crypto_init() < 0 || wg_x25519_generate(st->private_key) < 0 ||
	    wg_x25519_public(pub, st->private_key) < 0)
		return CMD_EXIT_FAIL;
	size_t n = strcspn(a->url, "?#");
	while (n > 8 && a->url[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s%s", (int)n, a->url, AGENT_JOIN_PATH);
	body = join_body(a->token, pub);
	if (!body)
		return CMD_EXIT_FAIL;
	rc = join_post(url, pin, a->ca, body, &resp);
	secure_free(body, strlen(body));
	if (rc == CMD_EXIT_OK && resp.status != 200)
		rc = join_refused(&resp.body, resp.status);
	else if (rc == CMD_EXIT_OK && join_answer(&resp.body, st) < 0) {
		fprintf(stderr, "postern agent join: the hub's answer is malformed\n");
		rc = CMD_EXIT_FAIL;
	}
	buf_free_secure(&resp.body);
	http_client_resp_free(&resp);
	return rc;
}

/* --enable-service: root, the unit's state path, allow entries the
 * agent accepts. Checked before the token is spent. Returns 0 or -1. */
static int join_service_args(struct join_args *a)
{
	char err[512];

	if (!a->service)
		return 0;
	if (geteuid() != 0) {
		fprintf(stderr, "postern agent join: --enable-service needs root\n");
		return -1;
	}
	if (a->state && strcmp(a->state, AGENT_SERVICE_STATE)) {
		fprintf(stderr, "postern agent join: --enable-service uses the unit's "
			"state file " AGENT_SERVICE_STATE " (no --state)\n");
		return -1;
	}
	if (!a->nallow)
		fprintf(stderr, "postern agent join: no --allow entries: the agent "
			"will refuse every target until " AGENT_SERVICE_ENV " names some\n");
	if (agent_service_check(a->allow, a->nallow, err, sizeof(err)) < 0) {
		fprintf(stderr, "postern agent join: %s\n", err);
		return -1;
	}
	a->state = AGENT_SERVICE_STATE;
	return 0;
}

int agent_join_main(int argc, char **argv)
{
	struct join_args a = { 0 };
	struct agent_state st;
	char path[4096], pin[128], err[512];
	int rc = join_parse(argc, argv, &a);

	if (rc < 0) {
		fprintf(stderr, rc == -2 ? "postern agent join: the hub URL must be https://\n" :
			"usage: postern agent join URL TOKEN [--fingerprint SHA256] "
			"[--ca-file PEM] [--state FILE] [--force]\n"
			"       [--enable-service [--allow ENTRY]...]\n");
		return CMD_EXIT_USAGE;
	}
	if (join_service_args(&a) < 0)
		return CMD_EXIT_USAGE;
	if (a.fingerprint && join_pin(a.fingerprint, pin, sizeof(pin)) < 0) {
		fprintf(stderr, "postern agent join: --fingerprint must be 64 hex digits "
			"(colons allowed) or sha256//BASE64\n");
		return CMD_EXIT_USAGE;
	}
	if (!a.state && agent_state_default_path(path, sizeof(path)) == 0)
		a.state = path;
	if (!a.state || (!a.force && access(a.state, F_OK) == 0)) {
		fprintf(stderr, "postern agent join: %s exists (this agent has joined "
			"already); use --force to replace it\n", a.state ? a.state : "state");
		return CMD_EXIT_CONFLICT;
	}
	memset(&st, 0, sizeof(st));
	snprintf(st.hub_url, sizeof(st.hub_url), "%s", a.url);
	if (a.fingerprint)
		snprintf(st.fingerprint, sizeof(st.fingerprint), "%s", a.fingerprint);
	rc = join_enroll(&a, a.fingerprint ? pin : NULL, &st);
	secure_wipe(a.token, strlen(a.token));	/* also from /proc/PID/cmdline */
	if (rc == CMD_EXIT_OK && (join_mkdir_for(a.state) < 0 ||
				  agent_state_save(a.state, &st, err, sizeof(err)) < 0)) {
		fprintf(stderr, "postern agent join: %s\n", err);
		rc = CMD_EXIT_FAIL;
	}
	agent_state_wipe(&st);
	if (rc == CMD_EXIT_OK)
		printf("joined the hub as '%s' (tunnel %s%s%s); state in %s\n", st.name,
		       st.tunnel_ipv4, st.tunnel_ipv4[0] && st.tunnel_ipv6[0] ? ", " : "",
		       st.tunnel_ipv6, a.state);
	if (rc == CMD_EXIT_OK && !a.service)
		printf("next: postern agent run --allow TARGET...\n");
	if (rc == CMD_EXIT_OK && a.service &&
	    agent_service_enable(a.allow, a.nallow, err, sizeof(err)) < 0) {
		fprintf(stderr, "postern agent join: %s\n", err);
		rc = CMD_EXIT_FAIL;
	}
	return rc;
}
