/* test_api.c - the admin API through api_handle(): every endpoint's happy
 * path, validation errors naming the field, unauthenticated and
 * wrong-scope requests, CSRF, If-Match, bounded JSON, audit entries. */
#include <openssl/pem.h>
#include <grp.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include "unit.h"
#include "fixture.h"
#include "api_call.h"

#include "api/api_int.h"
#include "api/api_acme.h"
#include "acme/acme_mgr.h"
#include "audit/audit_verify.h"
#include "core/log.h"
#include "core/secure.h"
#include "store/cert.h"
#include "store/secret.h"

#define ORIGIN "https://hub.test"

static struct api *api;
static const char *dir;
static char errbuf[512];
static char setup_link[600];

/* Credentials made by the fixture. */
static char admin_cookie[128], admin_csrf[128];
static char op_cookie[128], op_csrf[128];
static char tok_read[128], tok_write[128], tok_op_write[128];
static int64_t route_id, agent_id, cert_id, user_id, token_id, webhook_id, delivery_id;
static int64_t route_token_id, share_id, passkey_id;

static int published, published_what;

/* The throttle's clock in the tests that step it. */
static int64_t fake_now;
static int64_t fake_ms(void)
{
	return fake_now;
}

/* What each endpoint of the table has been seen to do in this file. */
enum { SEEN_OK = 1u << 0, SEEN_INVALID = 1u << 1, SEEN_UNAUDITED = 1u << 2 };
static unsigned seen[128];
static int64_t audit_seen;	/* audit entries after the previous call */

static void observe(const struct rq *r, int status)
{
	struct api_ctx c;
	bool known;
	const struct api_endpoint *e;

	int64_t entries = store_query_int(api_store(api), "SELECT count(*) FROM audit_log", -1);
	bool wrote = entries > audit_seen;

	audit_seen = entries;
	if (r->via == VIA_TUNNEL)
		return;
	e = api_endpoint_match(&c, r->method ? r->method : "GET", r->path, &known);
	if (!e)
		return;
	if (status >= 200 && status < 300)
		seen[e - api_endpoints] |= SEEN_OK;
	if (status >= 200 && status < 300 && strcmp(e->method, "GET") && !wrote)
		seen[e - api_endpoints] |= SEEN_UNAUDITED;
	if (status == 400 && rs_field()[0])
		seen[e - api_endpoints] |= SEEN_INVALID;
}

static void on_publish(void *ctx, struct api *a, unsigned what)
{
	(void)ctx;
	(void)a;
	published++;
	published_what |= (int)what;
}

static int64_t count(const char *sql)
{
	return store_query_int(api_store(api), sql, -1);
}

/* A self-signed certificate for names "a.test" and "b.test". */
static void make_cert(char *cert, size_t clen, char *key, size_t klen)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	BIO *b;
	char *data;
	long n;

	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"a.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:a.test,DNS:b.test");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, k, EVP_sha256());
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &data);
	snprintf(cert, clen, "%.*s", (int)n, data);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &data);
	snprintf(key, klen, "%.*s", (int)n, data);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* JSON-escapes a PEM into a static buffer. */
static const char *jstr(const char *s)
{
	static char out[2][16384];
	static int i;
	json_t *v = json_string(s);
	char *d = json_dumps(v, JSON_ENCODE_ANY);
	char *o = out[i++ & 1];

	snprintf(o, sizeof(out[0]), "%s", d);
	free(d);
	json_decref(v);
	return o;
}

/* Logs in over HTTPS; fills the cookie and CSRF token. */
static int login(const char *user, const char *pw, char *cookie, char *csrf)
{
	char body[256];
	const char *sc;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
	if (call(api, (struct rq){ .method = "POST", .path = "/api/v1/session", .body = body,
				   .origin = ORIGIN, .via = VIA_HTTPS }) != 201)
		return rs_last.status;
	sc = rs_header("Set-Cookie");
	if (cookie && sc)
		snprintf(cookie, 128, "%.*s", (int)strcspn(sc, ";"), sc);
	if (csrf)
		snprintf(csrf, 128, "%s", rs_str("csrf_token"));
	return 201;
}

/* A password login for `user` over HTTPS from address `ip` (no Origin);
 * returns the status. */
static int login_from(const char *ip, const char *user, const char *pw)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
	return call(api, (struct rq){ .method = "POST", .path = "/api/v1/session", .body = body,
				      .via = VIA_HTTPS, .ip = ip });
}

static void mktoken(const char *scope, int64_t user, char *out)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"name\":\"t\",\"scope\":\"%s\",\"user_id\":%lld}",
		 scope, (long long)user);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/tokens", .body = body }), 201);
	snprintf(out, 128, "Bearer %s", rs_str("token"));
}

static void setup_env(void)
{
	struct api_config cfg = { 0 };
	FILE *f;
	char cert[8192], key[4096], body[16384];

	dir = fixture_tmpdir();
	cfg.data_dir = dir;
	api = api_open(&cfg, errbuf, sizeof(errbuf));
	if (!api) {
		printf("api_open: %s\n", errbuf);
		exit(1);
	}
	api_set_publisher(api, on_publish, NULL);
	f = fmemopen(setup_link, sizeof(setup_link), "w");
	CHECK_EQ_INT(api_bootstrap(api, f), 1);
	fclose(f);
	/* The admin's password, over the control socket. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/users/1" }), 200);
	char etag[32];
	snprintf(etag, sizeof(etag), "%s", rs_header("ETag"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = "/api/v1/users/1", .if_match = etag,
		.body = "{\"password\":\"correct horse battery\"}" }), 200);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/users", .body =
		"{\"name\":\"op\",\"role\":\"operator\",\"password\":\"operator password\"}" }), 201);
	user_id = rs_int("id");
	CHECK_EQ_INT(login("admin", "correct horse battery", admin_cookie, admin_csrf), 201);
	CHECK_EQ_INT(login("op", "operator password", op_cookie, op_csrf), 201);
	mktoken("read", 1, tok_read);
	mktoken("write", 1, tok_write);
	token_id = rs_int("id");
	mktoken("write", user_id, tok_op_write);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/agents",
		.body = "{\"name\":\"nas\"}" }), 201);
	agent_id = rs_int("id");
	snprintf(body, sizeof(body), "{\"host\":\"app.test\",\"agent_id\":%lld,"
		 "\"target\":\"http://192.168.1.10:8080\"}", (long long)agent_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body = body }), 201);
	route_id = rs_int("id");
	snprintf(body, sizeof(body), "{\"name\":\"app\",\"route_id\":%lld}", (long long)route_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/route-tokens",
					    .body = body }), 201);
	route_token_id = rs_int("id");
	snprintf(body, sizeof(body), "{\"name\":\"s\",\"route_id\":%lld,\"expires_in\":60}",
		 (long long)route_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/share-links",
					    .body = body }), 201);
	share_id = rs_int("id");
	/* Two passkeys of the admin's (registration is the portal's ceremony,
	 * not an API call): one the endpoint checks use, one to remove. */
	CHECK_EQ_INT(store_exec(api_store(api), "INSERT INTO passkeys(user_id, cred_id,"
		" public_key, alg, name, created_at, rev) VALUES (1, x'01', x'02', -8, 'k1', 1, 7),"
		" (1, x'03', x'04', -7, 'k2', 1, 8)", errbuf, sizeof(errbuf)), 0);
	passkey_id = count("SELECT min(id) FROM passkeys");
	make_cert(cert, sizeof(cert), key, sizeof(key));
	snprintf(body, sizeof(body), "{\"name\":\"site\",\"cert_pem\":%s,\"key_pem\":%s}",
		 jstr(cert), jstr(key));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/certificates", .body = body }), 201);
	cert_id = rs_int("id");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/webhooks", .body =
		"{\"name\":\"ops\",\"url\":\"https://hooks.example/x\",\"events\":\"route.*\"}" }), 201);
	webhook_id = rs_int("id");
	snprintf(body, sizeof(body), "/api/v1/webhooks/%lld/test", (long long)webhook_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = body }), 202);
	delivery_id = count("SELECT max(id) FROM webhook_outbox");
}

/* Which of the fixture's objects fills the {id} of a pattern holding
 * `part`; the first match wins (webhook-deliveries before webhooks). */
static const struct {
	const char *part;
	const int64_t *id;
} fixture_ids[] = {
	{ "/webhook-deliveries/", &delivery_id }, { "/webhooks/", &webhook_id },
	{ "/routes/", &route_id }, { "/agents/", &agent_id }, { "/certificates/", &cert_id },
	{ "/users/", &user_id }, { "/tokens/", &token_id }, { "/route-tokens/", &route_token_id },
	{ "/share-links/", &share_id }, { "/passkeys/", &passkey_id },
};

/* The endpoint's pattern with its parameter filled in. */
static const char *instantiate(const struct api_endpoint *e)
{
	static char path[256];
	const char *p = strchr(e->pattern, '{');
	int64_t id = 0;

	if (!p)
		return e->pattern;
	if (!strncmp(e->pattern, "/api/v1/settings/", 17)) {
		snprintf(path, sizeof(path), "/api/v1/settings/login.lockout");
		return path;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fixture_ids); i++)
		if (strstr(e->pattern, fixture_ids[i].part)) {
			id = *fixture_ids[i].id;
			break;
		}
	snprintf(path, sizeof(path), "%.*s%lld%s", (int)(p - e->pattern), e->pattern,
		 (long long)id, strchr(p, '}') + 1);
	return path;
}

static bool unsafe(const struct api_endpoint *e)
{
	return strcmp(e->method, "GET") != 0;
}

