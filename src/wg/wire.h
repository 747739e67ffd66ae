/* wire.h - WireGuard's four message types as they travel in UDP.
 *
 * All integers are little-endian on the wire. The first four bytes of every
 * message are the type followed by three zero bytes, read together as one
 * LE32 (so non-zero "reserved" bytes make a message unknown and dropped, as
 * the kernel and wireguard-go do). Handshake messages have exact sizes;
 * a data message is at least its 16-byte header plus a tag. This is the
 * protocol itself: it has no version of its own to bump. */
#ifndef POSTERN_WG_WIRE_H
#define POSTERN_WG_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "wg/crypto.h"

enum wg_msg_type {
	WG_MSG_INITIATION = 1,
	WG_MSG_RESPONSE = 2,
	WG_MSG_COOKIE = 3,
	WG_MSG_DATA = 4,
	WG_MSG_MAX
};

#define WG_TAI64N_LEN 12

/* The two MACs that end both handshake messages. */
struct wg_msg_macs {
	uint8_t mac1[WG_MAC_LEN];
	uint8_t mac2[WG_MAC_LEN];
};

struct wg_msg_initiation {
	uint32_t type;
	uint32_t sender;
	uint8_t ephemeral[WG_KEY_LEN];
	uint8_t encrypted_static[WG_KEY_LEN + WG_TAG_LEN];
	uint8_t encrypted_timestamp[WG_TAI64N_LEN + WG_TAG_LEN];
	struct wg_msg_macs macs;
};

struct wg_msg_response {
	uint32_t type;
	uint32_t sender;
	uint32_t receiver;
	uint8_t ephemeral[WG_KEY_LEN];
	uint8_t encrypted_nothing[WG_TAG_LEN];
	struct wg_msg_macs macs;
};

struct wg_msg_cookie {
	uint32_t type;
	uint32_t receiver;
	uint8_t nonce[WG_XNONCE_LEN];
	uint8_t encrypted_cookie[WG_MAC_LEN + WG_TAG_LEN];
};

struct wg_msg_data_header {
	uint32_t type;
	uint32_t receiver;
	uint64_t counter;
};

#define WG_MSG_INITIATION_LEN 148
#define WG_MSG_RESPONSE_LEN 92
#define WG_MSG_COOKIE_LEN 64
#define WG_DATA_HEADER_LEN 16
#define WG_DATA_MIN_LEN (WG_DATA_HEADER_LEN + WG_TAG_LEN)
#define WG_DATA_OVERHEAD WG_DATA_MIN_LEN
#define WG_PADDING_MULTIPLE 16

_Static_assert(sizeof(struct wg_msg_initiation) == WG_MSG_INITIATION_LEN,
	       "initiation layout");
_Static_assert(sizeof(struct wg_msg_response) == WG_MSG_RESPONSE_LEN,
	       "response layout");
_Static_assert(sizeof(struct wg_msg_cookie) == WG_MSG_COOKIE_LEN,
	       "cookie layout");
_Static_assert(sizeof(struct wg_msg_data_header) == WG_DATA_HEADER_LEN,
	       "data header layout");

static inline uint32_t wg_le32_read(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static inline uint64_t wg_le64_read(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)wg_le32_read(b) | (uint64_t)wg_le32_read(b + 4) << 32;
}

static inline void wg_le32_write(void *p, uint32_t v)
{
	uint8_t *b = p;
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static inline void wg_le64_write(void *p, uint64_t v)
{
	wg_le32_write(p, (uint32_t)v);
	wg_le32_write((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

/* The message type of a datagram, or 0 when it is none of the four or its
 * size is wrong for its type. The only check made before any crypto. */
static inline enum wg_msg_type wg_msg_classify(const uint8_t *p, size_t len)
{
	if (len < 4)
		return 0;
	switch (wg_le32_read(p)) {
	case WG_MSG_INITIATION:
		return len == WG_MSG_INITIATION_LEN ? WG_MSG_INITIATION : 0;
	case WG_MSG_RESPONSE:
		return len == WG_MSG_RESPONSE_LEN ? WG_MSG_RESPONSE : 0;
	case WG_MSG_COOKIE:
		return len == WG_MSG_COOKIE_LEN ? WG_MSG_COOKIE : 0;
	case WG_MSG_DATA:
		return len >= WG_DATA_MIN_LEN ? WG_MSG_DATA : 0;
	default:
		return 0;
	}
}

#endif
