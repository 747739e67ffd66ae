/* api_handlers.h - the handlers and resources the endpoint table names. */
#ifndef POSTERN_API_API_HANDLERS_H
#define POSTERN_API_API_HANDLERS_H

#include "api/api_int.h"

/* The generic resource handlers (api_resource.c) use c->ep->res. */
api_handler_fn api_res_list, api_res_get, api_res_create, api_res_update,
	api_res_delete;

extern const struct api_resource api_route_res, api_agent_res, api_cert_res,
	api_user_res, api_token_res, api_webhook_res;
/* Route tokens and share links (api_machine.c). */
extern const struct api_resource api_route_token_res, api_share_res;
/* Webhooks (api_webhook.c): test send, secret rotation, deliveries. */
api_handler_fn api_webhook_test, api_webhook_rotate, api_webhook_deliveries,
	api_webhook_redeliver;
const char *api_check_schedule(const char *s);
const char *api_check_expiring_before(const char *s);

api_handler_fn api_session_get, api_session_login, api_session_logout;
api_handler_fn api_user_setup, api_user_setup_link;
api_handler_fn api_passkey_api_list, api_passkey_api_delete;
api_handler_fn api_join_token_list, api_join_token_create;
api_handler_fn api_agent_join, api_agent_heartbeat;	/* api_agent_join.c */
api_handler_fn api_agent_wg_config;	/* api_agent_node.c */
/* The hub's WireGuard public key and endpoint (settings the device
 * records). Returns 0, or -1 after replying 503 hub_not_ready. */
int api_tunnel_hub_facts(struct api_ctx *c, char *key, size_t keylen, char *endpoint,
			 size_t eplen);
const char *api_check_tunnel_prefix(const char *s);
api_handler_fn api_setting_list, api_setting_get, api_setting_put;
api_handler_fn api_audit_list, api_audit_verify;
api_handler_fn api_secret_rotate;
api_handler_fn api_assert_rotate;	/* api_assert.c */
/* Certificates the hub orders (api_acme.c) and DNS provider credentials
 * (api_dns.c). */
api_handler_fn api_cert_request, api_cert_renew, api_cert_revoke;
api_handler_fn api_dns_list, api_dns_put, api_dns_delete;

#endif