TEST(bootstrap_prints_a_setup_link_that_works_once)
{
	const char *tok = strstr(setup_link, "#token=");
	char token[128], body[256];

	CHECK(strstr(setup_link, "created the user \"admin\"") != NULL);
	CHECK(tok != NULL);
	if (!tok)
		return;
	snprintf(token, sizeof(token), "%.*s", (int)strcspn(tok + 7, "\n"), tok + 7);
	/* The admin's password was set over the socket, which spent the
	 * link; a fresh one works exactly once. */
	snprintf(body, sizeof(body), "{\"token\":\"%s\",\"password\":\"another long password\"}", token);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/setup", .body = body,
					    .via = VIA_HTTPS }), 401);
	CHECK_EQ_STR(rs_field(), "token");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/users/2/setup-link" }), 201);
	snprintf(token, sizeof(token), "%s", rs_str("token"));
	CHECK(strstr(rs_str("link"), "/setup#token=ps_") != NULL);
	snprintf(body, sizeof(body), "{\"token\":\"%s\",\"password\":\"short\"}", token);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/setup", .body = body,
					    .via = VIA_HTTPS }), 400);
	CHECK_EQ_STR(rs_field(), "password");
	snprintf(body, sizeof(body), "{\"token\":\"%s\",\"password\":\"operator password\"}", token);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/setup", .body = body,
					    .via = VIA_HTTPS }), 204);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/setup", .body = body,
					    .via = VIA_HTTPS }), 401);
	CHECK_EQ_INT(api_bootstrap(api, stderr), 0);
}

TEST(routing_404_405_and_tunnel)
{
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/nothing" }), 404);
	CHECK_EQ_STR(rs_code(), "not_found");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes/" }), 404);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes/0" }), 404);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes/abc" }), 404);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/routes" }), 405);
	CHECK_EQ_STR(rs_header("Allow"), "GET, POST");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes",
					    .via = VIA_TUNNEL }), 404);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes/999999" }), 404);
	CHECK_EQ_STR(rs_header("Cache-Control"), "no-store");
}

TEST(control_socket_peer_credentials)
{
	struct api *a = api;

	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/session" }), 200);
	CHECK_EQ_STR(rs_str("perm"), "admin");
	CHECK_EQ_STR(rs_str("actor"), "unix:uid=0");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .uid = 1000,
					    .gid = 1000 }), 403);
	a->have_group = true;
	a->group = 4711;
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .uid = 1000,
					    .gid = 4711 }), 200);
	/* A supplementary group counts too (read from /proc/PID/status):
	 * this process joins 4711 for a moment and is the peer. */
	gid_t g = 4711;
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .uid = 1000,
					    .gid = 1000, .pid = getpid() }), 403);
	CHECK_EQ_INT(setgroups(1, &g), 0);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .uid = 1000,
					    .gid = 1000, .pid = getpid() }), 200);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .uid = 1000,
					    .gid = 1000, .pid = 1 }), 403);
	CHECK_EQ_INT(setgroups(0, NULL), 0);
	a->have_group = false;
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .uid = 1000,
					    .gid = 4711 }), 403);
}

TEST(every_endpoint_refuses_the_unauthenticated)
{
	for (size_t i = 0; i < api_endpoints_count; i++) {
		const struct api_endpoint *e = &api_endpoints[i];
		if (e->perm == API_PERM_NONE)
			continue;
		int st = call(api, (struct rq){ .method = e->method, .path = instantiate(e), .via = VIA_HTTPS,
			.origin = ORIGIN, .body = (e->flags & API_EP_BODY) ? "{}" : NULL });
		if (st != 401)
			UNIT_FAIL("%s %s: %d, want 401", e->method, e->pattern, st);
		/* A wrong token is no better. */
		st = call(api, (struct rq){ .method = e->method, .path = instantiate(e), .via = VIA_HTTPS,
			.auth = "Bearer pt_wrong", .ip = "198.51.100.1" });
		if (st != 401 && st != 429)
			UNIT_FAIL("%s %s with a bad token: %d", e->method, e->pattern, st);
	}
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .via = VIA_HTTPS,
					    .auth = "Basic YTpi" }), 401);
}

TEST(every_endpoint_checks_scope_and_role)
{
	for (size_t i = 0; i < api_endpoints_count; i++) {
		const struct api_endpoint *e = &api_endpoints[i];
		int st = call(api, (struct rq){ .method = e->method, .path = instantiate(e), .via = VIA_HTTPS,
						.auth = tok_read, .if_match = "\"0\"" });
		bool denied = st == 403;
		if (denied != (e->perm > API_PERM_READ))
			UNIT_FAIL("%s %s with a read token: %d", e->method, e->pattern, st);
		if (denied && strcmp(rs_code(), "forbidden"))
			UNIT_FAIL("%s %s: code %s", e->method, e->pattern, rs_code());
		/* An operator's write token: everything but admin endpoints. */
		st = call(api, (struct rq){ .method = e->method, .path = instantiate(e), .via = VIA_HTTPS,
					    .auth = tok_op_write, .if_match = "\"0\"" });
		if ((st == 403) != (e->perm == API_PERM_ADMIN))
			UNIT_FAIL("%s %s with an operator token: %d", e->method, e->pattern, st);
	}
}

TEST(every_unsafe_endpoint_needs_csrf_and_origin)
{
	for (size_t i = 0; i < api_endpoints_count; i++) {
		const struct api_endpoint *e = &api_endpoints[i];
		if (!unsafe(e) || e->perm == API_PERM_NONE)
			continue;
		const char *body = (e->flags & API_EP_BODY) ? "{}" : NULL;
		int st = call(api, (struct rq){ .method = e->method, .path = instantiate(e), .via = VIA_HTTPS,
			.cookie = admin_cookie, .origin = ORIGIN, .body = body });
		if (st != 403 || strcmp(rs_code(), "csrf"))
			UNIT_FAIL("%s %s without X-CSRF-Token: %d %s", e->method, e->pattern,
				  st, rs_code());
		st = call(api, (struct rq){ .method = e->method, .path = instantiate(e), .via = VIA_HTTPS,
			.cookie = admin_cookie, .csrf = admin_csrf,
			.origin = "https://evil.test", .body = body });
		if (st != 403 || strcmp(rs_code(), "csrf"))
			UNIT_FAIL("%s %s from another origin: %d", e->method, e->pattern, st);
		st = call(api, (struct rq){ .method = e->method, .path = instantiate(e), .via = VIA_HTTPS,
			.cookie = admin_cookie, .csrf = admin_csrf, .body = body });
		if (st != 403 || strcmp(rs_code(), "csrf"))
			UNIT_FAIL("%s %s without Origin: %d", e->method, e->pattern, st);
		st = call(api, (struct rq){ .method = e->method, .path = instantiate(e), .via = VIA_HTTPS,
			.cookie = admin_cookie, .csrf = "wrong", .origin = ORIGIN, .body = body });
		if (st != 403)
			UNIT_FAIL("%s %s with a wrong token: %d", e->method, e->pattern, st);
	}
	/* Safe methods need neither. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .via = VIA_HTTPS,
					    .cookie = admin_cookie }), 200);
	/* A cross-site login form is refused too. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/session", .via = VIA_HTTPS,
		.origin = "https://evil.test",
		.body = "{\"username\":\"admin\",\"password\":\"x\"}" }), 403);
}

TEST(every_update_needs_a_current_if_match)
{
	for (size_t i = 0; i < api_endpoints_count; i++) {
		const struct api_endpoint *e = &api_endpoints[i];
		bool del = !strcmp(e->method, "DELETE");
		if ((strcmp(e->method, "PATCH") && strcmp(e->method, "PUT") && !del) ||
		    !strcmp(e->pattern, "/api/v1/session"))
			continue;
		const char *body = !(e->flags & API_EP_BODY) ? NULL :
			strstr(e->pattern, "settings") ? "{\"value\":900}" : "{}";
		/* (A DELETE without If-Match is allowed: not tried here.) */
		int st = del ? 428 : call(api, (struct rq){ .method = e->method,
						.path = instantiate(e), .body = body });
		if (st != 428 || (!del && strcmp(rs_code(), "precondition_required")))
			UNIT_FAIL("%s %s without If-Match: %d", e->method, e->pattern, st);
		st = call(api, (struct rq){ .method = e->method, .path = instantiate(e), .body = body,
					    .if_match = "\"1\"" });
		if (st != 412 || strcmp(rs_code(), "precondition_failed"))
			UNIT_FAIL("%s %s with a stale If-Match: %d", e->method, e->pattern, st);
	}
	/* Weak tags never match; a list may. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/settings/login.lockout" }), 200);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/settings/login.lockout",
		.body = "{\"value\":60}", .if_match = "W/\"0\"" }), 412);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/settings/login.lockout",
		.body = "{\"value\":900}", .if_match = "\"5\", \"0\"" }), 200);
}

TEST(route_crud_happy_path)
{
	char etag[32], path[64];
	int64_t id, audit_before = count("SELECT count(*) FROM audit_log");

	published = published_what = 0;
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body =
		"{\"host\":\"*.apps.test\",\"path_prefix\":\"/api\",\"target\":"
		"\"https://[fd00::5]:8443/base\",\"strip_prefix\":true,"
		"\"tls_verify\":false,\"tls_server_name\":\"svc.lan\"}" }), 201);
	id = rs_int("id");
	snprintf(path, sizeof(path), "/api/v1/routes/%lld", (long long)id);
	CHECK_EQ_STR(rs_header("Location"), path);
	CHECK_EQ_INT(published, 1);
	CHECK(published_what & API_CHANGED_ROUTES);
	CHECK(json_is_true(rs_get("strip_prefix")));
	CHECK(json_is_true(rs_get("redirect_https")));	/* default */
	CHECK(json_is_null(rs_get("policy")));
	snprintf(etag, sizeof(etag), "%s", rs_header("ETag"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	CHECK_EQ_STR(rs_header("ETag"), etag);
	CHECK_EQ_STR(rs_str("target"), "https://[fd00::5]:8443/base");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = path, .if_match = etag,
		.body = "{\"hsts_max_age\":31536000}" }), 200);
	CHECK_EQ_INT(rs_int("hsts_max_age"), 31536000);
	CHECK_EQ_STR(rs_str("host"), "*.apps.test");
	CHECK(strcmp(rs_header("ETag"), etag) != 0);
	/* The ETag read before is stale now. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = path, .if_match = etag,
		.body = "{\"hsts_max_age\":1}" }), 412);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path, .if_match = etag }), 412);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 204);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 404);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 404);
	/* create, update, delete: three entries, with what changed. */
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log") - audit_before, 3);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = 'route.update'"
			   " AND before_json LIKE '%\"hsts_max_age\":0%' AND after_json"
			   " LIKE '%\"hsts_max_age\":31536000%'"), 1);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = 'route.delete'"
			   " AND actor = 'unix:uid=0' AND after_json = ''"), 1);
}

