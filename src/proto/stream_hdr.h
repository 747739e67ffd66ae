/* stream_hdr.h - the header that opens a hub -> agent stream.
 *
 * A PROXY v2 header carrying Postern's TLVs (agent_proto.h, part 1) in
 * a struct: the hub encodes it, the agent parses it. Parsing is strict:
 * a missing or repeated Postern TLV, an unknown protocol version or flag,
 * a target that is both a name and an address (or neither), port 0, or a
 * host name outside the LDH syntax is an error. */
#ifndef POSTERN_PROTO_STREAM_HDR_H
#define POSTERN_PROTO_STREAM_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/str.h"
#include "proto/proxy_v2.h"

#define STREAM_HDR_NAME_MAX 253

struct stream_hdr {
	bool probe;		/* PROXY v2 LOCAL: liveness probe, no target */
	union proxy_v2_sa client;	/* the real client */
	/* The target address and port; when `host` is set the address is
	 * the unspecified address and only the port counts. */
	union proxy_v2_sa target;
	char host[STREAM_HDR_NAME_MAX + 1];	/* "" = address target */
	char tls_name[STREAM_HDR_NAME_MAX + 1];	/* "" = default */
	unsigned flags;		/* AGENT_F_* */
};

/* Parses the header at the start of p[0, len).
 * Returns > 0 bytes consumed (*out filled), 0 need more, or < 0:
 * -EPROTO malformed (either layer), -E2BIG too long, -EPROTONOSUPPORT
 * not a TCP relay header or an unknown AGENT_PROTO_VERSION. */
int stream_hdr_parse(const uint8_t *p, size_t len, struct stream_hdr *out);

/* Encodes `h` (probe, or client + target + Postern TLVs). client and
 * target must share a family; a `host` target uses the unspecified
 * address of the client's family. Returns the length or -errno. */
int stream_hdr_encode(uint8_t *out, size_t cap, const struct stream_hdr *h);

/* True for a host name the protocol accepts: 1..253 bytes of labels of
 * 1..63 [a-z0-9_-], dot-separated, no trailing dot, last label not all
 * digits (that would be an address in disguise). */
bool stream_hdr_name_valid(struct str name);

/* Port of an AF_INET/AF_INET6 address, host order. */
uint16_t stream_hdr_port(const union proxy_v2_sa *sa);

#endif
