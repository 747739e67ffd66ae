/* api_endpoint.c - the API's routing table: the single source of truth for
 * what the API serves (docs/api/openapi.yaml is checked against it by
 * tests/integration/test_openapi.py via `postern api-endpoints`). */
#include <stdio.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_int.h"
#include "core/num.h"

#define R API_PERM_READ
#define W API_PERM_WRITE
#define A API_PERM_ADMIN
#define B API_EP_BODY

/* The rows of a resource served by the generic handlers (api_resource.c):
 * list and create on the collection `path`, get, update and delete on
 * `path/{id}`; `rp` is the permission to read, `wp` to change, and `one`
 * and `many` name the objects in the summaries. */
#define API_RES_ROWS(path, res, rp, wp, one, many) \
	{ "GET", path, rp, 0, api_res_list, res, "list " many }, \
	{ "POST", path, wp, B, api_res_create, res, "create " one }, \
	{ "GET", path "/{id}", rp, 0, api_res_get, res, "get " one }, \
	{ "PATCH", path "/{id}", wp, B, api_res_update, res, "update " one }, \
	{ "DELETE", path "/{id}", wp, 0, api_res_delete, res, "delete " one }
/* The rows of a credential: as API_RES_ROWS, but it is never changed,
 * only revoked (deleted). */
#define API_RES_ROWS_CREDENTIAL(path, res, rp, wp, one, many) \
	{ "GET", path, rp, 0, api_res_list, res, "list " many }, \
	{ "POST", path, wp, B, api_res_create, res, "create " one }, \
	{ "GET", path "/{id}", rp, 0, api_res_get, res, "get " one }, \
	{ "DELETE", path "/{id}", wp, 0, api_res_delete, res, "revoke " one }

const struct api_endpoint api_endpoints[] = {
	{ "GET", "/api/v1/session", R, 0, api_session_get, NULL, "who am I" },
	{ "POST", "/api/v1/session", API_PERM_NONE, B, api_session_login, NULL, "log in (password)" },
	{ "DELETE", "/api/v1/session", R, 0, api_session_logout, NULL, "log out" },
	{ "POST", "/api/v1/setup", API_PERM_NONE, B, api_user_setup, NULL, "set a password with a setup token" },

	API_RES_ROWS("/api/v1/routes", &api_route_res, R, W, "a route", "routes"),

	API_RES_ROWS("/api/v1/agents", &api_agent_res, R, W, "an agent", "agents"),
	{ "GET", "/api/v1/agents/{id}/join-tokens", R, 0, api_join_token_list, NULL, "list an agent's join tokens" },
	{ "POST", "/api/v1/agents/{id}/join-tokens", W, B, api_join_token_create, NULL, "create a join token" },
	{ "POST", "/api/v1/agents/{id}/wireguard-config", W, 0, api_agent_wg_config, NULL, "new keys and a wg-quick configuration for an agentless node" },
	{ "POST", "/api/v1/agents/join", API_PERM_NONE, B, api_agent_join, NULL, "enroll an agent with a join token" },
	{ "POST", "/api/v1/agent/heartbeat", API_PERM_NONE, B | API_EP_TUNNEL, api_agent_heartbeat, NULL, "an agent's heartbeat (tunnel only)" },

	/* Create adds a certificate with its key; update replaces them. */
	API_RES_ROWS("/api/v1/certificates", &api_cert_res, R, W, "a certificate", "certificates"),
	{ "POST", "/api/v1/certificates/import", W, B, api_res_create, &api_cert_res, "import a PEM certificate and key" },
	{ "POST", "/api/v1/certificates/request", W, B, api_cert_request, NULL, "order a certificate from the ACME CA" },
	{ "POST", "/api/v1/certificates/{id}/renew", W, 0, api_cert_renew, NULL, "renew a certificate now" },
	{ "POST", "/api/v1/certificates/{id}/revoke", W, B, api_cert_revoke, NULL, "revoke a certificate at the CA" },
	{ "GET", "/api/v1/dns-providers", R, 0, api_dns_list, NULL, "list DNS providers (which settings are set)" },
	{ "PUT", "/api/v1/dns-providers/{key}", A, B, api_dns_put, NULL, "set a DNS provider's credentials" },
	{ "DELETE", "/api/v1/dns-providers/{key}", A, 0, api_dns_delete, NULL, "forget a DNS provider's credentials" },

	API_RES_ROWS("/api/v1/users", &api_user_res, A, A, "a user", "users"),
	{ "POST", "/api/v1/users/{id}/setup-link", A, 0, api_user_setup_link, NULL, "new one-time setup link" },
	{ "POST", "/api/v1/login/assertion-key", A, 0, api_assert_rotate, NULL, "rotate the identity assertion's signing key" },
	{ "GET", "/api/v1/users/{id}/passkeys", A, 0, api_passkey_api_list, NULL, "list a user's passkeys" },
	{ "DELETE", "/api/v1/passkeys/{id}", A, 0, api_passkey_api_delete, NULL, "remove a passkey" },

	/* A new token, route token or share link URL is shown once, in the
	 * answer to its create. Route tokens are the machine credentials of
	 * login routes. */
	API_RES_ROWS_CREDENTIAL("/api/v1/tokens", &api_token_res, A, A, "an API token", "API tokens"),

	API_RES_ROWS_CREDENTIAL("/api/v1/route-tokens", &api_route_token_res, A, A, "a route token", "route tokens"),
	API_RES_ROWS_CREDENTIAL("/api/v1/share-links", &api_share_res, A, A, "a share link", "share links"),

	/* Admin even to read: Slack and Discord URLs are credentials. A new
	 * webhook's secret is shown once, in the answer to its create. */
	API_RES_ROWS("/api/v1/webhooks", &api_webhook_res, A, A, "a webhook", "webhooks"),
	{ "POST", "/api/v1/webhooks/{id}/test", A, 0, api_webhook_test, NULL, "send a test event" },
	{ "POST", "/api/v1/webhooks/{id}/rotate-secret", A, B, api_webhook_rotate, NULL, "new secret; the old one keeps signing during an overlap" },
	{ "GET", "/api/v1/webhooks/{id}/deliveries", A, 0, api_webhook_deliveries, NULL, "a webhook's recent deliveries and their attempts" },
	{ "POST", "/api/v1/webhook-deliveries/{id}/redeliver", A, 0, api_webhook_redeliver, NULL, "send a delivery again" },

	{ "GET", "/api/v1/settings", R, 0, api_setting_list, NULL, "list settings" },
	{ "GET", "/api/v1/settings/{key}", R, 0, api_setting_get, NULL, "get a setting" },
	{ "PUT", "/api/v1/settings/{key}", A, B, api_setting_put, NULL, "set or reset a setting" },

	{ "GET", "/api/v1/audit", R, 0, api_audit_list, NULL, "list audit entries" },
	{ "GET", "/api/v1/audit/verify", R, 0, api_audit_verify, NULL, "verify the audit chain" },
	{ "POST", "/api/v1/secrets/rotate-key", A, 0, api_secret_rotate, NULL, "rotate the secrets key" },
};
const size_t api_endpoints_count = ARRAY_SIZE(api_endpoints);