/* A change and its audit entry commit or vanish together: when the entry
 * cannot be written, the change is rolled back, nothing is published, and
 * the log the hub goes on writing still verifies and gets signed. */
TEST(change_and_audit_entry_are_one_transaction)
{
	int64_t routes = count("SELECT count(*) FROM routes");
	int64_t entries = count("SELECT count(*) FROM audit_log");

	CHECK_EQ_INT(store_exec(api_store(api), "CREATE TEMP TRIGGER no_audit BEFORE INSERT"
		" ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END", NULL, 0), 0);
	published = 0;
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes",
		.body = "{\"host\":\"atomic.test\",\"target\":\"http://a:1\"}" }), 500);
	CHECK(!strstr(rs_last.body, "disk full"));	/* never why */
	CHECK_EQ_INT(published, 0);
	CHECK_EQ_INT(count("SELECT count(*) FROM routes"), routes);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log"), entries);
	CHECK_EQ_INT(store_exec(api_store(api), "DROP TRIGGER temp.no_audit", NULL, 0), 0);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes",
		.body = "{\"host\":\"atomic.test\",\"target\":\"http://a:1\"}" }), 201);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log"), entries + 1);
	audit_checkpoint(&((struct api *)api)->audit, true);
	CHECK_EQ_INT(count("SELECT max(seq) FROM audit_checkpoints"), entries + 1);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/audit/verify" }), 200);
	CHECK(json_is_true(rs_get("ok")));
}

TEST(list_pagination)
{
	char body[128];
	int64_t next;

	for (int i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "{\"host\":\"p%d.test\",\"target\":"
			 "\"http://10.0.0.1:80\"}", i);
		CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body = body }), 201);
	}
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .query = "limit=2" }), 200);
	CHECK_EQ_INT(json_array_size(rs_get("items")), 2);
	next = rs_int("next");
	CHECK(next > 0);
	snprintf(body, sizeof(body), "limit=500&after=%lld", (long long)next);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .query = body }), 200);
	CHECK_EQ_INT(json_array_size(rs_get("items")), 4);	/* 6 routes in all */
	CHECK(json_is_null(rs_get("next")));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .query = "limit=0" }), 400);
	CHECK_EQ_STR(rs_field(), "limit");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .query = "limit=501" }), 400);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .query = "after=-1" }), 400);
	CHECK_EQ_STR(rs_field(), "after");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .query = "limit=1&limit=2" }), 400);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .query = "sort=host" }), 400);
}

struct bad { const char *body; int status; const char *field; };

/* Each bad body, sent with `method` (and `if_match`), must get its status
 * naming its field. */
static void check_bad_as(const char *method, const char *path, const char *if_match,
			 const struct bad *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int st = call(api, (struct rq){ .method = method, .path = path, .body = b[i].body,
						.if_match = if_match });
		if (st != b[i].status || strcmp(rs_field(), b[i].field))
			UNIT_FAIL("%s %s %s: %d field '%s' (%s), want %d '%s'", method, path,
				  b[i].body, st, rs_field(), rs_body_message(),
				  b[i].status, b[i].field);
	}
}

static void check_bad(const char *path, const struct bad *b, size_t n)
{
	check_bad_as("POST", path, NULL, b, n);
}

TEST(route_validation_names_the_field)
{
	static const struct bad bad[] = {
		{ "{\"target\":\"http://a:1\"}", 400, "host" },
		{ "{\"host\":\"a.test\"}", 400, "target" },
		{ "{\"host\":\"A.test\",\"target\":\"http://a:1\"}", 400, "host" },
		{ "{\"host\":\"a..test\",\"target\":\"http://a:1\"}", 400, "host" },
		{ "{\"host\":\"-a.test\",\"target\":\"http://a:1\"}", 400, "host" },
		{ "{\"host\":\"*.test.\",\"target\":\"http://a:1\"}", 400, "host" },
		{ "{\"host\":\"a.*.test\",\"target\":\"http://a:1\"}", 400, "host" },
		{ "{\"host\":\"\",\"target\":\"http://a:1\"}", 400, "host" },
		{ "{\"host\":42,\"target\":\"http://a:1\"}", 400, "host" },
		{ "{\"host\":\"a.test\",\"target\":\"ftp://a:1\"}", 400, "target" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:0\"}", 400, "target" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:65536\"}", 400, "target" },
		{ "{\"host\":\"a.test\",\"target\":\"http://u@a:1\"}", 400, "target" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1/x?y\"}", 400, "target" },
		{ "{\"host\":\"a.test\",\"target\":\"http://[zz]:1\"}", 400, "target" },
		{ "{\"host\":\"a.test\",\"target\":\"tcp://a\"}", 400, "target" },
		{ "{\"host\":\"a.test\",\"target\":\"tcp://a:22\"}", 400, "tcp_listen_port" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"tcp_listen_port\":2222}",
		  400, "tcp_listen_port" },
		{ "{\"host\":\"a.test\",\"target\":\"tcp://a:22\",\"tcp_listen_port\":0}",
		  400, "tcp_listen_port" },
		{ "{\"host\":\"a.test\",\"target\":\"tcp://a:22\",\"tcp_listen_port\":2222,"
		  "\"path_prefix\":\"/x\"}", 400, "path_prefix" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"path_prefix\":\"x\"}",
		  400, "path_prefix" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"path_prefix\":\"/a/../b\"}",
		  400, "path_prefix" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"path_prefix\":\"/a//b\"}",
		  400, "path_prefix" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"path_prefix\":\"/%2e\"}",
		  400, "path_prefix" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"strip_prefix\":1}",
		  400, "strip_prefix" },
		{ "{\"host\":\"a.test\",\"target\":\"http://127.1:80\"}", 400, "target" },
		{ "{\"host\":\"a.test\",\"target\":\"http://2130706433:80\"}", 400, "target" },
		{ "{\"host\":\"a.test\",\"target\":\"http://0177.0.0.1:80\"}", 400, "target" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"hsts_max_age\":-1}",
		  400, "hsts_max_age" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"tls_server_name\":\"x.lan\"}",
		  400, "tls_server_name" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"policy\":\"{\\\"nope\\\":1}\"}",
		  400, "policy" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"agent_id\":99999}",
		  400, "agent_id" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"agent_id\":\"1\"}",
		  400, "agent_id" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"colour\":\"red\"}",
		  400, "colour" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"id\":5}", 400, "id" },
		{ "{\"host\":\"a.test\",\"target\":\"http://a:1\",\"rev\":5}", 400, "rev" },
		{ "{\"host\":\"app.test\",\"target\":\"http://a:1\"}", 409, "host" },
		/* Only a tcp:// route goes without a host. */
		{ "{\"target\":\"http://a:1\"}", 400, "host" },
	};
	char path[64], etag[32];

	check_bad("/api/v1/routes", bad, ARRAY_SIZE(bad));
	/* Updates validate the same way, and cannot break a tcp route. */
	snprintf(path, sizeof(path), "/api/v1/routes/%lld", (long long)route_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	snprintf(etag, sizeof(etag), "%s", rs_header("ETag"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = path, .if_match = etag,
		.body = "{\"target\":\"tcp://a:22\"}" }), 400);
	CHECK_EQ_STR(rs_field(), "tcp_listen_port");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = path, .if_match = etag,
		.body = "{\"created_at\":1}" }), 400);
	CHECK_EQ_STR(rs_field(), "created_at");
	/* A tcp route works with its port; a second one on it conflicts. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body = "{\"host\":"
		"\"ssh.test\",\"target\":\"tcp://10.0.0.2:22\",\"tcp_listen_port\":2222}" }), 201);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body = "{\"host\":"
		"\"ssh2.test\",\"target\":\"tcp://10.0.0.3:22\",\"tcp_listen_port\":2222}" }), 409);
	CHECK_EQ_STR(rs_field(), "tcp_listen_port");
	/* Without a host, two tcp routes each get one of their own, which
	 * follows the port. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body =
		"{\"target\":\"tcp://10.0.0.4:5432\",\"tcp_listen_port\":5432}" }), 201);
	CHECK_EQ_STR(rs_str("host"), "tcp:5432");
	snprintf(path, sizeof(path), "/api/v1/routes/%lld", (long long)rs_int("id"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body =
		"{\"target\":\"tcp://10.0.0.5:3306\",\"tcp_listen_port\":3306}" }), 201);
	CHECK_EQ_STR(rs_str("host"), "tcp:3306");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = path, .if_match = "*",
		.body = "{\"tcp_listen_port\":5433}" }), 200);
	CHECK_EQ_STR(rs_str("host"), "tcp:5433");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 204);
}

TEST(agents_and_join_tokens)
{
	static const struct bad bad[] = {
		{ "{}", 400, "name" },
		{ "{\"name\":\"Bad Name\"}", 400, "name" },
		{ "{\"name\":\"nas\"}", 409, "name" },
		{ "{\"name\":\"x\",\"public_key\":\"abc\"}", 400, "public_key" },
		{ "{\"name\":\"x\",\"tunnel_ipv4\":\"10.0.0.300\"}", 400, "tunnel_ipv4" },
		{ "{\"name\":\"x\",\"tunnel_ipv6\":\"10.0.0.1\"}", 400, "tunnel_ipv6" },
		{ "{\"name\":\"x\",\"status\":\"online\"}", 400, "status" },
		{ "{\"name\":\"x\",\"version\":\"1\"}", 400, "version" },
	};
	char path[96], token[128];
	int64_t tokens = count("SELECT count(*) FROM agent_join_tokens");
	int64_t audited = count("SELECT count(*) FROM audit_log WHERE action = "
				"'agent.join_token_create'");

	check_bad("/api/v1/agents", bad, ARRAY_SIZE(bad));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/agents", .body = "{\"name\":"
		"\"pi\",\"public_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
		"\"tunnel_ipv4\":\"100.96.0.2\",\"tunnel_ipv6\":\"fd7a::2\"}" }), 201);
	CHECK_EQ_STR(rs_str("status"), "pending");
	/* An agent that routes point at cannot be deleted. */
	snprintf(path, sizeof(path), "/api/v1/agents/%lld", (long long)agent_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 409);
	/* ... and the answer names the routes that use it. */
	CHECK_EQ_STR(rs_code(), "in_use");
	CHECK(strstr(rs_last.body, "(app.test/)") != NULL);
	snprintf(path, sizeof(path), "/api/v1/agents/%lld/join-tokens", (long long)agent_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path, .body = "{\"ttl\":3600}" }), 201);
	snprintf(token, sizeof(token), "%s", rs_str("token"));
	CHECK(!strncmp(token, "pj_", 3));
	CHECK(strstr(rs_str("command"), token) != NULL);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path, .body = "{\"ttl\":1}" }), 400);
	CHECK_EQ_STR(rs_field(), "ttl");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path, .body = "{\"tll\":60}" }), 400);
	CHECK_EQ_STR(rs_field(), "tll");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/agents/99999/join-tokens" }), 404);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	CHECK_EQ_INT(json_array_size(rs_get("items")), tokens + 1);
	CHECK(!strstr(rs_last.body, token));
	/* Stored hashed only; audited without the token. */
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM agent_join_tokens WHERE hash = '%s'", token);
	CHECK_EQ_INT(count(sql), 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE after_json LIKE '%%%s%%'", token);
	CHECK_EQ_INT(count(sql), 0);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = "
			   "'agent.join_token_create'"), audited + 1);
}

