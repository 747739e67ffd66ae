/* test_uapi.c - the userspace API: set parsing (every key, every error
 * class), get formatting (golden text), and the server's framing. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"
#include "unit.h"
#include "wg/uapi.h"

#define K1 "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
#define K2 "c3d4d2b8c0ff4a8ee1e2a6e22e1e22e3b4e5f6a7b8c9dadbecfd0e1f20314253"
#define K3 "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376"

static int parse(const char *text, struct uapi_set *s)
{
	return uapi_parse_set(text, strlen(text), s);
}

static int parse_rc(const char *text)
{
	struct uapi_set s;
	int r = parse(text, &s);

	if (r == 0)
		uapi_set_free(&s);
	else
		CHECK_EQ_INT(s.n_peers, 0);
	return r;
}

TEST(parse_every_key)
{
	struct uapi_set s;
	const char *req =
		"private_key=" K1 "\n"
		"listen_port=51820\n"
		"fwmark=4294967295\n"
		"replace_peers=true\n"
		"public_key=" K2 "\n"
		"preshared_key=" K3 "\n"
		"endpoint=192.0.2.7:51820\n"
		"persistent_keepalive_interval=25\n"
		"protocol_version=1\n"
		"allowed_ip=10.0.0.0/8\n"
		"replace_allowed_ips=true\n"
		"allowed_ip=10.1.0.0/16\n"
		"allowed_ip=fd00::/64\n"
		"public_key=" K3 "\n"
		"endpoint=[fd00::1]:1\n"
		"update_only=true\n"
		"public_key=" K1 "\n"
		"remove=true\n";
	uint8_t k1[32] = { 0xe8, 0x4b, 0x5a };
	struct in6_addr v6;

	CHECK_EQ_INT(parse(req, &s), 0);
	CHECK(s.has_private_key);
	CHECK_EQ_MEM(s.private_key, k1, 3);
	CHECK(s.has_listen_port);
	CHECK_EQ_INT(s.listen_port, 51820);
	CHECK(s.has_fwmark);
	CHECK_EQ_U64(s.fwmark, 4294967295u);
	CHECK(s.replace_peers);
	CHECK_EQ_INT(s.n_peers, 3);
	if (s.n_peers != 3)
		return;
	struct uapi_peer_set *p = &s.peers[0];
	CHECK_EQ_INT(p->public_key[0], 0xc3);
	CHECK(p->has_preshared_key);
	CHECK_EQ_INT(p->preshared_key[31], 0x76);
	CHECK(p->has_endpoint);
	CHECK_EQ_INT(p->endpoint.addr.sa.sa_family, AF_INET);
	CHECK_EQ_INT(ntohs(p->endpoint.addr.in4.sin_port), 51820);
	CHECK_EQ_U64(ntohl(p->endpoint.addr.in4.sin_addr.s_addr), 0xc0000207u);
	CHECK(p->has_keepalive);
	CHECK_EQ_INT(p->persistent_keepalive, 25);
	CHECK(p->replace_allowed_ips);
	CHECK_EQ_INT(p->n_allowed_ips, 2);	/* the one before replace is gone */
	CHECK_EQ_INT(p->allowed_ips[0].family, AF_INET);
	CHECK_EQ_INT(p->allowed_ips[0].cidr, 16);
	CHECK_EQ_U64(ntohl(p->allowed_ips[0].addr.in4.s_addr), 0x0a010000u);
	CHECK_EQ_INT(p->allowed_ips[1].family, AF_INET6);
	CHECK_EQ_INT(p->allowed_ips[1].cidr, 64);
	CHECK(!p->remove && !p->update_only);
	p = &s.peers[1];
	CHECK(p->update_only && !p->remove && !p->has_preshared_key);
	CHECK_EQ_INT(p->endpoint.addr.sa.sa_family, AF_INET6);
	inet_pton(AF_INET6, "fd00::1", &v6);
	CHECK_EQ_MEM(&p->endpoint.addr.in6.sin6_addr, &v6, 16);
	CHECK_EQ_INT(ntohs(p->endpoint.addr.in6.sin6_port), 1);
	CHECK(s.peers[2].remove);
	uapi_set_free(&s);
	CHECK_EQ_INT(s.n_peers, 0);
}