/* Matches one path segment against one pattern segment. */
static bool api_segment_match(struct api_ctx *c, const char *pat, size_t plen,
			      const char *seg, size_t slen)
{
	uint64_t id;

	if (plen == 4 && !memcmp(pat, "{id}", 4)) {
		if (num_parse_u64(seg, slen, 1, INT64_MAX, &id) < 0)
			return false;
		c->id = (int64_t)id;
		return true;
	}
	if (plen == 5 && !memcmp(pat, "{key}", 5)) {
		if (slen == 0 || slen >= sizeof(c->param))
			return false;
		for (size_t i = 0; i < slen; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", seg[i]))
				return false;
		memcpy(c->param, seg, slen);
		c->param[slen] = 0;
		return true;
	}
	return plen == slen && !memcmp(pat, seg, slen);
}

static bool api_path_match(struct api_ctx *c, const char *pattern, const char *path)
{
	const char *p = pattern, *s = path;

	while (*p && *s) {
		const char *pe = strchr(p + 1, '/'), *se = strchr(s + 1, '/');
		size_t plen = pe ? (size_t)(pe - p) : strlen(p);
		size_t slen = se ? (size_t)(se - s) : strlen(s);
		if (*p != '/' || *s != '/' ||
		    !api_segment_match(c, p + 1, plen - 1, s + 1, slen - 1))
			return false;
		p += plen;
		s += slen;
	}
	return !*p && !*s;
}

const struct api_endpoint *api_endpoint_match(struct api_ctx *c,
					      const char *method,
					      const char *path, bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i < api_endpoints_count; i++) {
		const struct api_endpoint *e = &api_endpoints[i];
		if (!api_path_match(c, e->pattern, path))
			continue;
		*path_known = true;
		if (!strcmp(e->method, method))
			return e;
	}
	return NULL;
}

void api_endpoint_allow(const char *path, char *out, size_t len)
{
	struct api_ctx scratch;
	size_t n = 0;

	out[0] = 0;
	for (size_t i = 0; i < api_endpoints_count && n < len; i++) {
		if (!api_path_match(&scratch, api_endpoints[i].pattern, path))
			continue;
		n += (size_t)snprintf(out + n, len - n, "%s%s", n ? ", " : "",
				      api_endpoints[i].method);
	}
}