/* An agent's update (validated like a create) and delete; a route that
 * moves away frees the agent it pointed at. */
TEST(agent_update_and_delete)
{
	static const struct bad bad[] = {
		{ "{\"status\":\"online\"}", 400, "status" },
		{ "{\"name\":\"Bad Name\"}", 400, "name" },
		{ "{\"tunnel_ipv4\":\"fd7a::2\"}", 400, "tunnel_ipv4" },
		{ "{\"public_key\":7}", 400, "public_key" },
		{ "{\"version\":\"2\"}", 400, "version" },
		{ "{\"id\":5}", 400, "id" },
	};
	char path[64], etag[32];
	int64_t id;

	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/agents",
					    .body = "{\"name\":\"spare\"}" }), 201);
	id = rs_int("id");
	snprintf(etag, sizeof(etag), "%s", rs_header("ETag"));
	snprintf(path, sizeof(path), "/api/v1/agents/%lld", (long long)id);
	check_bad_as("PATCH", path, etag, bad, ARRAY_SIZE(bad));
	published = published_what = 0;
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = path, .if_match = etag,
		.body = "{\"status\":\"disabled\",\"tunnel_ipv4\":\"100.96.0.9\"}" }), 200);
	CHECK_EQ_STR(rs_str("status"), "disabled");
	CHECK_EQ_STR(rs_str("tunnel_ipv4"), "100.96.0.9");
	CHECK_EQ_STR(rs_str("name"), "spare");
	CHECK(published_what & API_CHANGED_AGENTS);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/agents" }), 200);
	CHECK(json_array_size(rs_get("items")) >= 3);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 204);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 404);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = 'agent.delete'"
			   " AND before_json LIKE '%\"name\":\"spare\"%'"), 1);
}

/* A route update is validated as strictly as a create. */
TEST(route_update_validation_names_the_field)
{
	static const struct bad bad[] = {
		{ "{\"host\":\"Bad Host\"}", 400, "host" },
		{ "{\"target\":\"gopher://a:1\"}", 400, "target" },
		{ "{\"path_prefix\":\"/a/../b\"}", 400, "path_prefix" },
		{ "{\"hsts_max_age\":63072001}", 400, "hsts_max_age" },
		{ "{\"policy\":\"{\\\"access\\\":{\\\"allow\\\":[\\\"10.0.0.0/33\\\"]}}\"}", 400, "policy" },
		{ "{\"agent_id\":99999}", 400, "agent_id" },
		{ "{\"created_at\":1}", 400, "created_at" },
		{ "{\"wat\":1}", 400, "wat" },
	};
	char path[64], etag[32];

	snprintf(path, sizeof(path), "/api/v1/routes/%lld", (long long)route_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	snprintf(etag, sizeof(etag), "%s", rs_header("ETag"));
	check_bad_as("PATCH", path, etag, bad, ARRAY_SIZE(bad));
	/* Nothing changed. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	CHECK_EQ_STR(rs_header("ETag"), etag);
	CHECK_EQ_STR(rs_str("host"), "app.test");
}

TEST(certificates_keep_the_key_sealed)
{
	char cert[8192], key[4096], other[4096], body[16384], path[64];
	uint8_t *val = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "/api/v1/certificates/%lld", (long long)cert_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	CHECK_EQ_STR(json_string_value(json_array_get(rs_get("names"), 1)), "b.test");
	CHECK_EQ_STR(rs_str("serial"), "1092");	/* 4242 in hex */
	CHECK_EQ_INT(strlen(rs_str("fingerprint")), 64);
	CHECK(rs_int("not_after") > rs_int("not_before"));
	CHECK(rs_get("key_pem") == NULL);
	CHECK(!strstr(rs_last.body, "PRIVATE KEY"));
	CHECK_EQ_INT(secret_get(api_store(api), api_keys(api), "certificate", cert_id,
				"key", &val, &len), 0);
	CHECK(val && strstr((char *)val, "PRIVATE KEY"));
	free(val);
	/* GLOB: case-sensitive (LIKE would match a webhook's "allow_private"). */
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE after_json GLOB "
			   "'*PRIVATE*' OR after_json GLOB '*BEGIN CERT*'"), 0);
	make_cert(cert, sizeof(cert), key, sizeof(key));
	make_cert(body, sizeof(body), other, sizeof(other));
	snprintf(body, sizeof(body), "{\"name\":\"x\",\"cert_pem\":%s,\"key_pem\":%s}",
		 jstr(cert), jstr(other));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/certificates", .body = body }), 400);
	CHECK_EQ_STR(rs_field(), "key_pem");
	snprintf(body, sizeof(body), "{\"name\":\"x\",\"cert_pem\":\"junk\",\"key_pem\":%s}",
		 jstr(key));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/certificates", .body = body }), 400);
	CHECK_EQ_STR(rs_field(), "cert_pem");
	snprintf(body, sizeof(body), "{\"name\":\"x\",\"cert_pem\":%s}", jstr(cert));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/certificates", .body = body }), 400);
	CHECK_EQ_STR(rs_field(), "key_pem");
	snprintf(body, sizeof(body), "{\"name\":\"x\",\"cert_pem\":%s,\"key_pem\":%s,"
		 "\"issuer\":\"me\"}", jstr(cert), jstr(key));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/certificates", .body = body }), 400);
	CHECK_EQ_STR(rs_field(), "issuer");
	/* Replacing needs both halves. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	char etag[32];
	snprintf(etag, sizeof(etag), "%s", rs_header("ETag"));
	snprintf(body, sizeof(body), "{\"cert_pem\":%s}", jstr(cert));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = path, .body = body, .if_match = etag }), 400);
	CHECK_EQ_STR(rs_field(), "key_pem");
	snprintf(body, sizeof(body), "{\"cert_pem\":%s,\"key_pem\":%s}", jstr(cert), jstr(key));
	published_what = 0;
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = path, .body = body, .if_match = etag }), 200);
	CHECK(published_what & API_CHANGED_CERTS);
	/* A deleted certificate takes its sealed key with it. */
	snprintf(body, sizeof(body), "{\"name\":\"gone\",\"cert_pem\":%s,\"key_pem\":%s}",
		 jstr(cert), jstr(key));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/certificates", .body = body }), 201);
	snprintf(path, sizeof(path), "/api/v1/certificates/%lld", (long long)rs_int("id"));
	CHECK_EQ_INT(count("SELECT count(*) FROM secrets WHERE owner = 'certificate'"), 2);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/certificates" }), 200);
	CHECK_EQ_INT(json_array_size(rs_get("items")), 2);
	CHECK(!strstr(rs_last.body, "PRIVATE KEY"));
	published_what = 0;
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 204);
	CHECK(published_what & API_CHANGED_CERTS);
	CHECK_EQ_INT(count("SELECT count(*) FROM secrets WHERE owner = 'certificate'"), 1);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 404);
}

