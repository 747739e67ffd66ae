/* agent_cli.c - address parsing, listeners and signals for the agent. */
#include "agent/agent_cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/num.h"

static int agent_cli_ip(const char *s, size_t n, union proxy_v2_sa *out)
{
	char ip[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, ip, &out->in4.sin_addr) == 1) {
		out->in4.sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &out->in6.sin6_addr) == 1) {
		out->in6.sin6_family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int agent_cli_parse_hostport(const char *s, union proxy_v2_sa *out)
{
	const char *colon, *host = s;
	size_t hl;
	uint64_t port;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		host = s + 1;
		hl = (size_t)(end - host);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (num_parse_cstr(colon + 1, 1, 65535, &port) < 0 ||
	    agent_cli_ip(host, hl, out) < 0)
		return -EINVAL;
	if (out->sa.sa_family == AF_INET)
		out->in4.sin_port = htons((uint16_t)port);
	else
		out->in6.sin6_port = htons((uint16_t)port);
	return 0;
}

int agent_cli_parse_cidr(const char *s, union proxy_v2_sa *out, unsigned *prefix)
{
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t p;

	if (agent_cli_ip(s, hl, out) < 0)
		return -EINVAL;
	unsigned max = out->sa.sa_family == AF_INET ? 32 : 128;
	if (!slash) {
		*prefix = max;
		return 0;
	}
	if (num_parse_cstr(slash + 1, 1, max, &p) < 0)
		return -EINVAL;
	*prefix = (unsigned)p;
	return 0;
}

int agent_cli_listen(const union proxy_v2_sa *addr)
{
	int one = 1, fam = addr->sa.sa_family, e;
	int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	socklen_t len = fam == AF_INET ? sizeof(addr->in4) : sizeof(addr->in6);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fam == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &addr->sa, len) < 0 || listen(fd, 512) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static struct loop_async agent_cli_sig_async;

static void agent_cli_on_signal(int sig)
{
	(void)sig;
	loop_async_send(&agent_cli_sig_async);
}

static void agent_cli_stop(struct loop_async *a)
{
	loop_stop(a->data);
}

int agent_cli_stop_on_signals(struct loop *loop)
{
	struct sigaction sa;
	int rc = loop_async_init(loop, &agent_cli_sig_async, agent_cli_stop, loop);

	if (rc < 0)
		return rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = agent_cli_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}
