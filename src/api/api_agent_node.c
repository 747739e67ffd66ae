/* api_agent_node.c - agentless nodes: a standard WireGuard peer (wg-quick
 * on a router, a phone) as an agent of kind "wireguard". The hub makes
 * its key pair and addresses and hands out a wg-quick configuration,
 * once: the private key is not kept. Routes to a node dial its tunnel
 * address directly (no stream header). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/api_resource.h"
#include "api/api_tunnel.h"
#include "core/enc.h"
#include "core/secure.h"
#include "wg/crypto.h"

struct node_row {
	char name[64], kind[16], ipv4[48], ipv6[48];
};

static int node_load(struct api_ctx *c, struct node_row *n)
{
	sqlite3_stmt *st = api_row(c->api, "SELECT name, kind, coalesce(tunnel_ipv4, ''),"
		" coalesce(tunnel_ipv6, '') FROM agents WHERE id = ?", STORE_I(c->id));

	if (!st)
		return -1;
	snprintf(n->name, sizeof(n->name), "%s", sqlite3_column_text(st, 0));
	snprintf(n->kind, sizeof(n->kind), "%s", sqlite3_column_text(st, 1));
	snprintf(n->ipv4, sizeof(n->ipv4), "%s", sqlite3_column_text(st, 2));
	snprintf(n->ipv6, sizeof(n->ipv6), "%s", sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	return 0;
}

/* The wg-quick file (the caller wipes and frees it). */
static char *node_config(struct api_ctx *c, const struct node_row *n, const char *priv,
			 const char *hub_key, const char *endpoint)
{
	char a4[64], a6[64], h4[48], h6[48];
	size_t len = 1024 + strlen(endpoint);
	char *out = malloc(len);

	if (!out)
		return NULL;
	api_tunnel_cidr(c->api, AF_INET, n->ipv4, a4, sizeof(a4));
	api_tunnel_cidr(c->api, AF_INET6, n->ipv6, a6, sizeof(a6));
	api_tunnel_hub_addrs(c->api, h4, h6, sizeof(h4));
	snprintf(out, len, "# wg-quick configuration for the node '%s' of this Postern hub\n"
		 "[Interface]\nPrivateKey = %s\nAddress = %s, %s\n\n"
		 "[Peer]\nPublicKey = %s\nEndpoint = %s\nAllowedIPs = %s/32, %s/128\n"
		 "PersistentKeepalive = 25\n", n->name, priv, a4, a6, hub_key, endpoint, h4, h6);
	return out;
}

/* New keys (and addresses when none) for a node; the answer carries the
 * private key, once. */
void api_agent_wg_config(struct api_ctx *c)
{
	char hub_key[64], endpoint[320], pub[B64_LEN(32)], priv[B64_LEN(32)], obj[48];
	char after[256];
	uint8_t k[32], p[32];
	struct node_row n;
	int64_t seq;
	char *conf;

	if (api_tunnel_hub_facts(c, hub_key, sizeof(hub_key), endpoint, sizeof(endpoint)) < 0)
		return;
	if ((seq = api_tx_begin(c)) < 0)
		return;
	if (node_load(c, &n) < 0) {
		api_tx_abort(c);
		api_reply_error(c, 404, "not_found", NULL, "no agent %lld", (long long)c->id);
		return;
	}
	if (strcmp(n.kind, "wireguard")) {
		api_tx_abort(c);
		api_reply_error(c, 409, "conflict", "kind", "this agent is a Postern agent: "
				"enroll it with a join token");
		return;
	}
	if ((!n.ipv4[0] && api_tunnel_alloc(c->api, AF_INET, n.ipv4, sizeof(n.ipv4)) < 0) ||
	    (!n.ipv6[0] && api_tunnel_alloc(c->api, AF_INET6, n.ipv6, sizeof(n.ipv6)) < 0)) {
		api_tx_abort(c);
		api_reply_error(c, 503, "no_address", NULL, "the tunnel network is full");
		return;
	}
	if (wg_crypto_init() < 0 || wg_x25519_generate(k) < 0 || wg_x25519_public(p, k) < 0) {
		api_tx_abort(c);
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return;
	}
	enc_b64std_encode(priv, k, 32);
	enc_b64std_encode(pub, p, 32);
	secure_wipe(k, sizeof(k));
	snprintf(obj, sizeof(obj), "agent:%lld", (long long)c->id);
	snprintf(after, sizeof(after), "{\"public_key\":\"%s\",\"tunnel_ipv4\":\"%s\","
		 "\"tunnel_ipv6\":\"%s\"}", pub, n.ipv4, n.ipv6);
	if (api_tunnel_enroll(c->api, c->id, pub, n.ipv4, n.ipv6, NULL, seq) < 0) {
		secure_wipe(priv, sizeof(priv));
		api_tx_abort(c);
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return;
	}
	c->changed |= API_CHANGED_AGENTS | API_CHANGED_ROUTES;
	if (api_tx_commit(c, seq, "agent.wireguard_config", obj, "", after) < 0) {
		secure_wipe(priv, sizeof(priv));
		return;
	}
	conf = node_config(c, &n, priv, hub_key, endpoint);
	secure_wipe(priv, sizeof(priv));
	if (!conf) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return;
	}
	api_reply_json(c, 201, json_pack("{s:I,s:s,s:s,s:s,s:s}", "agent_id", (json_int_t)c->id,
		"public_key", pub, "tunnel_ipv4", n.ipv4, "tunnel_ipv6", n.ipv6, "config", conf));
	secure_free(conf, strlen(conf) + 1);
}
