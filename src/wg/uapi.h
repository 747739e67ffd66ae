/* uapi.h - WireGuard's cross-platform userspace API (the `wg` tool's
 * protocol on /var/run/wireguard/NAME.sock).
 *
 * Three layers, each usable alone:
 *   - uapi_parse_set(): text of a "set=1" request -> struct uapi_set,
 *     validated completely before anything is applied, so a bad request
 *     changes nothing (stricter than wireguard-go, which applies as it
 *     reads);
 *   - uapi_format_get(): struct uapi_state -> text of a "get=1" answer;
 *   - the server: a unix socket on the device's loop that frames requests
 *     and calls the device through struct uapi_device_ops.
 * Keys are raw 32-byte values here; the text form is lower-case hex.
 * Secrets in these structs are wiped by uapi_set_free/uapi_state_free. */
#ifndef POSTERN_WG_UAPI_H
#define POSTERN_WG_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/loop.h"
#include "wg/pkt.h"

#define UAPI_KEY_LEN 32
#define UAPI_REQUEST_MAX (16u << 20)	/* bytes in one request */

struct uapi_allowed_ip {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t cidr;
	union {
		struct in_addr in4;
		struct in6_addr in6;
	} addr;
};

struct uapi_peer_set {
	uint8_t public_key[UAPI_KEY_LEN];
	bool remove;
	bool update_only;
	bool has_preshared_key;
	uint8_t preshared_key[UAPI_KEY_LEN];	/* all-zero = remove the PSK */
	bool has_endpoint;
	struct wg_endpoint endpoint;
	bool has_keepalive;
	uint16_t persistent_keepalive;		/* seconds; 0 = off */
	bool replace_allowed_ips;
	size_t n_allowed_ips;
	struct uapi_allowed_ip *allowed_ips;
};

struct uapi_set {
	bool has_private_key;
	uint8_t private_key[UAPI_KEY_LEN];	/* all-zero = remove the key */
	bool has_listen_port;
	uint16_t listen_port;
	bool has_fwmark;
	uint32_t fwmark;
	bool replace_peers;
	size_t n_peers;
	struct uapi_peer_set *peers;
};

/* Parses the lines after "set=1\n" up to (not including) the blank line.
 * Returns 0 with *out filled (owned by the caller; free with
 * uapi_set_free), or -EINVAL for a malformed or unknown key/value and
 * -EPROTO for a key in the wrong place or an unsupported
 * protocol_version; *out is then empty. */
int uapi_parse_set(const char *text, size_t len, struct uapi_set *out);
void uapi_set_free(struct uapi_set *s);

struct uapi_peer_state {
	uint8_t public_key[UAPI_KEY_LEN];
	bool has_preshared_key;
	uint8_t preshared_key[UAPI_KEY_LEN];
	struct wg_endpoint endpoint;		/* family 0 = none */
	uint16_t persistent_keepalive;
	uint64_t last_handshake_sec, last_handshake_nsec; /* wall clock; 0 = never */
	uint64_t rx_bytes, tx_bytes;
	size_t n_allowed_ips;
	struct uapi_allowed_ip *allowed_ips;
};

struct uapi_state {
	bool has_private_key;
	uint8_t private_key[UAPI_KEY_LEN];
	uint16_t listen_port;
	uint32_t fwmark;
	size_t n_peers;
	struct uapi_peer_state *peers;
};

/* Both struct uapi_set and struct uapi_state own the same things: each
 * peer's allowed-IP array and preshared key, the peer array and the private
 * key. Wipes and frees them in `s`, a pointer to either, and leaves it
 * empty: the body of uapi_set_free and uapi_state_free (the caller includes
 * <stdlib.h>, <string.h> and core/secure.h). */
#define UAPI_WIPE_FREE(s)						\
	do {								\
		for (size_t i_ = 0; i_ < (s)->n_peers; i_++) {		\
			secure_wipe((s)->peers[i_].preshared_key,	\
				    UAPI_KEY_LEN);			\
			free((s)->peers[i_].allowed_ips);		\
		}							\
		free((s)->peers);					\
		secure_wipe((s)->private_key, UAPI_KEY_LEN);		\
		memset((s), 0, sizeof(*(s)));				\
	} while (0)

/* Appends the body of a get answer (without the trailing "errno=0\n\n").
 * Returns 0 or -ENOMEM/-ENOBUFS. */
int uapi_format_get(const struct uapi_state *st, struct buf *out);
void uapi_state_free(struct uapi_state *st);
/* Formats an endpoint as the answer does: "a.b.c.d:port", "[v6]:port",
 * "[v6%scope]:port". Returns 0, -EINVAL (no address) or -ENOBUFS. */
int uapi_format_endpoint(const struct wg_endpoint *ep, char *out, size_t cap);

/* What the server needs from a device. Both run on the device's loop. */
struct uapi_device_ops {
	/* Fills *st (the server frees it). Returns 0 or -errno. */
	int (*get)(void *dev, struct uapi_state *st);
	/* Applies a parsed set request atomically. Returns 0 or -errno. */
	int (*set)(void *dev, const struct uapi_set *set);
};

struct uapi_server;

/* Listens on /var/run/wireguard/<ifname>.sock (directory created 0755,
 * socket 0600, a stale socket replaced, a live one is -EADDRINUSE).
 * Returns 0 with *out set, or -errno. */
int uapi_server_start(struct loop *loop, const char *ifname,
		      const struct uapi_device_ops *ops, void *dev,
		      struct uapi_server **out);
/* Closes every connection and removes the socket file. */
void uapi_server_stop(struct uapi_server *s);

#endif
