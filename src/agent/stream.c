/* stream.c - one hub -> target stream: header, allowlist, dial, relay. */
#define LOG_SUBSYS "agent"
#include "agent/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/target_tls.h"
#include "core/dlist.h"
#include "core/log.h"
#include "tls/tls.h"

static void stream_unlink(struct stream *s)
{
	struct acceptor *a = s->acc;

	DLIST_UNLINK(a->streams, s);
	a->stats.active--;
}

void stream_free(struct stream *s)
{
	struct loop *loop = s->acc->loop;

	stream_unlink(s);
	loop_timer_disarm(loop, &s->timer);
	if (s->rq)
		resolve_cancel(&s->acc->resolve, s->rq);
	if (s->ai)
		freeaddrinfo(s->ai);
	if (s->state == STREAM_RELAY) {
		relay_abort(&s->relay);	/* owns fd, tfd and ssl */
	} else {
		loop_io_del(loop, &s->io);
		loop_io_del(loop, &s->tio);
		tls_conn_free(s->ssl);
		if (s->tfd >= 0)
			close(s->tfd);
		close(s->fd);
		buf_free(&s->relay.to[0]);
		buf_free(&s->relay.to[1]);
	}
	free(s);
}

/* "1.2.3.4:80" / "[::1]:80" / "name:80" for log lines. */
static void stream_target_str(const struct stream *s, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	const union proxy_v2_sa *t = &s->hdr.target;
	uint16_t port = stream_hdr_port(t);

	if (s->hdr.host[0]) {
		snprintf(out, len, "%s:%u", s->hdr.host, port);
		return;
	}
	if (t->sa.sa_family == AF_INET)
		inet_ntop(AF_INET, &t->in4.sin_addr, ip, sizeof(ip));
	else if (t->sa.sa_family == AF_INET6)
		inet_ntop(AF_INET6, &t->in6.sin6_addr, ip, sizeof(ip));
	snprintf(out, len, t->sa.sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

static void stream_linger_read(struct loop_io *io, uint32_t events)
{
	struct stream *s = io->data;
	uint8_t sink[4096];
	ssize_t n;

	(void)events;
	do
		n = read(s->fd, sink, sizeof(sink));
	while (n > 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		stream_free(s);
}

static void stream_timeout(struct loop_timer *t);

/* Answers `status` (not OK), closes the target side, and lingers. */
static void stream_refuse(struct stream *s, enum agent_status status)
{
	struct loop *loop = s->acc->loop;
	uint8_t b = (uint8_t)status;
	char tgt[300];

	s->acc->stats.by_status[status]++;
	if (s->state != STREAM_HEADER || status != AGENT_STATUS_PROTOCOL) {
		stream_target_str(s, tgt, sizeof(tgt));
		acceptor_note_target(s->acc, tgt, status);
		log_info("stream to %s: %s%s%s", tgt, agent_status_name(status),
			 s->last_errno ? ": " : "",
			 s->last_errno ? strerror(s->last_errno) : "");
		/* Target trouble the hub's admin should see (policy refusals
		 * are counted, not errors). */
		if (status != AGENT_STATUS_NOT_ALLOWED && status != AGENT_STATUS_BUSY &&
		    status != AGENT_STATUS_TLS)
			acceptor_note_error(s->acc, "stream to %s: %s%s%s", tgt,
					    agent_status_name(status), s->last_errno ? ": " : "",
					    s->last_errno ? strerror(s->last_errno) : "");
	} else {
		log_info("stream: malformed header, closed");
	}
	loop_io_del(loop, &s->tio);
	if (s->tfd >= 0)
		close(s->tfd);
	s->tfd = -1;
	tls_conn_free(s->ssl);
	s->ssl = NULL;
	if (s->rq)
		resolve_cancel(&s->acc->resolve, s->rq);
	s->rq = NULL;
	(void)!send(s->fd, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(s->fd, SHUT_WR);
	s->state = STREAM_LINGER;
	loop_io_del(loop, &s->io);
	if (loop_io_add(loop, &s->io, s->fd, LOOP_READ, stream_linger_read, s) < 0) {
		stream_free(s);
		return;
	}
	loop_timer_arm(loop, &s->timer, STREAM_LINGER_NS);
}

static enum agent_status stream_errno_status(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return AGENT_STATUS_REFUSED;
	case ETIMEDOUT:
		return AGENT_STATUS_TIMEOUT;
	default:
		return AGENT_STATUS_UNREACHABLE;
	}
}

static void stream_relay_done(struct relay *r, int err)
{
	struct stream *s = container_of(r, struct stream, relay);

	s->acc->stats.bytes_up += r->end[0].bytes_in;
	s->acc->stats.bytes_down += r->end[1].bytes_in;
	if (err)
		log_debug("stream relay ended: %s", strerror(-err));
	s->state = STREAM_HEADER;	/* fds are closed: free only memory */
	s->fd = -1;
	s->tfd = -1;
	s->ssl = NULL;
	stream_unlink(s);
	loop_timer_disarm(s->acc->loop, &s->timer);
	if (s->ai)
		freeaddrinfo(s->ai);
	free(s);
}

/* Appends the PROXY v2 header for the target (client -> target). */
static int stream_put_proxy(struct stream *s)
{
	uint8_t out[PROXY_V2_MAX];
	union proxy_v2_sa src = s->hdr.client;
	int n;

	if (src.sa.sa_family == AF_INET && s->addr.sa.sa_family == AF_INET6) {
		/* Different families: the client as an IPv4-mapped address. */
		struct sockaddr_in v4 = src.in4;
		memset(&src, 0, sizeof(src));
		src.in6.sin6_family = AF_INET6;
		src.in6.sin6_port = v4.sin_port;
		src.in6.sin6_addr.s6_addr[10] = src.in6.sin6_addr.s6_addr[11] = 0xFF;
		memcpy(src.in6.sin6_addr.s6_addr + 12, &v4.sin_addr, 4);
	} else if (src.sa.sa_family == AF_INET6 && s->addr.sa.sa_family == AF_INET) {
		return -EAFNOSUPPORT;	/* an IPv6 client cannot be shown in v4 */
	}
	n = proxy_v2_encode(out, sizeof(out), PROXY_V2_PROXY, &src.sa, &s->addr.sa,
			    NULL, 0, 0);
	return n < 0 ? n : buf_append(&s->relay.to[1], out, (size_t)n);
}

/* Target connected (and TLS done): answer OK and splice. */
static void stream_start_relay(struct stream *s)
{
	struct loop *loop = s->acc->loop;
	struct relay *r = &s->relay;
	uint8_t ok = AGENT_STATUS_OK;
	size_t early = s->head_len - s->hdr_len;
	char tgt[300];

	if ((s->hdr.flags & AGENT_F_PROXY_V2) && stream_put_proxy(s) < 0) {
		s->last_errno = EAFNOSUPPORT;
		stream_refuse(s, AGENT_STATUS_UNREACHABLE);
		return;
	}
	if (buf_append(&r->to[1], s->head + s->hdr_len, early) < 0 ||
	    buf_append(&r->to[0], &ok, 1) < 0) {
		stream_refuse(s, AGENT_STATUS_BUSY);
		return;
	}
	loop_io_del(loop, &s->io);
	loop_io_del(loop, &s->tio);
	loop_timer_disarm(loop, &s->timer);
	if (relay_start(r, s->fd, NULL, s->tfd, s->ssl) < 0) {
		stream_refuse(s, AGENT_STATUS_BUSY);
		return;
	}
	s->state = STREAM_RELAY;
	stream_target_str(s, tgt, sizeof(tgt));
	acceptor_note_target(s->acc, tgt, AGENT_STATUS_OK);
	s->acc->stats.relayed++;
	s->acc->stats.by_status[AGENT_STATUS_OK]++;
}

static void stream_tls_step(struct stream *s)
{
	int want, rc = tls_conn_handshake(s->ssl, &want);

	if (rc == 0) {
		stream_start_relay(s);
		return;
	}
	if (rc == -EAGAIN) {
		loop_io_mod(s->acc->loop, &s->tio,
			    want == TLS_WANT_READ ? LOOP_READ : LOOP_WRITE);
		return;
	}
	long vr = SSL_get_verify_result(s->ssl);
	const char *why = vr != X509_V_OK ? X509_verify_cert_error_string(vr) :
					    "handshake error";
	char tgt[300];

	stream_target_str(s, tgt, sizeof(tgt));
	log_info("TLS to %s failed: %s", tgt, why);
	acceptor_note_error(s->acc, "TLS to %s failed: %s", tgt, why);
	stream_refuse(s, AGENT_STATUS_TLS);
}

static void stream_tls_start(struct stream *s)
{
	const char *name = s->hdr.tls_name[0] ? s->hdr.tls_name :
			   s->hdr.host[0] ? s->hdr.host : NULL;
	bool verify = !(s->hdr.flags & AGENT_F_TLS_NO_VERIFY);

	s->ssl = target_tls_new(s->acc->tls, s->tfd, name, &s->addr.sa, verify);
	if (!s->ssl) {
		stream_refuse(s, AGENT_STATUS_BUSY);
		return;
	}
	s->state = STREAM_TLS;
	loop_timer_arm(s->acc->loop, &s->timer, s->acc->tls_timeout_ns);
	stream_tls_step(s);
}

static void stream_dial_next(struct stream *s);

static void stream_target_event(struct loop_io *io, uint32_t events)
{
	struct stream *s = io->data;
	int err = 0;
	socklen_t el = sizeof(err);

	(void)events;
	if (s->state == STREAM_TLS) {
		stream_tls_step(s);
		return;
	}
	if (getsockopt(s->tfd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err == 0) {
		loop_timer_disarm(s->acc->loop, &s->timer);
		if (s->hdr.flags & AGENT_F_TLS)
			stream_tls_start(s);
		else
			stream_start_relay(s);
		return;
	}
	s->last_errno = err;
	stream_dial_next(s);
}

/* Starts a non-blocking connect to s->addr. Returns 0 or -errno. */
static int stream_connect(struct stream *s)
{
	socklen_t len = s->addr.sa.sa_family == AF_INET ?
		sizeof(s->addr.in4) : sizeof(s->addr.in6);
	int fd = socket(s->addr.sa.sa_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	int one = 1;

	if (fd < 0)
		return -errno;
	/* Relayed bytes go out as they come (see acceptor_accept). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, &s->addr.sa, len) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return -e;
	}
	s->tfd = fd;
	return loop_io_add(s->acc->loop, &s->tio, fd, LOOP_WRITE,
			   stream_target_event, s);
}

/* Takes the next allowed resolved address into s->addr. */
static bool stream_next_addr(struct stream *s)
{
	uint16_t port = htons(stream_hdr_port(&s->hdr.target));

	while (s->ai_cur) {
		const struct addrinfo *ai = s->ai_cur;
		s->ai_cur = ai->ai_next;
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		memset(&s->addr, 0, sizeof(s->addr));
		memcpy(&s->addr, ai->ai_addr, ai->ai_addrlen);
		if (ai->ai_family == AF_INET)
			s->addr.in4.sin_port = port;
		else
			s->addr.in6.sin6_port = port;
		if (allow_addr_check(s->acc->allow, &s->addr.sa))
			return true;
		s->last_errno = EACCES;
	}
	return false;
}

/* Tries the next address (name targets), or reports the last failure. */
static void stream_dial_next(struct stream *s)
{
	struct loop *loop = s->acc->loop;
	int rc;

	loop_io_del(loop, &s->tio);
	if (s->tfd >= 0)
		close(s->tfd);
	s->tfd = -1;
	for (;;) {
		if (!s->ai || !stream_next_addr(s)) {
			stream_refuse(s, s->last_errno == EACCES ?
				AGENT_STATUS_NOT_ALLOWED :
				stream_errno_status(s->last_errno));
			return;
		}
		rc = stream_connect(s);
		if (rc == 0)
			break;
		s->last_errno = -rc;
	}
	s->state = STREAM_CONNECT;
	loop_timer_arm(loop, &s->timer, s->acc->connect_timeout_ns);
}

static void stream_resolved(void *data, int gai_rc, struct addrinfo *res)
{
	struct stream *s = data;

	s->rq = NULL;
	if (gai_rc != 0 || !res) {
		log_info("resolving %s: %s", s->hdr.host, gai_strerror(gai_rc));
		stream_refuse(s, AGENT_STATUS_DNS);
		return;
	}
	s->ai = s->ai_cur = res;
	s->last_errno = EACCES;	/* until an allowed address is found */
	stream_dial_next(s);
}

/* The header is complete: decide and dial. */
static void stream_route(struct stream *s)
{
	struct acceptor *a = s->acc;
	uint16_t port = stream_hdr_port(&s->hdr.target);

	loop_io_mod(a->loop, &s->io, 0);	/* early bytes wait in the kernel */
	if (s->hdr.host[0]) {
		if (!allow_name_check(a->allow, str_cstr(s->hdr.host), port)) {
			stream_refuse(s, AGENT_STATUS_NOT_ALLOWED);
			return;
		}
		s->state = STREAM_RESOLVE;
		s->rq = resolve_start(&a->resolve, s->hdr.host, stream_resolved, s);
		if (!s->rq)
			stream_refuse(s, AGENT_STATUS_BUSY);
		return;
	}
	s->addr = s->hdr.target;
	if (!allow_addr_check(a->allow, &s->addr.sa)) {
		stream_refuse(s, AGENT_STATUS_NOT_ALLOWED);
		return;
	}
	int rc = stream_connect(s);
	if (rc < 0) {
		s->last_errno = -rc;
		stream_refuse(s, stream_errno_status(-rc));
		return;
	}
	s->state = STREAM_CONNECT;
	loop_timer_arm(a->loop, &s->timer, a->connect_timeout_ns);
}

static void stream_probe_answer(struct stream *s)
{
	uint8_t ok = AGENT_STATUS_OK;

	s->acc->stats.probes++;
	(void)!send(s->fd, &ok, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	shutdown(s->fd, SHUT_WR);
	s->state = STREAM_LINGER;
	loop_io_del(s->acc->loop, &s->io);
	if (loop_io_add(s->acc->loop, &s->io, s->fd, LOOP_READ,
			stream_linger_read, s) < 0) {
		stream_free(s);
		return;
	}
	loop_timer_arm(s->acc->loop, &s->timer, STREAM_LINGER_NS);
}

static void stream_header_read(struct loop_io *io, uint32_t events)
{
	struct stream *s = io->data;
	ssize_t n = read(s->fd, s->head + s->head_len, sizeof(s->head) - s->head_len);
	int rc;

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		stream_free(s);	/* the hub went away before asking */
		return;
	}
	s->head_len += (size_t)n;
	rc = stream_hdr_parse(s->head, s->head_len, &s->hdr);
	if (rc == 0)
		return;
	if (rc < 0) {
		stream_refuse(s, AGENT_STATUS_PROTOCOL);
		return;
	}
	s->hdr_len = (size_t)rc;
	loop_timer_disarm(s->acc->loop, &s->timer);
	if (s->hdr.probe)
		stream_probe_answer(s);
	else
		stream_route(s);
}

static void stream_timeout(struct loop_timer *t)
{
	struct stream *s = t->data;

	switch (s->state) {
	case STREAM_HEADER:
		log_info("stream: no complete header in time, closed");
		stream_free(s);
		break;
	case STREAM_CONNECT:
		s->last_errno = ETIMEDOUT;
		stream_dial_next(s);
		break;
	case STREAM_TLS:
		s->last_errno = ETIMEDOUT;
		stream_refuse(s, AGENT_STATUS_TLS);
		break;
	default:
		stream_free(s);	/* linger over */
		break;
	}
}

int stream_new(struct acceptor *a, int fd)
{
	struct stream *s;
	int rc;

	if (a->stats.active >= a->max_streams) {
		uint8_t busy = AGENT_STATUS_BUSY;
		(void)!send(fd, &busy, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		a->stats.by_status[AGENT_STATUS_BUSY]++;
		return -EBUSY;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->acc = a;
	s->fd = fd;
	s->tfd = -1;
	relay_init(&s->relay, a->loop, stream_relay_done, s);
	loop_timer_init(&s->timer, stream_timeout, s);
	rc = loop_io_add(a->loop, &s->io, fd, LOOP_READ, stream_header_read, s);
	if (rc < 0) {
		close(fd);
		free(s);
		return rc;
	}
	DLIST_PUSH(a->streams, s);
	a->stats.active++;
	a->stats.accepted++;
	loop_timer_arm(a->loop, &s->timer, a->header_timeout_ns);
	return 0;
}
