/* proxy_v2.h - PROXY protocol version 2 (HAProxy's binary header).
 *
 * A strict, incremental parser on byte views and an encoder. Only what a
 * TCP relay needs is accepted: command LOCAL or PROXY; for PROXY the
 * families AF_INET and AF_INET6 over STREAM. Everything else (AF_UNIX,
 * UDP, UNSPEC with PROXY, a length shorter than the address block, a TLV
 * that overruns, a bad CRC32C TLV, a header longer than PROXY_V2_LEN_MAX)
 * is rejected. Unknown TLV types are kept for the caller, as the spec
 * requires receivers to ignore types they do not know. */
#ifndef POSTERN_PROTO_PROXY_V2_H
#define POSTERN_PROTO_PROXY_V2_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/str.h"

#define PROXY_V2_SIG "\r\n\r\n\0\r\nQUIT\n"
#define PROXY_V2_SIG_LEN 12
#define PROXY_V2_FIXED_LEN 16	/* signature + ver/cmd + fam + len */
/* Bytes after the fixed part that we accept (addresses + TLVs). The spec
 * allows 65535; a relay header never needs more than a few hundred. */
#define PROXY_V2_LEN_MAX 1024
#define PROXY_V2_MAX (PROXY_V2_FIXED_LEN + PROXY_V2_LEN_MAX)

enum proxy_v2_cmd {
	PROXY_V2_LOCAL = 0,	/* health check from the proxy itself */
	PROXY_V2_PROXY = 1,	/* relayed connection; addresses valid */
};

/* Registered TLV types (the spec's PP2_TYPE_*). */
enum proxy_v2_tlv_type {
	PROXY_V2_TLV_ALPN = 0x01,
	PROXY_V2_TLV_AUTHORITY = 0x02,
	PROXY_V2_TLV_CRC32C = 0x03,
	PROXY_V2_TLV_NOOP = 0x04,
	PROXY_V2_TLV_UNIQUE_ID = 0x05,
	PROXY_V2_TLV_SSL = 0x20,
	PROXY_V2_TLV_NETNS = 0x30,
	PROXY_V2_TLV_MIN_CUSTOM = 0xE0,
	PROXY_V2_TLV_MAX_CUSTOM = 0xEF,
};

union proxy_v2_sa {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

struct proxy_v2 {
	enum proxy_v2_cmd cmd;
	int family;		/* AF_INET, AF_INET6; AF_UNSPEC for LOCAL */
	union proxy_v2_sa src;	/* PROXY only */
	union proxy_v2_sa dst;
	struct str tlvs;	/* view into the parsed bytes; all well formed */
};

struct proxy_v2_tlv {
	uint8_t type;
	const uint8_t *value;
	uint16_t len;
};

/* Parses a header at the start of p[0, len).
 * Returns > 0: the header's length, *out filled (tlvs points into p);
 *         0: need more bytes (every byte seen so far is valid);
 *       < 0: -EPROTO malformed, -E2BIG longer than PROXY_V2_LEN_MAX,
 *            -EPROTONOSUPPORT a well-formed header we do not relay
 *            (UNIX, UDP, UNSPEC with PROXY). */
int proxy_v2_parse(const uint8_t *p, size_t len, struct proxy_v2 *out);

/* Iterates over a parsed header's TLVs: *it starts as hdr->tlvs. Returns
 * 1 with *tlv filled, 0 at the end. (The parser has checked the layout.) */
int proxy_v2_tlv_next(struct str *it, struct proxy_v2_tlv *tlv);

/* Writes a header into out[0, cap): command `cmd`; for PROXY, src and dst
 * must be of one family (AF_INET or AF_INET6); then the `ntlv` TLVs, and a
 * CRC32C TLV when `crc` is set. Returns the length, or -ENOBUFS (cap too
 * small or the header longer than PROXY_V2_MAX) / -EINVAL (families). */
int proxy_v2_encode(uint8_t *out, size_t cap, enum proxy_v2_cmd cmd,
		    const struct sockaddr *src, const struct sockaddr *dst,
		    const struct proxy_v2_tlv *tlvs, size_t ntlv, int crc);

/* CRC32C (Castagnoli) as the CRC32C TLV uses it. */
uint32_t proxy_v2_crc32c(uint32_t crc, const uint8_t *p, size_t len);

#endif