TEST(users_and_the_last_admin)
{
	static const struct bad bad[] = {
		{ "{\"name\":\"bob\",\"role\":\"root\"}", 400, "role" },
		{ "{\"name\":\"Bob\",\"role\":\"viewer\"}", 400, "name" },
		{ "{\"role\":\"viewer\"}", 400, "name" },
		{ "{\"name\":\"bob\",\"role\":\"viewer\",\"password\":\"short\"}", 400, "password" },
		{ "{\"name\":\"bob\",\"role\":\"viewer\",\"password_hash\":\"x\"}", 400,
		  "password_hash" },
		{ "{\"name\":\"admin\",\"role\":\"viewer\"}", 409, "name" },
	};
	char etag[32];

	check_bad("/api/v1/users", bad, ARRAY_SIZE(bad));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/users/1" }), 200);
	CHECK(json_is_true(rs_get("has_password")));
	CHECK(rs_get("password_hash") == NULL);
	CHECK(!strstr(rs_last.body, "argon2"));
	snprintf(etag, sizeof(etag), "%s", rs_header("ETag"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = "/api/v1/users/1", .if_match = etag,
					    .body = "{\"role\":\"viewer\"}" }), 409);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = "/api/v1/users/1", .if_match = etag,
					    .body = "{\"disabled\":true}" }), 409);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = "/api/v1/users/1" }), 409);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = "/api/v1/users/1", .if_match = etag,
					    .body = "{\"name\":\"root\"}" }), 400);
	CHECK_EQ_STR(rs_field(), "name");
	CHECK_EQ_INT(count("SELECT count(*) FROM users WHERE password_hash LIKE '$argon2id$%'"), 2);
	/* A user that can go: listed without hashes, then deleted with its
	 * sessions and tokens. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/users", .body =
		"{\"name\":\"temp\",\"role\":\"viewer\",\"password\":\"temporary password\"}" }), 201);
	char path[64], cookie[128], tok[128];
	int64_t id = rs_int("id");
	snprintf(path, sizeof(path), "/api/v1/users/%lld", (long long)id);
	CHECK_EQ_INT(login("temp", "temporary password", cookie, NULL), 201);
	mktoken("read", id, tok);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/users" }), 200);
	CHECK_EQ_INT(json_array_size(rs_get("items")), 3);
	CHECK(!strstr(rs_last.body, "argon2") && !strstr(rs_last.body, "password_hash"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 204);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .via = VIA_HTTPS,
					    .cookie = cookie }), 401);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .via = VIA_HTTPS,
					    .auth = tok, .ip = "203.0.113.60" }), 401);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 404);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE after_json LIKE '%argon%'"
			   " OR after_json LIKE '%correct horse%' OR before_json LIKE"
			   " '%argon%' OR after_json LIKE '%operator password%'"), 0);
}

TEST(tokens_are_shown_once_and_revocable)
{
	static const struct bad bad[] = {
		{ "{\"name\":\"x\",\"scope\":\"admin\"}", 400, "scope" },
		{ "{\"name\":\"x\",\"scope\":\"read\",\"expires_in\":5}", 400, "expires_in" },
		{ "{\"name\":\"x\",\"scope\":\"read\",\"user_id\":999}", 400, "user_id" },
	};
	char path[64], bearer[128], sql[256];
	const char *tok;
	int64_t id;

	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/tokens", .body =
		"{\"name\":\"ci\",\"scope\":\"write\",\"expires_in\":3600}" }), 201);
	tok = rs_str("token");
	CHECK(!strncmp(tok, "pt_", 3));
	CHECK_EQ_INT(strlen(tok), 46);
	snprintf(bearer, sizeof(bearer), "Bearer %s", tok);
	id = rs_int("id");
	CHECK(rs_int("expires_at") > 0);
	CHECK_EQ_INT(rs_int("user_id"), 1);	/* the control socket's default */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM api_tokens WHERE hash = '%s'",
		 bearer + 7);
	CHECK_EQ_INT(count(sql), 0);
	snprintf(path, sizeof(path), "/api/v1/tokens/%lld", (long long)id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	CHECK(rs_get("token") == NULL && rs_get("hash") == NULL);
	CHECK(!strncmp(rs_str("hint"), "pt_", 3));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/tokens" }), 200);
	CHECK(json_array_size(rs_get("items")) >= 4);
	CHECK(!strstr(rs_last.body, bearer + 10) && !strstr(rs_last.body, "\"hash\""));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/session", .via = VIA_HTTPS,
					    .auth = bearer }), 200);
	CHECK_EQ_STR(rs_str("kind"), "token");
	CHECK_EQ_STR(rs_str("perm"), "admin");
	/* Token use is recorded (once a minute at most). */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .via = VIA_HTTPS,
					    .auth = bearer }), 200);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE action = 'token.use'"
		 " AND object = 'token:%lld'", (long long)id);
	CHECK_EQ_INT(count(sql), 1);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 204);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .via = VIA_HTTPS,
					    .auth = bearer, .ip = "203.0.113.50" }), 401);
	check_bad("/api/v1/tokens", bad, ARRAY_SIZE(bad));
	/* An expired token is refused. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/tokens", .body =
		"{\"name\":\"old\",\"scope\":\"read\",\"expires_in\":60}" }), 201);
	snprintf(bearer, sizeof(bearer), "Bearer %s", rs_str("token"));
	snprintf(sql, sizeof(sql), "UPDATE api_tokens SET expires_at = 1 WHERE id = %lld",
		 (long long)rs_int("id"));
	CHECK_EQ_INT(store_exec(api_store(api), sql, NULL, 0), 0);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .via = VIA_HTTPS,
					    .auth = bearer, .ip = "203.0.113.51" }), 401);
}

/* Route tokens and share links: shown once (a token, a URL), stored
 * hashed, listed with their creator, revocable; validation names the
 * field; no secret in the audit log. */
TEST(route_tokens_and_share_links)
{
	char path[64], body[160], sql[256], secret[128];

	snprintf(body, sizeof(body), "{\"name\":\"phone\",\"route_id\":%lld}",
		 (long long)route_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/route-tokens",
					    .body = body }), 201);
	snprintf(secret, sizeof(secret), "%s", rs_str("token"));
	CHECK(!strncmp(secret, "prt_", 4) && strlen(secret) == 47);
	CHECK(rs_get("hash") == NULL && rs_str("created_by")[0]);
	snprintf(path, sizeof(path), "/api/v1/route-tokens/%lld", (long long)rs_int("id"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	CHECK(rs_get("token") == NULL && !strncmp(rs_str("hint"), "prt_", 4));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/route-tokens" }), 200);
	CHECK(!strstr(rs_last.body, secret) && !strstr(rs_last.body, "\"hash\""));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE after_json LIKE '%%%s%%'",
		 secret + 12);
	CHECK_EQ_INT(count(sql), 0);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 204);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = 'route_token.delete'"), 1);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/route-tokens",
					    .body = "{\"name\":\"x\",\"route_id\":99999}" }), 400);
	CHECK_EQ_STR(rs_field(), "route_id");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/route-tokens",
					    .body = "{\"name\":\"Bad Name\",\"route_id\":1}" }), 400);
	CHECK_EQ_STR(rs_field(), "name");

	snprintf(body, sizeof(body), "{\"name\":\"guest\",\"route_id\":%lld,"
		 "\"expires_in\":3600,\"max_uses\":2}", (long long)route_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/share-links",
					    .body = body }), 201);
	snprintf(secret, sizeof(secret), "%s", rs_str("url"));
	CHECK(strstr(secret, "/.postern/share?k=psl_") != NULL);
	CHECK(rs_int("expires_at") > 0 && rs_int("uses") == 0 && rs_int("max_uses") == 2);
	CHECK(rs_get("nonce") == NULL && rs_get("hash") == NULL);
	snprintf(path, sizeof(path), "/api/v1/share-links/%lld", (long long)rs_int("id"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	CHECK(rs_get("url") == NULL);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/share-links" }), 200);
	CHECK(!strstr(rs_last.body, strstr(secret, "psl_")));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 204);
	snprintf(body, sizeof(body), "{\"name\":\"g\",\"route_id\":%lld,\"expires_in\":5}",
		 (long long)route_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/share-links",
					    .body = body }), 400);
	CHECK_EQ_STR(rs_field(), "expires_in");
}

TEST(sessions_login_logout_and_throttling)
{
	char cookie[128], csrf[128], body[128];
	const char *sc;
	int64_t delayed = count("SELECT count(*) FROM audit_log WHERE action = 'auth.delayed'");
	int64_t logins = count("SELECT count(*) FROM audit_log WHERE action = 'session.login'"
			       " AND actor = 'user:admin'");

	CHECK_EQ_INT(login("admin", "correct horse battery", cookie, csrf), 201);
	sc = rs_header("Set-Cookie");
	CHECK(sc && strstr(sc, "HttpOnly") && strstr(sc, "Secure") &&
	      strstr(sc, "SameSite=Strict") && strstr(sc, "Path=/"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/session", .via = VIA_HTTPS,
					    .cookie = cookie }), 200);
	CHECK_EQ_STR(rs_str("csrf_token"), csrf);
	CHECK_EQ_STR(rs_str("actor"), "user:admin");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = "/api/v1/session", .via = VIA_HTTPS,
		.cookie = cookie, .csrf = csrf, .origin = ORIGIN }), 204);
	CHECK(strstr(rs_header("Set-Cookie"), "Max-Age=0") != NULL);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/session", .via = VIA_HTTPS,
					    .cookie = cookie }), 401);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = "/api/v1/session" }), 400);
	/* Login validation. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/session", .via = VIA_HTTPS,
		.body = "{\"password\":\"x\"}" }), 400);
	CHECK_EQ_STR(rs_field(), "username");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/session", .via = VIA_HTTPS,
		.body = "{\"username\":\"admin\"}" }), 400);
	CHECK_EQ_STR(rs_field(), "password");
	/* Wrong passwords: 401, audited; five are free, then delays grow. */
	api->clock_ms = fake_ms;
	fake_now = 1000000;
	for (int i = 0; i < 5; i++) {
		snprintf(body, sizeof(body), "guess %d", i);
		CHECK_EQ_INT(login_from("198.51.100.7", "op", body), 401);
		CHECK_EQ_STR(rs_code(), "invalid_credentials");
		CHECK(rs_header("Retry-After") == NULL);
	}
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = "
			   "'session.login_failed' AND object = 'user:op'"), 5);
	/* The sixth failure starts the delays (audited once per key: the
	 * address and the account from that address), 1 s, then 2 s. */
	CHECK_EQ_INT(login_from("198.51.100.7", "op", "guess 5"), 401);
	CHECK_EQ_STR(rs_header("Retry-After"), "1");
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = 'auth.delayed'"),
		     delayed + 2);
	/* Even the right password waits, from that address, without a
	 * password check, and the refusal does not count... */
	CHECK_EQ_INT(login_from("198.51.100.7", "admin", "correct horse battery"), 429);
	CHECK_EQ_STR(rs_header("Retry-After"), "1");
	fake_now += 1000;
	CHECK_EQ_INT(login_from("198.51.100.7", "op", "guess 6"), 401);
	CHECK_EQ_STR(rs_header("Retry-After"), "2");
	fake_now += 1500;
	CHECK_EQ_INT(login_from("198.51.100.7", "op", "operator password"), 429);
	CHECK_EQ_STR(rs_header("Retry-After"), "1");
	/* ...but the same user from another address is not delayed at all. */
	CHECK_EQ_INT(login_from("198.51.100.8", "op", "operator password"), 201);
	CHECK_EQ_INT(login_from("198.51.100.8", "admin", "correct horse battery"), 201);
	/* Once the delay ran out, the guessing address may log in too. */
	fake_now += 500;
	CHECK_EQ_INT(login_from("198.51.100.7", "op", "operator password"), 201);
	/* An IPv6 client is one /64: another address in it waits too. */
	for (int i = 0; i < 6; i++)
		CHECK_EQ_INT(login_from(i & 1 ? "2001:db8:7:1::1" : "2001:db8:7:1::2", "nobody", "x"),
			     401);
	CHECK_EQ_INT(login_from("2001:db8:7:1:ffff::9", "op", "operator password"), 429);
	CHECK_EQ_INT(login_from("2001:db8:7:2::9", "op", "operator password"), 201);
	api->clock_ms = NULL;
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = 'session.login'"
			   " AND actor = 'user:admin'"), logins + 2);
}