TEST(parse_zero_keys_and_empty)
{
	struct uapi_set s;
	static const uint8_t zero[32];

	CHECK_EQ_INT(parse("private_key=0000000000000000000000000000000000000000000000000000000000000000\n", &s), 0);
	CHECK(s.has_private_key);
	CHECK_EQ_MEM(s.private_key, zero, 32);
	uapi_set_free(&s);
	CHECK_EQ_INT(parse("", &s), 0);
	CHECK(!s.has_private_key && s.n_peers == 0);
	uapi_set_free(&s);
	/* the last line may lack its newline; upper-case hex is accepted */
	CHECK_EQ_INT(parse("listen_port=0", &s), 0);
	CHECK(s.has_listen_port && s.listen_port == 0);
	uapi_set_free(&s);
	CHECK_EQ_INT(parse_rc("public_key=E84B5A6D2717C1003A13B431570353DBACA9146CF150C5F8575680FEBA52027A\n"), 0);
}

TEST(parse_endpoints)
{
	struct uapi_set s;

	CHECK_EQ_INT(parse("public_key=" K1 "\nendpoint=[fe80::1%1]:7\n", &s), 0);
	if (s.n_peers == 1) {
		CHECK_EQ_INT(s.peers[0].endpoint.addr.in6.sin6_scope_id, 1);
		char txt[80];
		CHECK_EQ_INT(uapi_format_endpoint(&s.peers[0].endpoint, txt,
						  sizeof(txt)), 0);
		CHECK_EQ_STR(txt, "[fe80::1%1]:7");
	}
	uapi_set_free(&s);
	CHECK_EQ_INT(parse_rc("public_key=" K1 "\nendpoint=[fe80::1%lo]:7\n"), 0);
	static const char *const bad[] = {
		"1.2.3.4", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536",
		"1.2.3.4:+5", "1.2.3.4: 5", "1.2.3:5", "01.2.3.4:5",
		"example.com:51820", "fd00::1:51820", "[fd00::1]", "[fd00::1]5",
		"[fd00::1:5", "[1.2.3.4]:5", "[fd00::1%nosuchif0]:5", ":5",
		"[]:5", "1.2.3.4:5x", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char req[200];
		snprintf(req, sizeof(req), "public_key=" K1 "\nendpoint=%s\n", bad[i]);
		if (parse_rc(req) != -EINVAL)
			UNIT_FAIL("endpoint '%s' accepted", bad[i]);
	}
}

