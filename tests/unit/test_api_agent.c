/* test_api_agent.c - the hub's half of agent enrollment and heartbeats
 * (src/api/api_agent_join.c) through api_handle(): a join with a fresh
 * token, every refusal (unknown, used, expired, disabled, bad body, hub
 * not ready), the audit entries, address allocation, and heartbeats that
 * only the tunnel may send. */
#include <stdlib.h>

#include "unit.h"
#include "api_call.h"
#include "fixture.h"
#include "api/api_int.h"
#include "core/enc.h"
#include "store/store.h"

static struct api *api;
static const char *dir;
static int64_t agent_id;
static const char *PUB = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
static const char *HUBKEY = "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICA=";

static int64_t count(const char *sql)
{
	return store_query_int(api_store(api), sql, -1);
}

/* A new join token for agent `id` (over the control socket). */
static void new_token(int64_t id, char *out)
{
	char path[64];

	snprintf(path, sizeof(path), "/api/v1/agents/%lld/join-tokens", (long long)id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path }), 201);
	snprintf(out, 128, "%s", rs_str("token"));
}

static int join(const char *token, const char *pub)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"version\":1,\"token\":\"%s\",\"public_key\":\"%s\","
		 "\"agent_version\":\"0.1.0-test\"}", token, pub);
	return call(api, (struct rq){ .method = "POST", .path = "/api/v1/agents/join",
				      .body = body, .via = VIA_HTTPS });
}

static void set(const char *key, const char *json)
{
	char path[96], body[256];

	snprintf(path, sizeof(path), "/api/v1/settings/%s", key);
	snprintf(body, sizeof(body), "{\"value\":%s}", json);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	char etag[64];
	snprintf(etag, sizeof(etag), "%.60s", rs_header("ETag"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = path, .body = body,
					    .if_match = etag }), 200);
}

TEST(join_needs_a_configured_hub)
{
	char tok[128];

	new_token(agent_id, tok);
	CHECK_EQ_INT(join(tok, PUB), 503);
	CHECK_EQ_STR(rs_code(), "hub_not_ready");
	set("wireguard.public_key", "\"ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICA=\"");
	set("wireguard.endpoint", "\"hub.test:51820\"");
	/* The token was not consumed by the refusal. */
	CHECK_EQ_INT(join(tok, PUB), 200);
}

TEST(join_happy_path_allocates_and_audits)
{
	json_t *a;

	CHECK_EQ_INT(count("SELECT count(*) FROM agents WHERE status = 'enrolled'"), 1);
	CHECK_EQ_INT(count("SELECT count(*) FROM agent_join_tokens WHERE used_at IS NOT NULL"), 1);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = 'agent.join'"), 1);
	/* The answer of the first join is gone; ask again through the data. */
	CHECK_EQ_INT(count("SELECT count(*) FROM agents WHERE tunnel_ipv4 = '100.96.0.2'"
			   " AND tunnel_ipv6 = 'fd7a:7073:7465::2'"
			   " AND public_key = 'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA='"), 1);
	/* A second agent gets the next addresses, and the full answer. */
	char tok[128];
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/agents",
					    .body = "{\"name\":\"pi\"}" }), 201);
	int64_t id2 = rs_int("id");
	new_token(id2, tok);
	CHECK_EQ_INT(join(tok, "BQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="), 200);
	CHECK_EQ_INT(rs_int("version"), 1);
	CHECK_EQ_STR(rs_str("agent"), "pi");
	CHECK_EQ_STR(rs_str("hub_public_key"), HUBKEY);
	CHECK_EQ_STR(rs_str("hub_endpoint"), "hub.test:51820");
	a = rs_get("tunnel_addresses");
	CHECK_EQ_STR(json_string_value(json_array_get(a, 0)), "100.96.0.3/16");
	CHECK_EQ_STR(json_string_value(json_array_get(a, 1)), "fd7a:7073:7465::3/64");
	a = rs_get("hub_tunnel_addresses");
	CHECK_EQ_STR(json_string_value(json_array_get(a, 0)), "100.96.0.1");
	CHECK_EQ_STR(json_string_value(json_array_get(a, 1)), "fd7a:7073:7465::1");
	CHECK_EQ_INT(rs_int("keepalive"), 25);
}