TEST(bad_tokens_never_refuse_a_valid_one)
{
	char bearer[160];

	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/tokens", .body =
		"{\"name\":\"ci\",\"scope\":\"read\"}" }), 201);
	snprintf(bearer, sizeof(bearer), "Bearer %s", rs_str("token"));
	api->clock_ms = fake_ms;
	fake_now = 5000000;
	/* Bad tokens from one address: 401 (free ones), then 401 with a
	 * growing Retry-After, then 429 while it waits... */
	for (int i = 0; i < 6; i++)
		CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes",
			.via = VIA_HTTPS, .auth = "Bearer pt_nope", .ip = "198.51.100.40" }), 401);
	CHECK_EQ_STR(rs_header("Retry-After"), "1");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes",
		.via = VIA_HTTPS, .auth = "Bearer pt_nope", .ip = "198.51.100.40" }), 429);
	/* ...while a valid token from that very address is served. */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes",
		.via = VIA_HTTPS, .auth = bearer, .ip = "198.51.100.40" }), 200);
	/* Bad tokens do not slow down password logins from there either. */
	CHECK_EQ_INT(login_from("198.51.100.40", "op", "operator password"), 201);
	api->clock_ms = NULL;
}

TEST(settings)
{
	char etag[32];

	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/settings" }), 200);
	CHECK(json_array_size(rs_get("items")) >= 8);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/settings/no.such" }), 404);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/settings/audit.checkpoint_entries" }), 200);
	CHECK_EQ_INT(rs_int("value"), 16);
	snprintf(etag, sizeof(etag), "%s", rs_header("ETag"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/settings/audit.checkpoint_entries",
		.if_match = etag, .body = "{\"value\":0}" }), 400);
	CHECK_EQ_STR(rs_field(), "value");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/settings/audit.checkpoint_entries",
		.if_match = etag, .body = "{\"value\":\"4\"}" }), 400);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/settings/audit.checkpoint_entries",
		.if_match = etag, .body = "{}" }), 400);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/settings/audit.checkpoint_entries",
		.if_match = etag, .body = "{\"value\":4,\"x\":1}" }), 400);
	CHECK_EQ_STR(rs_field(), "x");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/settings/audit.checkpoint_entries",
		.if_match = etag, .body = "{\"value\":4}" }), 200);
	CHECK_EQ_INT(rs_int("value"), 4);
	CHECK_EQ_U64(((struct api *)api)->audit.every_entries, 4);
	snprintf(etag, sizeof(etag), "%s", rs_header("ETag"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/settings/audit.checkpoint_entries",
		.if_match = etag, .body = "{\"value\":null}" }), 200);
	CHECK_EQ_INT(rs_int("value"), 16);
	CHECK_EQ_STR(rs_header("ETag"), "\"0\"");
	/* A secret setting: sealed, never shown, audited as "(secret)". */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/settings/acme.dns_api_token",
		.if_match = "\"0\"", .body = "{\"value\":\"cf-SECRET-123\"}" }), 200);
	CHECK(json_is_true(rs_get("set")));
	CHECK(!strstr(rs_last.body, "cf-SECRET"));
	CHECK_EQ_INT(count("SELECT count(*) FROM settings WHERE value LIKE '%cf-SECRET%'"), 0);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE after_json LIKE '%cf-SECRET%'"), 0);
	CHECK_EQ_INT(count("SELECT count(*) FROM secrets WHERE owner = 'setting'"), 1);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/settings/hub.public_url",
		.if_match = "\"0\"", .body = "{\"value\":\"http://x\"}" }), 400);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/settings/hub.public_url",
		.if_match = "\"0\"", .body = "{\"value\":\"https://hub.example.com\"}" }), 200);
}

/* The settings test left hub.public_url = https://hub.example.com: that is
 * the origin now, and the setup/join links follow it. */
TEST(origin_follows_the_public_url_setting)
{
	const char *route = "{\"host\":\"origin.test\",\"target\":\"http://a:1\"}";
	char etag[32];

	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes",
		.via = VIA_HTTPS, .cookie = admin_cookie, .csrf = admin_csrf,
		.origin = ORIGIN, .body = route }), 403);
	CHECK_EQ_STR(rs_code(), "csrf");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes",
		.via = VIA_HTTPS, .cookie = admin_cookie, .csrf = admin_csrf,
		.origin = "https://hub.example.com", .body = route }), 201);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/users/2/setup-link" }), 201);
	CHECK(!strncmp(rs_str("link"), "https://hub.example.com/setup#token=", 36));
	/* No route captures the hub's own name (its admin API and portal). */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes",
		.body = "{\"host\":\"HUB.example.com\",\"target\":\"http://a:1\"}" }), 400);
	CHECK_EQ_STR(rs_field(), "host");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/settings/hub.public_url" }), 200);
	snprintf(etag, sizeof(etag), "%s", rs_header("ETag"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/settings/hub.public_url",
		.if_match = etag, .body = "{\"value\":null}" }), 200);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes",
		.via = VIA_HTTPS, .cookie = admin_cookie, .csrf = admin_csrf, .origin = ORIGIN,
		.body = "{\"host\":\"origin2.test\",\"target\":\"http://a:1\"}" }), 201);
}

TEST(bounded_json)
{
	char deep[64], *big;

	snprintf(deep, sizeof(deep), "{\"a\":[[[[[[[[1]]]]]]]]}");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body = deep }), 400);
	CHECK_EQ_STR(rs_code(), "invalid_json");
	CHECK(strstr(rs_last.body, "deeper") != NULL);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes",
		.body = "{\"host\":\"a\",\"host\":\"b\"}" }), 400);
	CHECK_EQ_STR(rs_code(), "invalid_json");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body = "[1]" }), 400);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes",
		.body = "{\"host\":\"a.test\",\"target\":\"http://a\\u0000:1\"}" }), 400);
	CHECK_EQ_STR(rs_code(), "invalid_json");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body = "{" }), 400);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body = "{}",
					    .ctype = "text/plain" }), 415);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body = "{}",
		.ctype = "application/json; charset=utf-8" }), 400);
	CHECK_EQ_STR(rs_field(), "target");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/routes", .body = "{}" }), 400);
	big = malloc(API_JSON_MAX + 16);
	memset(big, ' ', API_JSON_MAX + 15);
	big[0] = '{';
	big[API_JSON_MAX + 14] = '}';
	big[API_JSON_MAX + 15] = 0;
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body = big }), 413);
	free(big);
	CHECK_EQ_INT(api_json_depth((const uint8_t *)"{\"[[[\":1}", 9), 1);
	CHECK_EQ_INT(api_json_depth((const uint8_t *)"{\"\\\"[\":1}", 10), 1);
	CHECK_EQ_INT(api_json_depth((const uint8_t *)"]", 1), -1);
}

TEST(audit_endpoints_and_rotation)
{
	char sql[128];
	uint8_t *val = NULL;
	size_t len;
	int64_t n = count("SELECT count(*) FROM audit_log");

	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/audit", .query = "limit=5" }), 200);
	CHECK_EQ_INT(json_array_size(rs_get("items")), 5);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(rs_get("items"), 0),
						    "seq")), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(rs_get("items"), 0),
						       "action")), "user.create");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/audit/verify" }), 200);
	CHECK(json_is_true(rs_get("ok")));
	CHECK_EQ_INT(rs_int("entries"), n);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/secrets/rotate-key" }), 200);
	CHECK_EQ_INT(rs_int("resealed"), 3);	/* a certificate key, a setting,
						 * a webhook secret */
	CHECK_EQ_INT(secret_get(api_store(api), api_keys(api), "certificate", cert_id,
				"key", &val, &len), 0);
	free(val);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = "
			   "'secrets.rotate_key'"), 1);
	/* Tampering shows through the API. */
	CHECK_EQ_INT(store_exec(api_store(api), "DROP TRIGGER audit_log_no_update", NULL, 0), 0);
	snprintf(sql, sizeof(sql), "UPDATE audit_log SET actor = 'x' WHERE seq = 3");
	CHECK_EQ_INT(store_exec(api_store(api), sql, NULL, 0), 0);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/audit/verify" }), 200);
	CHECK(json_is_false(rs_get("ok")));
	CHECK_EQ_INT(rs_int("bad_seq"), 3);
}

/* An agentless node (kind "wireguard") gets its keys and a wg-quick file
 * once the hub's WireGuard facts are set; the private key is in the
 * answer only, never in the store or the audit log. */