TEST(parse_bad_values)
{
	static const char *const bad[] = {
		"private_key=" K1 "0\n",		/* 65 hex digits */
		"private_key=" "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027\n",
		"private_key=g84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n",
		"private_key=\n",
		"listen_port=65536\n",
		"listen_port=-1\n",
		"listen_port=0x10\n",
		"listen_port= 1\n",
		"listen_port=\n",
		"fwmark=4294967296\n",
		"fwmark=99999999999999999999999\n",
		"replace_peers=false\n",
		"replace_peers=TRUE\n",
		"public_key=" K1 "\npersistent_keepalive_interval=65536\n",
		"public_key=" K1 "\nremove=1\n",
		"public_key=" K1 "\nupdate_only=yes\n",
		"public_key=" K1 "\nreplace_allowed_ips=false\n",
		"public_key=" K1 "\npreshared_key=xyz\n",
		"public_key=" K1 "\nallowed_ip=10.0.0.0/33\n",
		"public_key=" K1 "\nallowed_ip=fd00::/129\n",
		"public_key=" K1 "\nallowed_ip=10.0.0.0\n",
		"public_key=" K1 "\nallowed_ip=10.0.0.0/\n",
		"public_key=" K1 "\nallowed_ip=10.0.0/8\n",
		"public_key=" K1 "\nallowed_ip=[fd00::]/8\n",
		"public_key=" K1 "\nallowed_ip=fe80::1%1/64\n",
		"public_key=zz\n",
		"public_key=\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_rc(bad[i]) != -EINVAL)
			UNIT_FAIL("accepted: %s", bad[i]);
}

TEST(parse_structure_errors)
{
	/* unknown keys */
	CHECK_EQ_INT(parse_rc("no_such_key=1\n"), -EINVAL);
	CHECK_EQ_INT(parse_rc("public_key=" K1 "\nno_such_key=1\n"), -EINVAL);
	CHECK_EQ_INT(parse_rc("Private_key=" K1 "\n"), -EINVAL);
	/* keys in the wrong place */
	CHECK_EQ_INT(parse_rc("endpoint=1.2.3.4:5\n"), -EPROTO);
	CHECK_EQ_INT(parse_rc("allowed_ip=10.0.0.0/8\n"), -EPROTO);
	CHECK_EQ_INT(parse_rc("protocol_version=1\n"), -EPROTO);
	CHECK_EQ_INT(parse_rc("public_key=" K1 "\nlisten_port=1\n"), -EPROTO);
	CHECK_EQ_INT(parse_rc("public_key=" K1 "\nprivate_key=" K2 "\n"), -EPROTO);
	CHECK_EQ_INT(parse_rc("public_key=" K1 "\nreplace_peers=true\n"), -EPROTO);
	/* protocol versions */
	CHECK_EQ_INT(parse_rc("public_key=" K1 "\nprotocol_version=2\n"), -EPROTO);
	CHECK_EQ_INT(parse_rc("public_key=" K1 "\nprotocol_version=01\n"), -EPROTO);
	/* framing inside the body */
	CHECK_EQ_INT(parse_rc("listen_port\n"), -EPROTO);
	CHECK_EQ_INT(parse_rc("listen_port=1\n\nfwmark=1\n"), -EINVAL);
	CHECK_EQ_INT(parse_rc("listen_port=1\r\n"), -EINVAL);
	/* a late error leaves nothing behind (checked in parse_rc) */
	CHECK_EQ_INT(parse_rc("private_key=" K1 "\npublic_key=" K2 "\n"
			      "allowed_ip=10.0.0.0/8\npublic_key=" K3 "\n"
			      "endpoint=nope\n"), -EINVAL);
}

TEST(parse_oversized)
{
	size_t n = UAPI_REQUEST_MAX + 1;
	char *big = malloc(n);
	struct uapi_set s;

	memset(big, 'a', n);
	CHECK_EQ_INT(uapi_parse_set(big, n, &s), -EINVAL);
	free(big);
}

static void fill_state(struct uapi_state *st)
{
	static struct uapi_peer_state peers[2];
	static struct uapi_allowed_ip ips[3];

	memset(st, 0, sizeof(*st));
	memset(peers, 0, sizeof(peers));
	st->has_private_key = true;
	for (int i = 0; i < 32; i++) {
		st->private_key[i] = (uint8_t)i;
		peers[0].public_key[i] = (uint8_t)(0xa0 + (i & 15));
		peers[1].public_key[i] = 0xff;
		peers[0].preshared_key[i] = 0x11;
	}
	st->listen_port = 51820;
	st->fwmark = 0;
	peers[0].has_preshared_key = true;
	peers[0].endpoint.addr.in6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::5", &peers[0].endpoint.addr.in6.sin6_addr);
	peers[0].endpoint.addr.in6.sin6_port = htons(1234);
	peers[0].persistent_keepalive = 25;
	peers[0].last_handshake_sec = 1700000000;
	peers[0].last_handshake_nsec = 123456789;
	peers[0].rx_bytes = 1000;
	peers[0].tx_bytes = 2000;
	ips[0] = (struct uapi_allowed_ip){ .family = AF_INET, .cidr = 24 };
	inet_pton(AF_INET, "10.9.0.0", &ips[0].addr.in4);
	ips[1] = (struct uapi_allowed_ip){ .family = AF_INET6, .cidr = 64 };
	inet_pton(AF_INET6, "fd00:1::", &ips[1].addr.in6);
	peers[0].allowed_ips = ips;
	peers[0].n_allowed_ips = 2;
	peers[1].endpoint.addr.in4.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &peers[1].endpoint.addr.in4.sin_addr);
	peers[1].endpoint.addr.in4.sin_port = htons(51820);
	ips[2] = (struct uapi_allowed_ip){ .family = AF_INET, .cidr = 32 };
	inet_pton(AF_INET, "10.9.0.2", &ips[2].addr.in4);
	peers[1].allowed_ips = &ips[2];
	peers[1].n_allowed_ips = 1;
	st->peers = peers;
	st->n_peers = 2;
}

