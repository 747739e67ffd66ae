/* tunconf.c - the agent TUN's creation and addressing, by ioctl. */
#include "netstack/tunconf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* struct in6_ifreq from linux/ipv6.h, which clashes with glibc headers. */
struct tunconf_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static void tunconf_ifr(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, name, strnlen(name, IFNAMSIZ - 1));
}

static int tunconf_create(bool private_ns, char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC), e;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, private_ns ? "pt0" : "pstn%d");
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	return fd;
}

static int tunconf_up(int s, const char *name)
{
	struct ifreq ifr;

	tunconf_ifr(&ifr, name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(s, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

static int tunconf_addr4(int s, const char *name, const struct netstack_conf *c)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ifr.ifr_addr;
	uint32_t mask = c->prefix4 ? ~0u << (32 - c->prefix4) : 0;

	tunconf_ifr(&ifr, name);
	ifr.ifr_mtu = (int)c->mtu;
	if (c->mtu && ioctl(s, SIOCSIFMTU, &ifr) < 0)
		return -errno;
	if (!c->has4)
		return 0;
	memset(&ifr.ifr_addr, 0, sizeof(ifr.ifr_addr));
	sin->sin_family = AF_INET;
	sin->sin_addr = c->addr4;
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		return -errno;
	sin->sin_addr.s_addr = htonl(mask);
	return ioctl(s, SIOCSIFNETMASK, &ifr) < 0 ? -errno : 0;
}

static int tunconf_addr6(int s6, int ifindex, const struct netstack_conf *c)
{
	struct tunconf_in6_ifreq r;

	memset(&r, 0, sizeof(r));
	r.addr = c->addr6;
	r.prefixlen = c->prefix6;
	r.ifindex = ifindex;
	return ioctl(s6, SIOCSIFADDR, &r) < 0 ? -errno : 0;
}

/* Default routes through the TUN (private namespace only). */
static int tunconf_routes(int s4, int s6, const char *name, int ifindex,
			  const struct netstack_conf *c)
{
	if (c->has4) {
		struct rtentry rt;
		memset(&rt, 0, sizeof(rt));
		((struct sockaddr_in *)(void *)&rt.rt_dst)->sin_family = AF_INET;
		((struct sockaddr_in *)(void *)&rt.rt_genmask)->sin_family = AF_INET;
		rt.rt_flags = RTF_UP;
		rt.rt_dev = (char *)name;
		if (ioctl(s4, SIOCADDRT, &rt) < 0)
			return -errno;
	}
	if (c->has6) {
		struct in6_rtmsg rt;
		memset(&rt, 0, sizeof(rt));
		rt.rtmsg_ifindex = ifindex;
		rt.rtmsg_flags = RTF_UP;
		rt.rtmsg_metric = 1;
		if (ioctl(s6, SIOCADDRT, &rt) < 0)
			return -errno;
	}
	return 0;
}

int tunconf_listen(int family, const struct netstack_conf *c, const char *ifname)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} a;
	int one = 1, e, fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	socklen_t len;

	if (fd < 0)
		return -errno;
	memset(&a, 0, sizeof(a));
	if (family == AF_INET) {
		a.in4.sin_family = AF_INET;
		a.in4.sin_addr = c->addr4;
		a.in4.sin_port = htons(c->port);
		len = sizeof(a.in4);
	} else {
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_addr = c->addr6;
		a.in6.sin6_port = htons(c->port);
		len = sizeof(a.in6);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A new IPv6 address is briefly tentative even without DAD. */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if ((ifname && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
				  (socklen_t)strlen(ifname)) < 0) ||
	    bind(fd, &a.sa, len) < 0 || listen(fd, 512) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int tunconf_configure(int tun, const char *name, bool private_ns,
			     const struct netstack_conf *c)
{
	int s4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int s6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ifindex = (int)if_nametoindex(name), rc = 0;

	(void)tun;
	if (s4 < 0 || (c->has6 && s6 < 0) || ifindex == 0)
		rc = -errno;
	if (rc == 0 && private_ns)
		rc = tunconf_up(s4, "lo");
	if (rc == 0)
		rc = tunconf_addr4(s4, name, c);
	if (rc == 0)
		rc = tunconf_up(s4, name);
	if (rc == 0 && c->has6)
		rc = tunconf_addr6(s6, ifindex, c);
	if (rc == 0 && private_ns)
		rc = tunconf_routes(s4, s6, name, ifindex, c);
	if (s4 >= 0)
		close(s4);
	if (s6 >= 0)
		close(s6);
	return rc;
}

int tunconf_address(const char *name, const struct netstack_conf *c)
{
	return tunconf_configure(-1, name, false, c);
}

int tunconf_setup(const struct netstack_conf *c, bool private_ns, int *fds,
		  unsigned *nfds)
{
	char name[IFNAMSIZ];
	int tun = tunconf_create(private_ns, name), rc;

	*nfds = 0;
	if (tun < 0)
		return tun;
	fds[(*nfds)++] = tun;
	rc = tunconf_configure(tun, name, private_ns, c);
	if (rc == 0 && c->has4) {
		rc = tunconf_listen(AF_INET, c, NULL);
		if (rc >= 0)
			fds[(*nfds)++] = rc;
	}
	if (rc >= 0 && c->has6) {
		rc = tunconf_listen(AF_INET6, c, NULL);
		if (rc >= 0)
			fds[(*nfds)++] = rc;
	}
	if (rc < 0) {
		while (*nfds)
			close(fds[--*nfds]);
		return rc;
	}
	return 0;
}
