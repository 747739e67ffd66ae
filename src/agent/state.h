/* state.h - the agent's state file (what `postern agent join` learned).
 *
 * A core/conf file, mode 0600, written atomically (temporary file, fsync,
 * rename). It holds the agent's WireGuard private key, so loading refuses
 * a file that the group or others may read or write, as ssh does for its
 * keys. Keys are base64 (as `wg` shows them); the private key is wiped
 * from every buffer it passed through. */
#ifndef POSTERN_AGENT_STATE_H
#define POSTERN_AGENT_STATE_H

#include <stddef.h>
#include <stdint.h>

#define AGENT_STATE_KEY_LEN 32
#define AGENT_STATE_STR 256

struct agent_state {
	char name[64];				/* the agent's name on the hub */
	uint8_t private_key[AGENT_STATE_KEY_LEN];
	char hub_url[AGENT_STATE_STR];		/* https://hub.example.com */
	char fingerprint[AGENT_STATE_STR];	/* pinned SPKI sha256; "" = CA */
	uint8_t hub_public_key[AGENT_STATE_KEY_LEN];
	char hub_endpoint[AGENT_STATE_STR];	/* host:port (name re-resolved) */
	char tunnel_ipv4[64], tunnel_ipv6[64];	/* ours, CIDR; "" = none */
	char hub_tunnel_ipv4[64], hub_tunnel_ipv6[64];	/* the hub's, no prefix */
	unsigned keepalive;			/* seconds */
};

/* Reads path into *st. Returns 0, or -1 with a message in err. */
int agent_state_load(const char *path, struct agent_state *st, char *err,
		     size_t errlen);
/* Writes *st to path (0600, atomically). Returns 0, or -1 with err. */
int agent_state_save(const char *path, const struct agent_state *st, char *err,
		     size_t errlen);
/* Wipes the secrets in *st. */
void agent_state_wipe(struct agent_state *st);
/* The default path: /var/lib/postern/agent.state for root, else
 * $XDG_STATE_HOME/postern/agent.state (~/.local/state/...). Writes at
 * most len bytes; returns 0 or -ENAMETOOLONG / -ENOENT (no HOME). */
int agent_state_default_path(char *out, size_t len);

#endif