static const char golden[] =
	"private_key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	"listen_port=51820\n"
	"public_key=a0a1a2a3a4a5a6a7a8a9aaabacadaeafa0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n"
	"preshared_key=1111111111111111111111111111111111111111111111111111111111111111\n"
	"protocol_version=1\n"
	"endpoint=[2001:db8::5]:1234\n"
	"last_handshake_time_sec=1700000000\n"
	"last_handshake_time_nsec=123456789\n"
	"tx_bytes=2000\n"
	"rx_bytes=1000\n"
	"persistent_keepalive_interval=25\n"
	"allowed_ip=10.9.0.0/24\n"
	"allowed_ip=fd00:1::/64\n"
	"public_key=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n"
	"preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
	"protocol_version=1\n"
	"endpoint=192.0.2.1:51820\n"
	"last_handshake_time_sec=0\n"
	"last_handshake_time_nsec=0\n"
	"tx_bytes=0\n"
	"rx_bytes=0\n"
	"persistent_keepalive_interval=0\n"
	"allowed_ip=10.9.0.2/32\n";

TEST(format_golden)
{
	struct uapi_state st;
	struct buf b;

	fill_state(&st);
	buf_init(&b, 1 << 20);
	CHECK_EQ_INT(uapi_format_get(&st, &b), 0);
	CHECK_EQ_INT(b.len, strlen(golden));
	CHECK_EQ_MEM(buf_head(&b), golden, b.len < strlen(golden) ? b.len : strlen(golden));
	buf_free(&b);
	/* nothing set: nothing printed */
	memset(&st, 0, sizeof(st));
	buf_init(&b, 1 << 20);
	CHECK_EQ_INT(uapi_format_get(&st, &b), 0);
	CHECK_EQ_INT(b.len, 0);
	buf_free(&b);
	fill_state(&st);
	st.fwmark = 7;
	st.n_peers = 0;
	st.has_private_key = false;
	buf_init(&b, 1 << 20);
	CHECK_EQ_INT(uapi_format_get(&st, &b), 0);
	CHECK_EQ_INT(b.len, strlen("listen_port=51820\nfwmark=7\n"));
	CHECK_EQ_MEM(buf_head(&b), "listen_port=51820\nfwmark=7\n", b.len);
	buf_free(&b);
}

/* --------------------------------------------------- server framing */

struct fake_dev {
	int sets, gets;
	uint16_t port;
	int set_ret;
};

static int fake_get(void *dev, struct uapi_state *st)
{
	struct fake_dev *d = dev;

	d->gets++;
	st->listen_port = d->port;
	return 0;
}

static int fake_set(void *dev, const struct uapi_set *s)
{
	struct fake_dev *d = dev;

	d->sets++;
	if (d->set_ret)
		return d->set_ret;
	if (s->has_listen_port)
		d->port = s->listen_port;
	return 0;
}

static const struct uapi_device_ops fake_ops = { fake_get, fake_set };

