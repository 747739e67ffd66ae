/* fuzz_uapi.c - the UAPI set parser and the server's framing on any bytes.
 *
 * Input byte 0 picks the target: even = the bytes (after it) are a set
 * request body for uapi_parse_set, and a parsed request is formatted back
 * through a state built from it; odd = the bytes are a client's stream,
 * written to a server connection in pieces whose sizes come from byte 0,
 * with the loop run between pieces and answers drained. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The server's statics (uapi_accept_one, the connection list). */
#include "wg/uapi_server.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_get(void *dev, struct uapi_state *st)
{
	(void)dev;
	st->listen_port = 51820;
	st->has_private_key = true;
	memset(st->private_key, 0x42, sizeof(st->private_key));
	return 0;
}

static int fz_set(void *dev, const struct uapi_set *s)
{
	(void)dev;
	return s->has_fwmark && s->fwmark == 1 ? -EADDRINUSE : 0;
}

static const struct uapi_device_ops fz_ops = { fz_get, fz_set };

/* Formats the parsed request as if it were the device state. */
static void fz_format(const struct uapi_set *s)
{
	struct uapi_state st;
	struct buf b;

	memset(&st, 0, sizeof(st));
	st.has_private_key = s->has_private_key;
	st.listen_port = s->listen_port;
	st.fwmark = s->fwmark;
	st.n_peers = s->n_peers;
	st.peers = calloc(s->n_peers + 1, sizeof(*st.peers));
	if (!st.peers)
		return;
	for (size_t i = 0; i < s->n_peers; i++) {
		memcpy(st.peers[i].public_key, s->peers[i].public_key, UAPI_KEY_LEN);
		st.peers[i].endpoint = s->peers[i].endpoint;
		st.peers[i].allowed_ips = s->peers[i].allowed_ips;
		st.peers[i].n_allowed_ips = s->peers[i].n_allowed_ips;
	}
	buf_init(&b, 1u << 24);
	if (uapi_format_get(&st, &b) < 0)
		abort();
	buf_free(&b);
	free(st.peers);
}

static void fz_parse(const uint8_t *data, size_t size)
{
	struct uapi_set s;

	if (uapi_parse_set((const char *)data, size, &s) == 0) {
		fz_format(&s);
		uapi_set_free(&s);
	} else if (s.n_peers || s.peers) {
		abort();	/* a failed parse must leave nothing */
	}
}

static void fz_drain(int fd)
{
	char sink[4096];

	while (read(fd, sink, sizeof(sink)) > 0)
		;
}

static void fz_stream(struct loop *l, struct uapi_server *srv,
		      const uint8_t *data, size_t size, unsigned piece)
{
	int sv[2];
	size_t off = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		return;
	uapi_accept_one(srv, sv[0]);
	for (int spins = 0; off < size && spins < 10000; spins++) {
		size_t n = size - off < piece ? size - off : piece;
		ssize_t w = send(sv[1], data + off, n, MSG_NOSIGNAL);
		if (w > 0)
			off += (size_t)w;
		else if (errno != EAGAIN)
			break;	/* the server closed the connection */
		loop_run_once(l, 0);
		fz_drain(sv[1]);
	}
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 4; i++) {
		loop_run_once(l, 0);
		fz_drain(sv[1]);
	}
	close(sv[1]);
	loop_run_once(l, 0);
	while (srv->conns)
		uapi_conn_close(srv->conns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct loop *l;
	static struct uapi_server srv;

	if (size < 1)
		return 0;
	if (!l) {
		l = loop_new();
		if (!l)
			abort();
		srv.loop = l;
		srv.ops = &fz_ops;
		log_set_level(LOG_ERR);
	}
	if (!(data[0] & 1))
		fz_parse(data + 1, size - 1);
	else
		fz_stream(l, &srv, data + 1, size - 1, (unsigned)(data[0] >> 1) + 1);
	return 0;
}
