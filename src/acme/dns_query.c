/* dns_query.c - one question to one server, UDP then TCP. */
#include "acme/dns_query.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/num.h"
#include "core/secure.h"

int dns_server_parse(const char *s, struct sockaddr_storage *sa,
		     unsigned *salen)
{
	char host[64];
	const char *port = NULL;
	uint64_t pn = 53;
	size_t hl;

	memset(sa, 0, sizeof(*sa));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || (rb[1] && rb[1] != ':'))
			return -EINVAL;
		hl = (size_t)(rb - s - 1);
		s++;
		port = rb[1] ? rb + 2 : NULL;
	} else {
		const char *colon = strchr(s, ':');
		bool v6 = colon && strchr(colon + 1, ':');
		hl = colon && !v6 ? (size_t)(colon - s) : strlen(s);
		port = colon && !v6 ? colon + 1 : NULL;
	}
	if (hl == 0 || hl >= sizeof(host) ||
	    (port && num_parse_cstr(port, 1, 65535, &pn)))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)pn);
		*salen = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)pn);
		*salen = sizeof(*v6);
	} else {
		return -EINVAL;
	}
	return 0;
}

static int sock_wait(int fd, short ev, uint64_t deadline)
{
	uint64_t now = clock_mono_ns();
	struct pollfd pfd = { .fd = fd, .events = ev };
	int rc;

	if (now >= deadline)
		return -ETIMEDOUT;
	rc = poll(&pfd, 1, (int)((deadline - now) / NSEC_PER_MSEC) + 1);
	if (rc < 0)
		return -errno;
	return rc == 0 ? -ETIMEDOUT : 0;
}

static int dns_connect(const char *server, int type, uint64_t deadline)
{
	struct sockaddr_storage sa;
	unsigned salen;
	int fd, rc;

	if (dns_server_parse(server, &sa, &salen))
		return -EINVAL;
	fd = socket(sa.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, salen) < 0) {
		rc = errno == EINPROGRESS ? sock_wait(fd, POLLOUT, deadline) : -errno;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
		    soerr)
			rc = -soerr;
		if (rc) {
			close(fd);
			return rc;
		}
	}
	return fd;
}

static int io_all(int fd, uint8_t *p, size_t n, bool wr, uint64_t deadline)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = wr ? send(fd, p + done, n - done, MSG_NOSIGNAL)
			       : recv(fd, p + done, n - done, 0);
		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		int rc = sock_wait(fd, wr ? POLLOUT : POLLIN, deadline);
		if (rc)
			return rc;
	}
	return 0;
}

int dns_exchange_tcp(const char *server, const uint8_t *msg, size_t len,
		     unsigned timeout_ms, uint8_t *out, size_t cap)
{
	uint64_t deadline = clock_mono_ns() + timeout_ms * NSEC_PER_MSEC;
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	int fd = dns_connect(server, SOCK_STREAM, deadline), rc;
	size_t n;

	if (fd < 0)
		return fd;
	if ((rc = io_all(fd, hdr, 2, true, deadline)) ||
	    (rc = io_all(fd, (uint8_t *)msg, len, true, deadline)) ||
	    (rc = io_all(fd, hdr, 2, false, deadline)))
		goto out;
	n = (size_t)hdr[0] << 8 | hdr[1];
	if (n > cap) {
		rc = -EMSGSIZE;
		goto out;
	}
	rc = io_all(fd, out, n, false, deadline);
	if (rc == 0)
		rc = (int)n;
out:
	close(fd);
	return rc;
}

static int dns_udp(const char *server, const uint8_t *q, size_t qlen,
		   uint64_t deadline, uint8_t *out, size_t cap, uint16_t id)
{
	int fd = dns_connect(server, SOCK_DGRAM, deadline), rc;

	if (fd < 0)
		return fd;
	if (send(fd, q, qlen, 0) < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {	/* drop stray datagrams with another id */
		if ((rc = sock_wait(fd, POLLIN, deadline)))
			goto out;
		ssize_t r = recv(fd, out, cap, 0);
		if (r < 0) {
			rc = errno == EAGAIN ? 0 : -errno;
			if (rc)
				goto out;
			continue;
		}
		if (r >= 2 && (uint16_t)(out[0] << 8 | out[1]) == id) {
			rc = (int)r;
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

int dns_query(const char *server, const char *name, unsigned qtype,
	      unsigned timeout_ms, struct dns_answer *a)
{
	uint8_t q[512], *resp = malloc(DNS_MSG_MAX);
	uint16_t id;
	int qlen, n, rc = -ENOMEM;

	if (!resp)
		return -ENOMEM;
	secure_random(&id, sizeof(id));
	qlen = dns_msg_query(q, sizeof(q), id, name, (uint16_t)qtype, false);
	if (qlen < 0) {
		rc = qlen;
		goto out;
	}
	n = dns_udp(server, q, (size_t)qlen,
		    clock_mono_ns() + timeout_ms * NSEC_PER_MSEC, resp,
		    DNS_MSG_MAX, id);
	if (n < 0) {
		rc = n;
		goto out;
	}
	rc = dns_msg_parse(resp, (size_t)n, id, name, (uint16_t)qtype, a);
	if (rc == 0 && a->tc) {
		n = dns_exchange_tcp(server, q, (size_t)qlen, timeout_ms, resp,
				     DNS_MSG_MAX);
		rc = n < 0 ? n : dns_msg_parse(resp, (size_t)n, id, name,
					       (uint16_t)qtype, a);
	}
out:
	free(resp);
	return rc;
}

bool dns_answer_has_txt(const struct dns_answer *a, const char *name,
			const char *value)
{
	for (size_t i = 0; i < a->n_answer; i++)
		if (a->rr[i].type == DNS_T_TXT && !strcasecmp(a->rr[i].name, name) &&
		    !strcmp(a->rr[i].data, value))
			return true;
	return false;
}

/* The zone's authoritative servers: NS via the system resolver, each name
 * resolved to its addresses. Returns the count (0 when nothing found). */
size_t dns_zone_servers(const char *zone, char store[][64], size_t max)
{
	uint8_t ans[4096];
	struct dns_answer a;
	size_t n = 0;
	int len = res_query(zone, ns_c_in, ns_t_ns, ans, sizeof(ans));
	uint16_t id = len >= 2 ? (uint16_t)(ans[0] << 8 | ans[1]) : 0;

	if (len <= 0 || dns_msg_parse(ans, (size_t)len, id, zone, DNS_T_NS, &a))
		return 0;
	for (size_t i = 0; i < a.n_answer && n < max; i++) {
		struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res, *r;

		if (a.rr[i].type != DNS_T_NS ||
		    getaddrinfo(a.rr[i].data, "53", &hints, &res))
			continue;
		for (r = res; r && n < max; r = r->ai_next) {
			char ip[INET6_ADDRSTRLEN];
			void *addr = r->ai_family == AF_INET
				? (void *)&((struct sockaddr_in *)r->ai_addr)->sin_addr
				: (void *)&((struct sockaddr_in6 *)r->ai_addr)->sin6_addr;

			inet_ntop(r->ai_family, addr, ip, sizeof(ip));
			snprintf(store[n++], 64, r->ai_family == AF_INET ? "%s" : "[%s]:53", ip);
		}
		freeaddrinfo(res);
	}
	return n;
}

