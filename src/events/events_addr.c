/* events_addr.c - where a webhook may connect: never loopback, link-local
 * (cloud metadata at 169.254.169.254 included), unspecified, multicast or
 * broadcast addresses; private LAN ranges only when the webhook allows
 * them. Checked on the resolved address of every connection. */
#include <netinet/in.h>
#include <string.h>

#include "events/events.h"

static bool events_v4_in(uint32_t a, uint32_t net, int bits)
{
	uint32_t mask = bits ? ~0u << (32 - bits) : 0;

	return (a & mask) == net;
}

static const char *events_v4_refused(unsigned flags, uint32_t a)
{
	if (events_v4_in(a, 0x7f000000, 8))
		return (flags & EVENTS_ADDR_F_LOOPBACK) ? NULL : "loopback";
	if (events_v4_in(a, 0xa9fe0000, 16))
		return "link-local or cloud metadata";
	if (events_v4_in(a, 0, 8) || events_v4_in(a, 0xe0000000, 4) ||
	    events_v4_in(a, 0xf0000000, 4))
		return "not a unicast address";
	if (events_v4_in(a, 0x0a000000, 8) || events_v4_in(a, 0xac100000, 12) ||
	    events_v4_in(a, 0xc0a80000, 16) || events_v4_in(a, 0x64400000, 10))
		return (flags & EVENTS_ADDR_F_PRIVATE) ? NULL :
			"a private address (set allow_private)";
	return NULL;
}

static const char *events_v6_refused(unsigned flags, const uint8_t *b)
{
	static const uint8_t lo[16] = { [15] = 1 }, any[16] = { 0 };

	if (!memcmp(b, lo, 16))
		return (flags & EVENTS_ADDR_F_LOOPBACK) ? NULL : "loopback";
	if (!memcmp(b, any, 16) || b[0] == 0xff)
		return "not a unicast address";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "link-local or cloud metadata";
	if ((b[0] & 0xfe) == 0xfc)
		return (flags & EVENTS_ADDR_F_PRIVATE) ? NULL :
			"a private address (set allow_private)";
	return NULL;
}

const char *events_addr_refused(unsigned flags, const struct sockaddr *sa,
				socklen_t len)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in))
		return events_v4_refused(flags, ntohl(((const struct sockaddr_in *)sa)
						      ->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		uint32_t a;
		if (memcmp(b, mapped, 12))
			return events_v6_refused(flags, b);
		memcpy(&a, b + 12, 4);
		return events_v4_refused(flags, ntohl(a));
	}
	return "not an IP address";
}