TEST(agentless_node_gets_a_wg_quick_file)
{
	static const char *const facts[][2] = {
		{ "wireguard.public_key", "\"ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICA=\"" },
		{ "wireguard.endpoint", "\"hub.test:51820\"" },
	};
	char path[96], body[160], etag[64], priv[64];
	const char *p;

	for (size_t i = 0; i < ARRAY_SIZE(facts); i++) {
		snprintf(path, sizeof(path), "/api/v1/settings/%s", facts[i][0]);
		snprintf(body, sizeof(body), "{\"value\":%s}", facts[i][1]);
		CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
		snprintf(etag, sizeof(etag), "%.60s", rs_header("ETag"));
		CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = path, .body = body,
						    .if_match = etag }), 200);
	}
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/agents",
		.body = "{\"name\":\"router\",\"kind\":\"wireguard\"}" }), 201);
	snprintf(path, sizeof(path), "/api/v1/agents/%lld/wireguard-config", (long long)rs_int("id"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path }), 201);
	p = strstr(rs_str("config"), "PrivateKey = ");
	CHECK(p != NULL && strstr(rs_str("config"), "Endpoint = hub.test:51820"));
	snprintf(priv, sizeof(priv), "%.44s", p ? p + 13 : "");
	CHECK_EQ_INT(strlen(priv), 44);
	snprintf(body, sizeof(body), "SELECT count(*) FROM audit_log WHERE after_json LIKE '%%%s%%'",
		 priv);
	CHECK_EQ_INT(count(body), 0);
	snprintf(body, sizeof(body), "SELECT count(*) FROM agents WHERE public_key = '%s'", priv);
	CHECK_EQ_INT(count(body), 0);
	/* A Postern agent enrolls with a join token instead. */
	snprintf(path, sizeof(path), "/api/v1/agents/%lld/wireguard-config", (long long)agent_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path }), 409);
	CHECK_EQ_STR(rs_field(), "kind");
}

/* Runs last: every endpoint of the table (but the agents' own, which
 * test_api_agent.c drives) answered a 2xx somewhere above, every one that
 * takes a body refused a bad one naming the field, and no unsafe request
 * succeeded without writing an audit entry. A new endpoint without those
 * tests (or without its audit entry) fails here. */
/* Webhooks: the secret is shown once and sealed; the outbox row commits
 * with its audit entry (and not without it); rotation keeps the old
 * secret as the previous one; deliveries and redelivery. */
TEST(webhooks_secret_outbox_rotation)
{
	static const struct bad bad[] = {
		{ "{\"name\":\"n\",\"url\":\"https://ntfy.example/\",\"format\":\"ntfy\"}",
		  400, "url" },
		{ "{\"name\":\"n\",\"url\":\"https://a.example/\",\"format\":\"xml\"}",
		  400, "format" },
		{ "{\"name\":\"n\",\"url\":\"ftp://a.example/\"}", 400, "url" },
	};
	char path[96], sec[64], sql[256];
	int64_t id, before;

	check_bad("/api/v1/webhooks", bad, ARRAY_SIZE(bad));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/webhooks", .body =
		"{\"name\":\"alerts\",\"url\":\"https://a.example/h\",\"events\":\"agent.* auth.delayed\"}" }), 201);
	id = rs_int("id");
	snprintf(sec, sizeof(sec), "%s", rs_str("secret"));
	CHECK(!strncmp(sec, "whsec_", 6) && strlen(sec) == 50);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM secrets WHERE owner = 'webhook'"
		 " AND owner_id = %lld AND name = 'secret'", (long long)id);
	CHECK_EQ_INT(count(sql), 1);
	snprintf(path, sizeof(path), "/api/v1/webhooks/%lld", (long long)id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	CHECK(rs_get("secret") == NULL && !strstr(rs_last.body, sec + 6));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/webhooks" }), 200);
	CHECK(json_array_size(rs_get("items")) == 2 && !strstr(rs_last.body, sec + 6));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = path, .if_match = "*",
					    .body = "{\"events\":\"agent.**\"}" }), 400);
	CHECK_EQ_STR(rs_field(), "events");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PATCH", .path = path, .if_match = "*",
					    .body = "{\"events\":\"route.create\"}" }), 200);
	/* A route change queues one row for each webhook that wants it, in
	 * its transaction; a refused change queues nothing. */
	before = count("SELECT count(*) FROM webhook_outbox");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body =
		"{\"host\":\"hooked.test\",\"target\":\"http://192.168.1.10:80\"}" }), 201);
	CHECK_EQ_INT(count("SELECT count(*) FROM webhook_outbox"), before + 2);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/routes", .body =
		"{\"host\":\"hooked.test\",\"target\":\"http://192.168.1.10:80\"}" }), 409);
	CHECK_EQ_INT(count("SELECT count(*) FROM webhook_outbox"), before + 2);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM webhook_outbox o JOIN audit_log a"
		 " ON a.seq = o.seq WHERE a.action = 'route.create' AND o.webhook_id = %lld",
		 (long long)id);
	CHECK_EQ_INT(count(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM secrets WHERE owner = 'webhook'"
		 " AND owner_id = %lld AND name = 'secret'", (long long)id);
	/* Rotation: the old secret becomes the previous one. */
	snprintf(path, sizeof(path), "/api/v1/webhooks/%lld/rotate-secret", (long long)id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path,
					    .body = "{\"overlap\":-1}" }), 400);
	CHECK_EQ_STR(rs_field(), "overlap");
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path,
					    .body = "{\"overlap\":60}" }), 200);
	CHECK(strcmp(rs_str("secret"), sec) && !strncmp(rs_str("secret"), "whsec_", 6));
	CHECK(rs_int("prev_secret_until") > store_now_ms());
	uint8_t *prev = NULL;
	size_t plen = 0;
	CHECK_EQ_INT(secret_get(api_store(api), api_keys(api), "webhook", id, "secret_prev",
				&prev, &plen), 0);
	CHECK(prev && plen == strlen(sec) && !memcmp(prev, sec, plen));
	if (prev)
		secure_free(prev, plen + 1);
	/* Deliveries, redelivery. */
	snprintf(path, sizeof(path), "/api/v1/webhooks/%lld/deliveries", (long long)id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	CHECK_EQ_INT(json_array_size(rs_get("items")), 1);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST",
					    .path = "/api/v1/webhook-deliveries/999999/redeliver" }), 404);
	snprintf(path, sizeof(path), "/api/v1/webhook-deliveries/%lld/redeliver",
		 (long long)delivery_id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path }), 202);
	snprintf(path, sizeof(path), "/api/v1/webhooks/%lld", (long long)id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 204);
	CHECK_EQ_INT(count(sql), 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM webhook_outbox WHERE webhook_id = %lld",
		 (long long)id);
	CHECK_EQ_INT(count(sql), 0);
}

/* The identity assertion's key: rotated by an admin (audited), the
 * previous public key kept for the JWKS, the seed only sealed. */
TEST(assertion_key_rotation)
{
	char kid1[64];
	uint8_t *val = NULL;
	size_t len = 0;

	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/login/assertion-key" }), 201);
	snprintf(kid1, sizeof(kid1), "%s", json_string_value(rs_get("kid")));
	CHECK_EQ_INT((int)strlen(kid1), 43);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/login/assertion-key" }), 201);
	CHECK(strcmp(json_string_value(rs_get("kid")), kid1) != 0);
	CHECK_EQ_INT(secret_get(api_store(api), api_keys(api), "login", 0, "assert_prev", &val,
				&len), 0);
	CHECK_EQ_INT((int)len, 32);
	secure_free(val, len + 1);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = "
			   "'login.assert_key_rotated'"), 2);
}

/* An admin lists a user's passkeys and removes one (audited). */
TEST(passkeys_listed_and_removed)
{
	char path[64];
	int64_t other = count("SELECT max(id) FROM passkeys");

	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/users/1/passkeys" }), 200);
	snprintf(path, sizeof(path), "/api/v1/passkeys/%lld", (long long)other);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 204);
	CHECK_EQ_INT(count("SELECT count(*) FROM passkeys"), 1);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path }), 404);
}

TEST(every_endpoint_has_a_happy_path_and_a_named_validation_error)
{
	CHECK(api_endpoints_count <= ARRAY_SIZE(seen));
	for (size_t i = 0; i < api_endpoints_count && i < ARRAY_SIZE(seen); i++) {
		const struct api_endpoint *e = &api_endpoints[i];
		if (e->perm == API_PERM_NONE && strcmp(e->pattern, "/api/v1/session") &&
		    strcmp(e->pattern, "/api/v1/setup"))
			continue;
		if (!(seen[i] & SEEN_OK))
			UNIT_FAIL("%s %s: no happy path tested", e->method, e->pattern);
		if ((e->flags & API_EP_BODY) && !(seen[i] & SEEN_INVALID))
			UNIT_FAIL("%s %s: no validation error tested", e->method, e->pattern);
		if (seen[i] & SEEN_UNAUDITED)
			UNIT_FAIL("%s %s: succeeded without an audit entry", e->method, e->pattern);
	}
}


/* ---- ACME: request, renew, revoke, import, DNS providers (api_acme.c,
 * api_dns.c, api_acme_store.c) with a stand-in for the hub's manager ---- */

static char acme_renewed[64], acme_revoked[64];
static int acme_reason = -1;

static int fake_renew(void *ctx, const char *name)
{
	(void)ctx;
	snprintf(acme_renewed, sizeof(acme_renewed), "%s", name);
	return 0;
}

static int fake_revoke(void *ctx, const char *name, const char *pem, int reason)
{
	(void)ctx;
	if (strstr(pem, "BEGIN CERTIFICATE"))
		snprintf(acme_revoked, sizeof(acme_revoked), "%s", name);
	acme_reason = reason;
	return 0;
}

static const char *path_of(int64_t id)
{
	static char p[64];

	snprintf(p, sizeof(p), "/api/v1/certificates/%lld", (long long)id);
	return p;
}

