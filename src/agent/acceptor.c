/* acceptor.c - listening sockets and the set of live streams. */
#define LOG_SUBSYS "agent"
#include "agent/acceptor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/stream.h"
#include "agent/target_tls.h"
#include "core/clock.h"
#include "core/log.h"

/* The accept back-off turns every listener off or on. */
static void acceptor_watch(void *ctx, bool on)
{
	struct acceptor *a = ctx;

	for (unsigned i = 0; i < a->nlis; i++)
		accept_backoff_set(a->loop, &a->lis[i], on);
}

int acceptor_init(struct acceptor *a, struct loop *loop,
		  const struct allow *allow)
{
	int rc;

	memset(a, 0, sizeof(*a));
	a->loop = loop;
	a->allow = allow;
	accept_backoff_init(&a->acc, loop, acceptor_watch, a, "agent streams");
	a->header_timeout_ns = 10 * NSEC_PER_SEC;
	a->connect_timeout_ns = 5 * NSEC_PER_SEC;
	a->tls_timeout_ns = 10 * NSEC_PER_SEC;
	a->max_streams = ACCEPTOR_STREAMS_MAX;
	a->tls = target_tls_ctx_new();
	if (!a->tls)
		return -ENOMEM;
	rc = resolve_init(&a->resolve, loop);
	if (rc < 0) {
		SSL_CTX_free(a->tls);
		a->tls = NULL;
	}
	return rc;
}

void acceptor_fini(struct acceptor *a)
{
	for (unsigned i = 0; i < a->nlis; i++) {
		loop_io_del(a->loop, &a->lis[i]);
		close(a->lis[i].fd);
	}
	a->nlis = 0;
	accept_backoff_fini(&a->acc);
	while (a->streams)
		stream_free(a->streams);
	resolve_fini(&a->resolve);
	SSL_CTX_free(a->tls);
	a->tls = NULL;
}

int acceptor_take(struct acceptor *a, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		close(fd);
		return -errno;
	}
	return stream_new(a, fd);
}

static void acceptor_accept(struct loop_io *io, uint32_t events)
{
	struct acceptor *a = io->data;

	(void)events;
	for (int i = 0; i < 64; i++) {
		int fd = accept_backoff_next(&a->acc, io->fd, NULL, NULL);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
			    !accept_backoff_paused(&a->acc))
				log_warn("accept: %s", strerror(errno));
			return;
		}
		/* Relayed bytes go out as they come: with Nagle on, a response
		 * head and its body in two writes waited for the hub's delayed
		 * ACK (tens of ms per request). Fails harmlessly on non-TCP fds. */
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		stream_new(a, fd);
	}
}

int acceptor_listen_fd(struct acceptor *a, int fd)
{
	int fl = fcntl(fd, F_GETFL), rc;

	if (a->nlis == ACCEPTOR_LISTEN_MAX) {
		close(fd);
		return -ENOSPC;
	}
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = loop_io_add(a->loop, &a->lis[a->nlis], fd, LOOP_READ,
			 acceptor_accept, a);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	a->nlis++;
	return 0;
}

void acceptor_note_target(struct acceptor *a, const char *target,
			  enum agent_status status)
{
	struct acceptor_target *t = NULL;

	for (unsigned i = 0; i < a->ntargets && !t; i++)
		if (!strcmp(a->targets[i].name, target))
			t = &a->targets[i];
	if (!t && a->ntargets < ACCEPTOR_TARGETS_MAX)
		t = &a->targets[a->ntargets++];
	if (!t) {
		t = &a->targets[0];
		for (unsigned i = 1; i < a->ntargets; i++)
			if (a->targets[i].when_ns < t->when_ns)
				t = &a->targets[i];
	}
	snprintf(t->name, sizeof(t->name), "%s", target);
	t->status = status;
	t->when_ns = loop_now(a->loop);
}

void acceptor_note_error(struct acceptor *a, const char *fmt, ...)
{
	va_list ap;

	if (a->nerrors == ACCEPTOR_ERRORS_MAX) {
		memmove(a->errors[0], a->errors[1],
			sizeof(a->errors[0]) * (ACCEPTOR_ERRORS_MAX - 1));
		a->nerrors--;
	}
	va_start(ap, fmt);
	vsnprintf(a->errors[a->nerrors++], ACCEPTOR_ERROR_LEN, fmt, ap);
	va_end(ap);
}

static int acceptor_cb_listen(void *ctx, int fd)
{
	return acceptor_listen_fd(ctx, fd);
}

static int acceptor_cb_take(void *ctx, int fd)
{
	return acceptor_take(ctx, fd);
}

struct netstack_accept acceptor_netstack(struct acceptor *a)
{
	return (struct netstack_accept){ .listen_fd = acceptor_cb_listen,
					 .take = acceptor_cb_take, .ctx = a };
}