TEST(join_refusals_are_clear_and_audited)
{
	char tok[128], sql[256], hash[65];
	int64_t failed = count("SELECT count(*) FROM audit_log WHERE action = 'agent.join_failed'");

	CHECK_EQ_INT(join("pj_nosuchtoken", PUB), 403);
	CHECK_EQ_STR(rs_code(), "token_unknown");
	/* Used: the first agent's token. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/agents",
					    .body = "{\"name\":\"old\"}" }), 201);
	int64_t id3 = rs_int("id");
	new_token(id3, tok);
	CHECK_EQ_INT(join(tok, "CQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="), 200);
	CHECK_EQ_INT(join(tok, "CQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="), 403);
	CHECK_EQ_STR(rs_code(), "token_used");
	CHECK(strstr(rs_body_message(), "used already") != NULL);
	/* Expired. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/agents",
					    .body = "{\"name\":\"late\"}" }), 201);
	new_token(rs_int("id"), tok);
	api_hash_token(tok, hash);
	snprintf(sql, sizeof(sql), "UPDATE agent_join_tokens SET expires_at = 1 WHERE hash = '%s'", hash);
	CHECK_EQ_INT(store_exec(api_store(api), sql, NULL, 0), 0);
	CHECK_EQ_INT(join(tok, "DQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="), 403);
	CHECK_EQ_STR(rs_code(), "token_expired");
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = 'agent.join_failed'"),
		     failed + 3);
	/* A public key another agent has. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/agents",
					    .body = "{\"name\":\"copycat\"}" }), 201);
	new_token(rs_int("id"), tok);
	CHECK_EQ_INT(join(tok, PUB), 409);
	CHECK_EQ_STR(rs_field(), "public_key");
}

TEST(join_body_is_strict)
{
	const char *bad[] = {
		"{\"version\":2,\"token\":\"x\",\"public_key\":\"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\"}",
		"{\"version\":1,\"public_key\":\"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\"}",
		"{\"version\":1,\"token\":\"x\",\"public_key\":\"short\"}",
		"{\"version\":1,\"token\":\"x\",\"public_key\":\"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\",\"extra\":1}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (call(api, (struct rq){ .method = "POST", .path = "/api/v1/agents/join",
					   .body = bad[i], .via = VIA_HTTPS }) != 400)
			UNIT_FAIL("body %zu: %d", i, rs_last.status);
}

static int heartbeat(const uint8_t *key, int via)
{
	struct api_req q = {
		.method = "POST", .path = "/api/v1/agent/heartbeat", .host = "100.96.0.1",
		.content_type = "application/json",
		.body = (const uint8_t *)"{\"version\":1,\"agent_version\":\"9.9\"}",
		.body_len = 35, .client_ip = "100.96.0.2",
		.transport = via == VIA_TUNNEL ? API_TRANSPORT_TUNNEL : API_TRANSPORT_HTTPS,
		.tunnel_peer_key = key,
	};
	struct api_resp resp;
	int st;

	api_resp_init(&resp);
	api_handle(api, &q, &resp);
	st = resp.status;
	api_resp_free(&resp);
	return st;
}

TEST(heartbeat_only_through_the_tunnel)
{
	uint8_t key[33], other[32] = { 7 };

	CHECK_EQ_INT(enc_b64std_decode(key, sizeof(key), PUB, strlen(PUB)), 32);
	CHECK_EQ_INT(heartbeat(key, VIA_TUNNEL), 200);
	CHECK_EQ_INT(count("SELECT count(*) FROM agents WHERE version = '9.9'"
			   " AND last_seen_at > 0"), 1);
	CHECK_EQ_INT(heartbeat(other, VIA_TUNNEL), 404);	/* unknown peer */
	CHECK_EQ_INT(heartbeat(key, VIA_HTTPS), 404);		/* not from outside */
	/* Admin endpoints are not reachable through the tunnel. */
	struct api_req q = { .method = "GET", .path = "/api/v1/agents", .client_ip = "100.96.0.2",
			     .transport = API_TRANSPORT_TUNNEL, .tunnel_peer_key = key };
	struct api_resp resp;
	api_resp_init(&resp);
	api_handle(api, &q, &resp);
	CHECK_EQ_INT(resp.status, 404);
	api_resp_free(&resp);
}

int main(void)
{
	struct api_config cfg = { 0 };
	char err[256];

	dir = fixture_tmpdir();
	cfg.data_dir = dir;
	api = api_open(&cfg, err, sizeof(err));
	if (!api) {
		printf("api_open: %s\n", err);
		return 1;
	}
	if (call(api, (struct rq){ .method = "POST", .path = "/api/v1/agents",
				   .body = "{\"name\":\"nas\"}" }) != 201)
		return 1;
	agent_id = rs_int("id");
	RUN(join_needs_a_configured_hub);
	RUN(join_happy_path_allocates_and_audits);
	RUN(join_refusals_are_clear_and_audited);
	RUN(join_body_is_strict);
	RUN(heartbeat_only_through_the_tunnel);
	json_decref(rs_last.json);
	api_close(api);
	fixture_rmdir(dir);
	return unit_done();
}
