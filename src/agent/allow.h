/* allow.h - the agent's target allowlist (`--allow`).
 *
 * The agent refuses every target the user did not allow: a compromised
 * hub must not be able to roam the LAN. With no entries at all, nothing
 * is allowed. Two kinds of entries, each with an optional port list:
 *
 *   192.168.1.0/24  10.0.0.5:80,443  [fd00::/8]:8000-8100  fd00::1
 *   nas.lan:443     *.lan            private:80,443        loopback
 *
 * "private" stands for 10/8, 172.16/12, 192.168/16 and fc00::/7,
 * "loopback" for 127/8 and ::1. Ports: up to ALLOW_PORTS_MAX items,
 * each N or N-M; no list means every port.
 *
 * Names choose, addresses decide. An address target must match an address
 * entry. A name target must match a name entry (exact, or "*.suffix" for
 * any name below suffix), and then every address it resolved to is
 * checked against the address entries too, and only the allowed ones are
 * dialled: a name under the hub's (or an attacker's) DNS control cannot
 * point the agent at an address the user did not allow (DNS rebinding),
 * and the address checked is the one connected to (no second lookup).
 * Some addresses are never allowed, whatever the entries: unspecified,
 * multicast, broadcast, and the exact addresses given to allow_deny_add
 * (the agent's and hub's tunnel addresses). IPv4-mapped IPv6 addresses
 * are checked as the IPv4 address they carry. */
#ifndef POSTERN_AGENT_ALLOW_H
#define POSTERN_AGENT_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/str.h"

#define ALLOW_PORTS_MAX 16
#define ALLOW_NAME_MAX 253

enum allow_kind {
	ALLOW_ADDR = 0,
	ALLOW_NAME,
	ALLOW_DENY,	/* one exact address, any port */
	ALLOW_KIND_MAX
};

struct allow_entry {
	enum allow_kind kind;
	int family;			/* ALLOW_ADDR, ALLOW_DENY */
	uint8_t addr[16];		/* network byte order, masked */
	unsigned prefix;
	bool wildcard;			/* ALLOW_NAME "*.suffix": name = suffix */
	char name[ALLOW_NAME_MAX + 1];	/* lower case */
	unsigned nports;		/* 0 = every port */
	uint16_t port_lo[ALLOW_PORTS_MAX], port_hi[ALLOW_PORTS_MAX];
};

#define ALLOW_SPECS_MAX 64
#define ALLOW_SPEC_LEN_MAX 300

struct allow {
	struct allow_entry *v;
	size_t n, cap;
	/* The --allow values as given (the first ALLOW_SPECS_MAX), which
	 * the heartbeat reports so that the hub can warn about a route
	 * the agent would refuse. */
	char *specs[ALLOW_SPECS_MAX];
	unsigned nspecs;
};

void allow_init(struct allow *a);
void allow_free(struct allow *a);

/* Adds the entries one `--allow` value describes (and keeps the value in
 * specs[]). Returns 0, or -1 with a message naming the problem in err
 * (nothing added). */
int allow_add(struct allow *a, const char *spec, char *err, size_t errlen);
/* Refuses one exact address (any port) whatever the entries say. */
int allow_deny_add(struct allow *a, const struct sockaddr *sa);

/* True when a target given as a host name may be resolved (the name must
 * already be lower case, as the stream header guarantees). */
bool allow_name_check(const struct allow *a, struct str name, uint16_t port);
/* True when the agent may connect to sa (AF_INET/AF_INET6, port inside). */
bool allow_addr_check(const struct allow *a, const struct sockaddr *sa);

#endif