static const struct api_acme_ops fake_acme = {
	.renew = fake_renew, .revoke = fake_revoke, .challenges = "http-01",
	.dns_provider = "", .ctx = NULL,
};

TEST(acme_request_renew_revoke)
{
	static const struct bad bad[] = {
		{ "{}", 400, "names" },
		{ "{\"names\":[\"Up.test\"]}", 400, "names" },
		{ "{\"names\":[\"*.w.test\"]}", 400, "challenge" },
		{ "{\"names\":[\"a.test\"],\"challenge\":\"dns-01\"}", 400, "dns_provider" },
		{ "{\"names\":[\"a.test\"],\"key_type\":\"dsa\"}", 400, "key_type" },
		{ "{\"names\":[\"a.test\"],\"name\":\"No\"}", 400, "name" },
	};
	char cert[8192], key[4096], err[128], path[96], body[16384];
	int64_t id, imp;
	struct acme_records rec;

	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/certificates/request",
					    .body = "{\"names\":[\"req.test\"]}" }), 409);
	CHECK_EQ_STR(rs_code(), "acme_disabled");
	api_set_acme(api, &fake_acme);
	check_bad("/api/v1/certificates/request", bad, ARRAY_SIZE(bad));
	published_what = 0;
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/certificates/request",
		.body = "{\"names\":[\"req.test\",\"www.req.test\"],\"key_type\":\"rsa2048\"}" }), 202);
	id = rs_int("id");
	CHECK_EQ_STR(rs_str("name"), "req-test");
	CHECK_EQ_STR(rs_str("status"), "pending");
	CHECK_EQ_STR(rs_str("source"), "self-signed");
	CHECK_EQ_STR(json_string_value(json_object_get(rs_get("acme"), "key_type")), "rsa2048");
	CHECK(published_what & API_CHANGED_CERTS);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/certificates/request",
					    .body = "{\"names\":[\"req.test\"]}" }), 409);
	CHECK_EQ_STR(rs_field(), "name");
	/* The manager stores the CA's certificate: revocable from then on. */
	snprintf(path, sizeof(path), "/api/v1/certificates/%lld/revoke", (long long)id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path, .body = "{}" }), 409);
	make_cert(cert, sizeof(cert), key, sizeof(key));
	rec = api_acme_records(api);
	CHECK_EQ_INT(acme_records_cert_save(&rec, "req-test", &(struct store_cert_acme){ NULL, "rsa2048",
				       NULL }, cert, key, "issued", err, sizeof(err)), 0);
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = 'certificate.issued'"
			   " AND actor = 'system'"), 1);
	static const struct bad bad_reason[] = {
		{ "{\"reason\":7}", 400, "reason" },
		{ "{\"reason\":\"x\"}", 400, "reason" },
		{ "{\"why\":1}", 400, "why" },
	};
	check_bad(path, bad_reason, ARRAY_SIZE(bad_reason));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path,
					    .body = "{\"reason\":4}" }), 202);
	CHECK_EQ_STR(acme_revoked, "req-test");
	CHECK_EQ_INT(acme_reason, 4);
	acme_records_cert_revoked(&rec, "req-test", 0, "");
	snprintf(path, sizeof(path), "/api/v1/certificates/%lld", (long long)id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = path }), 200);
	CHECK_EQ_STR(rs_str("status"), "revoked");
	CHECK(store_cert_pem(api_store(api), "req-test") == NULL);
	/* Renew orders again (and clears the revocation). */
	snprintf(path, sizeof(path), "/api/v1/certificates/%lld/renew", (long long)id);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path }), 202);
	CHECK_EQ_STR(acme_renewed, "req-test");
	CHECK(!json_is_integer(rs_get("revoked_at")));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/certificates/999999/renew" }), 404);
	/* Import: a certificate the hub does not renew. */
	snprintf(body, sizeof(body), "{\"name\":\"imp\",\"cert_pem\":%s,\"key_pem\":%s}",
		 jstr(cert), jstr(key));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = "/api/v1/certificates/import",
					    .body = body }), 201);
	CHECK(json_is_null(rs_get("acme")));
	imp = rs_int("id");
	snprintf(path, sizeof(path), "/api/v1/certificates/%lld/renew", (long long)imp);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "POST", .path = path }), 409);
	CHECK(store_cert_covers(api_store(api), "b.test", store_now_ms()));
	CHECK(!store_cert_covers(api_store(api), "c.test", store_now_ms()));
	for (const char *a = "certificate.request\0certificate.revoke\0certificate.revoked\0"
			     "certificate.renew\0certificate.import\0"; *a; a += strlen(a) + 1) {
		char q[160];
		snprintf(q, sizeof(q), "SELECT count(*) FROM audit_log WHERE action = '%s'", a);
		if (count(q) < 1)
			UNIT_FAIL("no %s in the audit log", a);
	}
	/* Deleting takes the sealed keys along (later tests count secrets). */
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path_of(id) }), 204);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = path_of(imp) }), 204);
	CHECK_EQ_INT(count("SELECT count(*) FROM certificates WHERE name IN ('req-test', 'imp')"), 0);
	api_set_acme(api, NULL);
}

TEST(acme_account_key_and_dns_providers_stay_sealed)
{
	static const struct bad bad[] = {
		{ "{\"settings\":{}}", 400, "settings" },
		{ "{\"settings\":{\"zone\":\"x.test\"}}", 400, "settings" },
		{ "{\"settings\":{\"api_token\":5}}", 400, "settings" },
		{ "{\"other\":1}", 400, "other" },
	};
	const char *token = "dns-token-never-shown-9c1";
	char err[128], body[256], *k1, *k2, **kv;
	struct acme_records rec;

	rec = api_acme_records(api);
	k1 = acme_records_account_key(&rec, NULL, err, sizeof(err));
	k2 = acme_records_account_key(&rec, NULL, err, sizeof(err));
	CHECK(k1 && k2 && !strcmp(k1, k2) && strstr(k1, "PRIVATE KEY"));
	if (k1)
		secure_free(k1, strlen(k1));
	if (k2)
		secure_free(k2, strlen(k2));
	CHECK_EQ_INT(count("SELECT count(*) FROM audit_log WHERE action = 'acme.account_key'"), 1);
	CHECK_EQ_INT(secret_delete(api_store(api), "acme", 0, "account_key"), 0);

	check_bad_as("PUT", "/api/v1/dns-providers/cloudflare", "*", bad, ARRAY_SIZE(bad));
	snprintf(body, sizeof(body), "{\"settings\":{\"api_token\":\"%s\",\"zone\":\"x.test\"}}",
		 token);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/dns-providers/cloudflare",
					    .body = body }), 428);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/dns-providers/cloudflare",
					    .body = body, .if_match = "\"3\"" }), 412);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "PUT", .path = "/api/v1/dns-providers/cloudflare",
					    .body = body, .if_match = "*" }), 200);
	CHECK(!strstr(rs_last.body, token));
	CHECK(rs_get("set") == json_true());
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/dns-providers" }), 200);
	CHECK(!strstr(rs_last.body, token) && strstr(rs_last.body, "api_token"));
	CHECK_EQ_INT(call(api, (struct rq){ .method = "GET", .path = "/api/v1/audit",
					    .query = "limit=500" }), 200);
	CHECK(!strstr(rs_last.body, token));
	CHECK_EQ_INT(count("SELECT count(*) FROM secrets WHERE owner = 'dns_provider'"
			   " AND instr(ciphertext, 'dns-token') > 0"), 0);
	kv = acme_records_dns_creds(&rec, "cloudflare");
	CHECK(kv && kv[0] && kv[1] && kv[2] && kv[3] && !kv[4]);
	CHECK((kv && !strcmp(kv[0], "api_token") && !strcmp(kv[1], token)) ||
	      (kv && !strcmp(kv[2], "api_token") && !strcmp(kv[3], token)));
	acme_kv_free(kv);
	CHECK(acme_records_dns_creds(&rec, "hetzner") == NULL);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = "/api/v1/dns-providers/cloudflare" }), 204);
	CHECK(acme_records_dns_creds(&rec, "cloudflare") == NULL);
	CHECK_EQ_INT(call(api, (struct rq){ .method = "DELETE", .path = "/api/v1/dns-providers/cloudflare" }), 404);
}

int main(void)
{
	log_set_level(LOG_ERR);
	call_observe = observe;
	setup_env();
	RUN(bootstrap_prints_a_setup_link_that_works_once);
	RUN(routing_404_405_and_tunnel);
	RUN(control_socket_peer_credentials);
	RUN(every_endpoint_refuses_the_unauthenticated);
	RUN(every_endpoint_checks_scope_and_role);
	RUN(every_unsafe_endpoint_needs_csrf_and_origin);
	RUN(every_update_needs_a_current_if_match);
	RUN(route_crud_happy_path);
	RUN(route_tokens_and_share_links);
	RUN(list_pagination);
	RUN(change_and_audit_entry_are_one_transaction);
	RUN(route_validation_names_the_field);
	RUN(agents_and_join_tokens);
	RUN(agent_update_and_delete);
	RUN(route_update_validation_names_the_field);
	RUN(certificates_keep_the_key_sealed);
	RUN(acme_request_renew_revoke);
	RUN(acme_account_key_and_dns_providers_stay_sealed);
	RUN(users_and_the_last_admin);
	RUN(tokens_are_shown_once_and_revocable);
	RUN(sessions_login_logout_and_throttling);
	RUN(bad_tokens_never_refuse_a_valid_one);
	RUN(settings);
	RUN(origin_follows_the_public_url_setting);
	RUN(bounded_json);
	RUN(audit_endpoints_and_rotation);
	RUN(agentless_node_gets_a_wg_quick_file);
	RUN(webhooks_secret_outbox_rotation);
	RUN(assertion_key_rotation);
	RUN(passkeys_listed_and_removed);
	RUN(every_endpoint_has_a_happy_path_and_a_named_validation_error);
	json_decref(rs_last.json);
	api_close(api);
	fixture_rmdir(dir);
	return unit_done();
}