static int connect_to(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/var/run/wireguard/%s.sock", name);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Pumps the loop until `want` bytes arrived, EOF, or a bound passed. */
static size_t pump(struct loop *l, int fd, char *out, size_t cap, size_t want,
		   bool *eof)
{
	size_t got = 0;

	*eof = false;
	for (int i = 0; i < 2000 && got < want && !*eof; i++) {
		loop_run_once(l, 1000000);
		ssize_t n = read(fd, out + got, cap - 1 - got);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			*eof = true;
	}
	out[got] = '\0';
	return got;
}

TEST(server_framing)
{
	struct loop *l = loop_new();
	struct uapi_server *srv;
	struct fake_dev d = { .port = 7 };
	char name[16], out[4096];
	bool eof;
	int fd;

	snprintf(name, sizeof(name), "ut%d", (int)getpid() % 100000);
	CHECK_EQ_INT(uapi_server_start(l, name, &fake_ops, &d, &srv), 0);
	/* the socket file is 0600 and a second server is refused */
	struct stat sb;
	char path[128];
	snprintf(path, sizeof(path), "/var/run/wireguard/%s.sock", name);
	CHECK_EQ_INT(stat(path, &sb), 0);
	CHECK_EQ_INT(sb.st_mode & 0777, 0600);
	struct uapi_server *srv2;
	CHECK_EQ_INT(uapi_server_start(l, name, &fake_ops, &d, &srv2), -EADDRINUSE);

	/* two requests in one write, then a third byte by byte */
	fd = connect_to(name);
	CHECK(fd >= 0);
	const char *two = "set=1\nlisten_port=9\n\nget=1\n\n";
	CHECK_EQ_INT(write(fd, two, strlen(two)), strlen(two));
	pump(l, fd, out, sizeof(out), strlen("errno=0\n\nlisten_port=9\nerrno=0\n\n"), &eof);
	CHECK_EQ_STR(out, "errno=0\n\nlisten_port=9\nerrno=0\n\n");
	const char *bad = "set=1\nlisten_port=x\n\n";
	for (size_t i = 0; bad[i]; i++) {
		CHECK_EQ_INT(write(fd, bad + i, 1), 1);
		loop_run_once(l, 0);
	}
	pump(l, fd, out, sizeof(out), strlen("errno=-22\n\n"), &eof);
	CHECK_EQ_STR(out, "errno=-22\n\n");
	CHECK_EQ_INT(d.port, 9);
	/* the device's own error comes back negated, as wireguard-go does */
	d.set_ret = -EADDRINUSE;
	CHECK_EQ_INT(write(fd, "set=1\nlisten_port=1\n\n", 21), 21);
	pump(l, fd, out, sizeof(out), strlen("errno=-98\n\n"), &eof);
	CHECK_EQ_STR(out, "errno=-98\n\n");
	/* an unknown operation closes the connection */
	CHECK_EQ_INT(write(fd, "bogus=1\n\n", 9), 9);
	pump(l, fd, out, sizeof(out), 1, &eof);
	CHECK(eof);
	CHECK_EQ_INT(strlen(out), 0);
	close(fd);

	/* "get=1" followed by anything but the blank line: EINVAL, close */
	fd = connect_to(name);
	CHECK_EQ_INT(write(fd, "get=1\nx", 7), 7);
	pump(l, fd, out, sizeof(out), 100, &eof);
	CHECK_EQ_STR(out, "errno=-22\n\n");
	CHECK(eof);
	close(fd);

	/* a request with no end, past the bound: EMSGSIZE, close */
	fd = connect_to(name);
	fcntl(fd, F_SETFL, 0);
	int sets = d.sets;
	static char chunk[1 << 16];
	memset(chunk, 'a', sizeof(chunk));
	CHECK_EQ_INT(write(fd, "set=1\nlisten_port=", 18), 18);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	size_t sent = 18;
	for (int i = 0; i < 100000 && sent <= UAPI_REQUEST_MAX; i++) {
		ssize_t n = write(fd, chunk, sizeof(chunk));
		if (n > 0)
			sent += (size_t)n;
		loop_run_once(l, 0);
	}
	pump(l, fd, out, sizeof(out), strlen("errno=-90\n\n"), &eof);
	CHECK_EQ_STR(out, "errno=-90\n\n");
	CHECK_EQ_INT(d.sets, sets);
	close(fd);

	/* a client that half-closes after its request still gets the answer */
	fd = connect_to(name);
	CHECK_EQ_INT(write(fd, "get=1\n\n", 7), 7);
	shutdown(fd, SHUT_WR);
	pump(l, fd, out, sizeof(out), 100, &eof);
	CHECK_EQ_STR(out, "listen_port=9\nerrno=0\n\n");
	close(fd);

	uapi_server_stop(srv);
	CHECK(access(path, F_OK) != 0);
	loop_free(l);
}

int main(void)
{
	RUN(parse_every_key);
	RUN(parse_zero_keys_and_empty);
	RUN(parse_endpoints);
	RUN(parse_bad_values);
	RUN(parse_structure_errors);
	RUN(parse_oversized);
	RUN(format_golden);
	RUN(server_framing);
	return unit_done();
}
