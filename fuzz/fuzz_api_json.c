/* fuzz_api_json.c - the admin API's request decoding on any bytes: the
 * bounded JSON parser and depth scan, then api_handle() with the bytes as
 * the body of a write endpoint (validators, resource engine, SQL), the
 * query string of a list, and the head record parser.
 *
 * The agents' own endpoints are targets too: the anonymous join (over
 * HTTPS; a pending agent has the join token "fuzz-join-token", which the
 * seed `join_agent` carries) and the heartbeat (through the tunnel, from
 * the enrolled agent's key, 01 02 .. 20).
 *
 * Input: one byte choosing the target (below), then the body. Endpoints
 * that hash passwords (login, setup, users) are left out: Argon2id's cost
 * per execution would starve the fuzzer; their body checks are the same
 * engine the others exercise. */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "audit/audit.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *method, *path;
	enum api_transport transport;
} targets[] = {
	{ "POST", "/api/v1/routes", API_TRANSPORT_UNIX },
	{ "PATCH", "/api/v1/routes/1", API_TRANSPORT_UNIX },
	{ "POST", "/api/v1/agents", API_TRANSPORT_UNIX },
	{ "PATCH", "/api/v1/agents/1", API_TRANSPORT_UNIX },
	{ "POST", "/api/v1/agents/1/join-tokens", API_TRANSPORT_UNIX },
	{ "POST", "/api/v1/certificates", API_TRANSPORT_UNIX },
	{ "PATCH", "/api/v1/certificates/1", API_TRANSPORT_UNIX },
	{ "POST", "/api/v1/tokens", API_TRANSPORT_UNIX },
	{ "PUT", "/api/v1/settings/hub.public_url", API_TRANSPORT_UNIX },
	{ "PUT", "/api/v1/settings/audit.checkpoint_entries", API_TRANSPORT_UNIX },
	{ "GET", "/api/v1/routes", API_TRANSPORT_UNIX },	/* the bytes as the query */
	{ "GET", "/api/v1/audit", API_TRANSPORT_UNIX },
	{ "POST", "/api/v1/agents/join", API_TRANSPORT_HTTPS },
	{ "POST", "/api/v1/agent/heartbeat", API_TRANSPORT_TUNNEL },
};

/* The enrolled agent's public key (heartbeat target). */
static const uint8_t agent_key[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

static struct api *api;
static char dir[] = "/tmp/postern-fuzz-api-XXXXXX";

static int fuzz_rm(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

/* The store and its directory go when the fuzzer exits. */
static void fuzz_cleanup(void)
{
	api_close(api);
	nftw(dir, fuzz_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static struct api *fuzz_api(void)
{
	struct api_config cfg = { 0 };
	char err[256];

	if (api)
		return api;
	log_set_level(LOG_LEVEL_MAX);
	if (!mkdtemp(dir))
		abort();
	cfg.data_dir = dir;
	api = api_open(&cfg, err, sizeof(err));
	if (!api)
		abort();
	atexit(fuzz_cleanup);
	/* Durability is not what is fuzzed; fsyncs would only slow it. */
	store_exec(api_store(api), "PRAGMA synchronous = OFF", NULL, 0);
	store_exec(api_store(api), "INSERT INTO agents(name, created_at, rev) VALUES"
		   " ('a', 0, 1); INSERT INTO routes(host, target, created_at, rev)"
		   " VALUES ('a.test', 'http://a:1', 0, 1);"
		   "INSERT INTO agents(name, public_key, tunnel_ip, status, created_at, rev)"
		   " VALUES ('e', 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=',"
		   " '100.96.0.9', 'enrolled', 0, 1);"
		   "INSERT INTO agents(name, created_at, rev) VALUES ('p', 0, 1);"
		   "INSERT INTO agent_join_tokens(agent_id, hash, created_at, expires_at)"
		   " SELECT id, '0191ec14a922e630f88bd161dbe7bd9cbfed5ca08090b1c37f2617db7fa89012',"
		   " 0, 9000000000000 FROM agents WHERE name = 'p'", NULL, 0);
	return api;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api *a = fuzz_api();
	struct audit_checkpoint ck;
	struct api_resp resp;
	struct api_req req = { .client_ip = "", .transport = API_TRANSPORT_UNIX,
			       .if_match = "*", .content_type = "application/json" };
	char why[256], *query = NULL;
	json_t *v;

	if (size < 1)
		return 0;
	v = api_json_parse(data + 1, size - 1, why, sizeof(why));
	json_decref(v);
	api_json_depth(data, size);
	audit_head_parse((const char *)data, size, &ck);

	size_t t = data[0] % (sizeof(targets) / sizeof(targets[0]));
	req.method = targets[t].method;
	req.path = targets[t].path;
	if (targets[t].transport != API_TRANSPORT_UNIX) {
		req.transport = targets[t].transport;
		req.client_ip = "100.96.0.9";
		req.host = "100.96.0.1";
		req.tunnel_peer_key = agent_key;
		req.if_match = NULL;
	}
	if (!strcmp(req.method, "GET")) {
		query = strndup((const char *)data + 1, size - 1);
		req.query = query;
	} else {
		req.body = data + 1;
		req.body_len = size - 1;
	}
	api_resp_init(&resp);
	api_handle(a, &req, &resp);
	/* Every answer is a JSON object (or empty for 204). */
	if (resp.body.len && buf_head(&resp.body)[0] != '{')
		abort();
	api_resp_free(&resp);
	free(query);
	return 0;
}
