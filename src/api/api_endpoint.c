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

const struct api_endpoint api_endpoints[] = {
	{ "GET", "/api/v1/session", R, 0, api_session_get, NULL, "who am I" },
	{ "POST", "/api/v1/session", API_PERM_NONE, B, api_session_login, NULL, "log in (password)" },
	{ "DELETE", "/api/v1/session", R, 0, api_session_logout, NULL, "log out" },
	{ "POST", "/api/v1/setup", API_PERM_NONE, B, api_user_setup, NULL, "set a password with a setup token" },

	{ "GET", "/api/v1/routes", R, 0, api_res_list, &api_route_res, "list routes" },
	{ "POST", "/api/v1/routes", W, B, api_res_create, &api_route_res, "create a route" },
	{ "GET", "/api/v1/routes/{id}", R, 0, api_res_get, &api_route_res, "get a route" },
	{ "PATCH", "/api/v1/routes/{id}", W, B, api_res_update, &api_route_res, "update a route" },
	{ "DELETE", "/api/v1/routes/{id}", W, 0, api_res_delete, &api_route_res, "delete a route" },

	{ "GET", "/api/v1/agents", R, 0, api_res_list, &api_agent_res, "list agents" },
	{ "POST", "/api/v1/agents", W, B, api_res_create, &api_agent_res, "create an agent" },
	{ "GET", "/api/v1/agents/{id}", R, 0, api_res_get, &api_agent_res, "get an agent" },
	{ "PATCH", "/api/v1/agents/{id}", W, B, api_res_update, &api_agent_res, "update an agent" },
	{ "DELETE", "/api/v1/agents/{id}", W, 0, api_res_delete, &api_agent_res, "delete an agent" },
	{ "GET", "/api/v1/agents/{id}/join-tokens", R, 0, api_join_token_list, NULL, "list an agent's join tokens" },
	{ "POST", "/api/v1/agents/{id}/join-tokens", W, B, api_join_token_create, NULL, "create a join token" },
	{ "POST", "/api/v1/agents/{id}/wireguard-config", W, 0, api_agent_wg_config, NULL, "new keys and a wg-quick configuration for an agentless node" },
	{ "POST", "/api/v1/agents/join", API_PERM_NONE, B, api_agent_join, NULL, "enroll an agent with a join token" },
	{ "POST", "/api/v1/agent/heartbeat", API_PERM_NONE, B | API_EP_TUNNEL, api_agent_heartbeat, NULL, "an agent's heartbeat (tunnel only)" },

	{ "GET", "/api/v1/certificates", R, 0, api_res_list, &api_cert_res, "list certificates" },
	{ "POST", "/api/v1/certificates", W, B, api_res_create, &api_cert_res, "add a certificate" },
	{ "GET", "/api/v1/certificates/{id}", R, 0, api_res_get, &api_cert_res, "get a certificate" },
	{ "PATCH", "/api/v1/certificates/{id}", W, B, api_res_update, &api_cert_res, "replace a certificate" },
	{ "DELETE", "/api/v1/certificates/{id}", W, 0, api_res_delete, &api_cert_res, "delete a certificate" },
	{ "POST", "/api/v1/certificates/import", W, B, api_res_create, &api_cert_res, "import a PEM certificate and key" },
	{ "POST", "/api/v1/certificates/request", W, B, api_cert_request, NULL, "order a certificate from the ACME CA" },
	{ "POST", "/api/v1/certificates/{id}/renew", W, 0, api_cert_renew, NULL, "renew a certificate now" },
	{ "POST", "/api/v1/certificates/{id}/revoke", W, B, api_cert_revoke, NULL, "revoke a certificate at the CA" },
	{ "GET", "/api/v1/dns-providers", R, 0, api_dns_list, NULL, "list DNS providers (which settings are set)" },
	{ "PUT", "/api/v1/dns-providers/{key}", A, B, api_dns_put, NULL, "set a DNS provider's credentials" },
	{ "DELETE", "/api/v1/dns-providers/{key}", A, 0, api_dns_delete, NULL, "forget a DNS provider's credentials" },

	{ "GET", "/api/v1/users", A, 0, api_res_list, &api_user_res, "list users" },
	{ "POST", "/api/v1/users", A, B, api_res_create, &api_user_res, "create a user" },
	{ "GET", "/api/v1/users/{id}", A, 0, api_res_get, &api_user_res, "get a user" },
	{ "PATCH", "/api/v1/users/{id}", A, B, api_res_update, &api_user_res, "update a user" },
	{ "DELETE", "/api/v1/users/{id}", A, 0, api_res_delete, &api_user_res, "delete a user" },
	{ "POST", "/api/v1/users/{id}/setup-link", A, 0, api_user_setup_link, NULL, "new one-time setup link" },
	{ "POST", "/api/v1/login/assertion-key", A, 0, api_assert_rotate, NULL, "rotate the identity assertion's signing key" },
	{ "GET", "/api/v1/users/{id}/passkeys", A, 0, api_passkey_api_list, NULL, "list a user's passkeys" },
	{ "DELETE", "/api/v1/passkeys/{id}", A, 0, api_passkey_api_delete, NULL, "remove a passkey" },

	{ "GET", "/api/v1/tokens", A, 0, api_res_list, &api_token_res, "list API tokens" },
	{ "POST", "/api/v1/tokens", A, B, api_res_create, &api_token_res, "create an API token" },
	{ "GET", "/api/v1/tokens/{id}", A, 0, api_res_get, &api_token_res, "get an API token" },
	{ "DELETE", "/api/v1/tokens/{id}", A, 0, api_res_delete, &api_token_res, "revoke an API token" },

	{ "GET", "/api/v1/route-tokens", A, 0, api_res_list, &api_route_token_res, "list route tokens (machine credentials of login routes)" },
	{ "POST", "/api/v1/route-tokens", A, B, api_res_create, &api_route_token_res, "create a route token (shown once)" },
	{ "GET", "/api/v1/route-tokens/{id}", A, 0, api_res_get, &api_route_token_res, "get a route token" },
	{ "DELETE", "/api/v1/route-tokens/{id}", A, 0, api_res_delete, &api_route_token_res, "revoke a route token" },
	{ "GET", "/api/v1/share-links", A, 0, api_res_list, &api_share_res, "list share links" },
	{ "POST", "/api/v1/share-links", A, B, api_res_create, &api_share_res, "create a share link (its URL is shown once)" },
	{ "GET", "/api/v1/share-links/{id}", A, 0, api_res_get, &api_share_res, "get a share link" },
	{ "DELETE", "/api/v1/share-links/{id}", A, 0, api_res_delete, &api_share_res, "revoke a share link" },

	{ "GET", "/api/v1/webhooks", A, 0, api_res_list, &api_webhook_res, "list webhooks (admin: Slack and Discord URLs are credentials)" },
	{ "POST", "/api/v1/webhooks", A, B, api_res_create, &api_webhook_res, "create a webhook (its secret is shown once)" },
	{ "GET", "/api/v1/webhooks/{id}", A, 0, api_res_get, &api_webhook_res, "get a webhook (admin)" },
	{ "PATCH", "/api/v1/webhooks/{id}", A, B, api_res_update, &api_webhook_res, "update a webhook" },
	{ "DELETE", "/api/v1/webhooks/{id}", A, 0, api_res_delete, &api_webhook_res, "delete a webhook" },
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
