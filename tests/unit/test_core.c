/* test_core.c - number parsing, encodings, buffers, pools, config, loop. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"

#include "core/addr.h"
#include "core/array.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/enc.h"
#include "core/loop.h"
#include "core/num.h"
#include "core/pool.h"
#include "core/secure.h"

TEST(num_decimal)
{
	uint64_t v = 7;
	CHECK_EQ_INT(num_parse_u64("0", 1, 0, 10, &v), 0);
	CHECK_EQ_U64(v, 0);
	CHECK_EQ_INT(num_parse_u64("18446744073709551615", 20, 0, UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, UINT64_MAX);
	CHECK_EQ_INT(num_parse_u64("18446744073709551616", 20, 0, UINT64_MAX, &v), -ERANGE);
	CHECK_EQ_INT(num_parse_u64("", 0, 0, 10, &v), -EINVAL);
	CHECK_EQ_INT(num_parse_u64("+1", 2, 0, 10, &v), -EINVAL);
	CHECK_EQ_INT(num_parse_u64("-1", 2, 0, 10, &v), -EINVAL);
	CHECK_EQ_INT(num_parse_u64(" 1", 2, 0, 10, &v), -EINVAL);
	CHECK_EQ_INT(num_parse_u64("1 ", 2, 0, 10, &v), -EINVAL);
	CHECK_EQ_INT(num_parse_u64("0x1", 3, 0, 10, &v), -EINVAL);
	CHECK_EQ_INT(num_parse_u64("11", 2, 0, 10, &v), -ERANGE);
	CHECK_EQ_INT(num_parse_u64("4", 1, 5, 10, &v), -ERANGE);
	CHECK_EQ_INT(num_parse_u64("99999999999999999999x", 21, 0, UINT64_MAX, &v), -EINVAL);
	/* A view is not NUL-terminated: only `len` bytes count. */
	CHECK_EQ_INT(num_parse_u64("123abc", 3, 0, 1000, &v), 0);
	CHECK_EQ_U64(v, 123);
}

TEST(num_hex)
{
	uint64_t v;
	CHECK_EQ_INT(num_parse_hex_u64("fF", 2, 0, UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 255);
	CHECK_EQ_INT(num_parse_hex_u64("ffffffffffffffff", 16, 0, UINT64_MAX, &v), 0);
	CHECK_EQ_INT(num_parse_hex_u64("10000000000000000", 17, 0, UINT64_MAX, &v), -ERANGE);
	CHECK_EQ_INT(num_parse_hex_u64("0x10", 4, 0, UINT64_MAX, &v), -EINVAL);
	CHECK_EQ_INT(num_parse_hex_u64("g", 1, 0, UINT64_MAX, &v), -EINVAL);
	CHECK_EQ_INT(num_parse_hex_u64("", 0, 0, UINT64_MAX, &v), -EINVAL);
	/* Leading zeros do not overflow. */
	CHECK_EQ_INT(num_parse_hex_u64("00000000000000000001", 20, 0, 10, &v), 0);
	CHECK_EQ_U64(v, 1);
}

TEST(num_units)
{
	uint64_t v;
	CHECK_EQ_INT(num_parse_duration("250ms", 0, UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 250 * NSEC_PER_MSEC);
	CHECK_EQ_INT(num_parse_duration("30", 0, UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 30 * NSEC_PER_SEC);
	CHECK_EQ_INT(num_parse_duration("2h", 0, UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 7200 * NSEC_PER_SEC);
	CHECK_EQ_INT(num_parse_duration("5x", 0, UINT64_MAX, &v), -EINVAL);
	CHECK_EQ_INT(num_parse_duration("s", 0, UINT64_MAX, &v), -EINVAL);
	CHECK_EQ_INT(num_parse_duration("99999999999d", 0, UINT64_MAX, &v), -ERANGE);
	CHECK_EQ_INT(num_parse_size("16M", 0, UINT64_MAX, &v), 0);
	CHECK_EQ_U64(v, 16u << 20);
	CHECK_EQ_INT(num_parse_size("2G", 0, 1u << 30, &v), -ERANGE);
}

TEST(num_duration_list)
{
	uint64_t v[4];

	CHECK_EQ_INT(num_parse_duration_list("30d, 7d,1h 5", 0, UINT64_MAX, v, 4), 4);
	CHECK_EQ_U64(v[0], 30ULL * 86400 * 1000000000ULL);
	CHECK_EQ_U64(v[2], 3600ULL * 1000000000ULL);
	CHECK_EQ_U64(v[3], 5ULL * 1000000000ULL);
	CHECK_EQ_INT(num_parse_duration_list(" ,, ", 0, UINT64_MAX, v, 4), -1);
	CHECK_EQ_INT(num_parse_duration_list("1s,2s,3s,4s,5s", 0, UINT64_MAX, v, 4), -1);
	CHECK_EQ_INT(num_parse_duration_list("1s,x", 0, UINT64_MAX, v, 4), -1);
	CHECK_EQ_INT(num_parse_duration_list("0s", 1, UINT64_MAX, v, 4), -1);
	CHECK_EQ_INT(num_parse_duration_list("123456789012345678901234567890123s", 0,
					     UINT64_MAX, v, 4), -1);
}

TEST(enc_hex_b64)
{
	uint8_t raw[32], back[32];
	char hex[HEX_LEN(32)], b64[B64_LEN(32)], u[B64URL_LEN(32)];

	for (int i = 0; i < 32; i++)
		raw[i] = (uint8_t)(i * 37 + 1);
	enc_hex_encode(hex, raw, 32);
	CHECK_EQ_INT(enc_hex_decode(back, 32, hex, 64), 0);
	CHECK_EQ_MEM(raw, back, 32);
	CHECK_EQ_INT(enc_hex_decode(back, 32, hex, 63), -EINVAL);
	hex[5] = 'z';
	CHECK_EQ_INT(enc_hex_decode(back, 32, hex, 64), -EINVAL);

	enc_b64std_encode(b64, raw, 32);
	CHECK_EQ_INT(strlen(b64), 44);
	CHECK_EQ_INT(enc_b64std_decode(back, sizeof(back), b64, 44), 32);
	CHECK_EQ_MEM(raw, back, 32);
	/* Non-canonical trailing bits are refused (WireGuard keys). */
	b64[42] = b64[42] == 'A' ? 'B' : (b64[42] ^ 1);
	CHECK(enc_b64std_decode(back, sizeof(back), b64, 44) < 0 ||
	      memcmp(raw, back, 32) != 0);
	CHECK_EQ_INT(enc_b64std_decode(back, sizeof(back), "Zm9v", 4), 3);
	CHECK_EQ_MEM(back, "foo", 3);
	CHECK_EQ_INT(enc_b64std_decode(back, sizeof(back), "Zg==", 4), 1);
	CHECK_EQ_INT(enc_b64std_decode(back, sizeof(back), "Zh==", 4), -EINVAL);
	CHECK_EQ_INT(enc_b64std_decode(back, sizeof(back), "Zg=", 3), -EINVAL);
	CHECK_EQ_INT(enc_b64std_decode(back, sizeof(back), "Z===", 4), -EINVAL);
	CHECK_EQ_INT(enc_b64std_decode(back, 2, "Zm9v", 4), -ENOBUFS);
	/* libsodium reads "\xf1" as "/": refused, not a second spelling
	 * (found by fuzz_conf's round trip). */
	CHECK_EQ_INT(enc_b64std_decode(back, sizeof(back), "Zm9\xf1", 4), -EINVAL);
	CHECK_EQ_INT(enc_b64url_decode(back, sizeof(back), "Zm9\xf1", 4), -EINVAL);

	enc_b64url_encode(u, (const uint8_t *)"\xfb\xff", 2);
	CHECK_EQ_STR(u, "-_8");
	CHECK_EQ_INT(enc_b64url_decode(back, sizeof(back), "-_8", 3), 2);
	CHECK_EQ_MEM(back, "\xfb\xff", 2);
	CHECK_EQ_INT(enc_b64url_decode(back, sizeof(back), "+/8", 3), -EINVAL);
	/* The alphabet check: every character of the alphabet, and nothing
	 * next to it (neighbours in ASCII, standard base64, padding, bytes
	 * above 0x7f, NUL inside the length). */
	CHECK(enc_b64url_chars("azAZ09-_", 8));
	CHECK(enc_b64url_chars("", 0));
	CHECK(enc_b64url_chars("ab+", 2));
	static const char *const not_url[] = { "+", "/", "=", "`", "{", "@", "[",
					       ":", ".", " ", "\xf1", "%2d" };
	for (size_t i = 0; i < sizeof(not_url) / sizeof(not_url[0]); i++)
		CHECK(!enc_b64url_chars(not_url[i], strlen(not_url[i])));
	CHECK(!enc_b64url_chars("ab\0c", 4));
}

/* The one host-name check routes, settings and ACME names share. */
TEST(addr_host_names)
{
	char label[80], name[300];

	CHECK(addr_host_name_ok("localhost", 9, 1));
	CHECK(!addr_host_name_ok("localhost", 9, 2));
	CHECK(addr_host_name_ok("a-1.example.com", 15, 2));
	CHECK(addr_host_name_ok("a.example.com.evil", 13, 2));	/* only `n` bytes count */
	CHECK(!addr_host_name_ok("", 0, 1));
	CHECK(!addr_host_name_ok("A.example.com", 13, 1));
	CHECK(!addr_host_name_ok("-a.example", 10, 1));
	CHECK(!addr_host_name_ok("a-.example", 10, 1));
	CHECK(!addr_host_name_ok("a..example", 10, 1));
	CHECK(!addr_host_name_ok(".example", 8, 1));
	CHECK(!addr_host_name_ok("example.", 8, 1));
	CHECK(!addr_host_name_ok("a_b.example", 11, 1));
	memset(label, 'a', 64);
	CHECK(!addr_host_name_ok(label, 64, 1));
	CHECK(addr_host_name_ok(label, 63, 1));
	/* 253 bytes: labels of 63, 63, 63 and 61 bytes; one more byte is too long. */
	memset(name, 'b', 254);
	name[63] = name[127] = name[191] = '.';
	CHECK(addr_host_name_ok(name, 253, 4));
	CHECK(!addr_host_name_ok(name, 254, 1));
}

TEST(array_push_grows_and_copies)
{
	struct { int64_t id; char tag; } *v = NULL, e = { 0, 'x' };
	size_t n = 0, cap = 0;

	/* Past the first 16: the doubling keeps what was pushed before. */
	for (e.id = 0; e.id < 40; e.id++)
		CHECK_EQ_INT(ARRAY_PUSH(v, n, cap, &e), 0);
	CHECK_EQ_INT(n, 40);
	CHECK(cap >= 40);
	for (size_t i = 0; i < n; i++)
		CHECK(v[i].id == (int64_t)i && v[i].tag == 'x');
	free(v);
}

TEST(buf_bounds)
{
	struct buf b;
	buf_init(&b, 16);
	CHECK_EQ_INT(buf_append(&b, "0123456789", 10), 0);
	CHECK_EQ_INT(buf_append(&b, "0123456789", 10), -ENOBUFS);
	CHECK_EQ_INT(b.len, 10);
	buf_consume(&b, 8);
	CHECK_EQ_INT(buf_append(&b, "abcdefghij", 10), 0);
	CHECK_EQ_INT(b.len, 12);
	CHECK_EQ_MEM(buf_head(&b), "89abcdefghij", 12);
	CHECK(b.cap <= 16);
	CHECK_EQ_INT(buf_printf(&b, "%d", 1234), 0);
	CHECK_EQ_INT(buf_printf(&b, "%d", 1), -ENOBUFS);
	CHECK_EQ_MEM(buf_head(&b), "89abcdefghij1234", 16);
	CHECK(buf_full(&b));
	buf_consume(&b, 100);
	CHECK_EQ_INT(b.len, 0);
	buf_free(&b);
}

TEST(buf_append_strs_all_or_nothing)
{
	struct buf b;
	struct str host = STR_LIT("a.test");

	buf_init(&b, 24);
	CHECK_EQ_INT(BUF_APPEND(&b, STR_LIT("Host: "), host, STR_LIT("\r\n")), 0);
	CHECK_EQ_INT(b.len, 14);
	CHECK_EQ_MEM(buf_head(&b), "Host: a.test\r\n", 14);
	/* Empty and NULL views add nothing. */
	CHECK_EQ_INT(BUF_APPEND(&b, STR_NULL, STR_LIT("")), 0);
	CHECK_EQ_INT(b.len, 14);
	/* 14 + 6 + 6 > 24: nothing of it is added. */
	CHECK_EQ_INT(BUF_APPEND(&b, STR_LIT("X: "), STR_LIT("abc"), STR_LIT("defghi")), -ENOBUFS);
	CHECK_EQ_INT(b.len, 14);
	/* Compacts when the head was consumed. */
	buf_consume(&b, 6);
	CHECK_EQ_INT(BUF_APPEND(&b, STR_LIT("X: "), STR_LIT("abc"), STR_LIT("defghi")), 0);
	CHECK_EQ_MEM(buf_head(&b), "a.test\r\nX: abcdefghi", 20);
	buf_free(&b);

	buf_init(&b, 64);
	CHECK_EQ_INT(buf_append_u64(&b, 0), 0);
	CHECK_EQ_INT(buf_append(&b, " ", 1), 0);
	CHECK_EQ_INT(buf_append_u64(&b, 1234567890), 0);
	CHECK_EQ_INT(buf_append(&b, " ", 1), 0);
	CHECK_EQ_INT(buf_append_u64(&b, UINT64_MAX), 0);
	CHECK_EQ_INT(b.len, 33);
	CHECK_EQ_MEM(buf_head(&b), "0 1234567890 18446744073709551615", 33);
	buf_free(&b);
	buf_init(&b, 3);
	CHECK_EQ_INT(buf_append_u64(&b, 1000), -ENOBUFS);
	CHECK_EQ_INT(b.len, 0);
	buf_free(&b);
}

TEST(pool_reuse_and_limit)
{
	struct pool p;
	void *a, *b, *c;
	CHECK_EQ_INT(pool_init(&p, 100, 2, 2), 0);
	a = pool_get(&p);
	b = pool_get(&p);
	c = pool_get(&p);
	CHECK(a && b && a != b);
	CHECK(c == NULL);
	CHECK(((uintptr_t)a & 63) == 0);
	memset(a, 0xaa, 100);
	memset(b, 0xbb, 100);
	pool_put(&p, a);
	CHECK(pool_get(&p) == a);
	CHECK_EQ_INT(p.in_use, 2);
	pool_destroy(&p);
}

TEST(secure_helpers)
{
	uint8_t a[32], b[32];
	CHECK_EQ_INT(secure_random(a, sizeof(a)), 0);
	memcpy(b, a, sizeof(a));
	CHECK(secure_eq(a, b, 32));
	b[31] ^= 1;
	CHECK(!secure_eq(a, b, 32));
	secure_wipe(a, sizeof(a));
	for (int i = 0; i < 32; i++)
		CHECK(a[i] == 0);
}

static const char conf_text[] =
	"# comment\n"
	"log_level = debug\n"
	"\n"
	"[hub]\n"
	"  listen = 0.0.0.0:443  \n"
	"name = \"my \\\"hub\\\"\"\n"
	"workers = 4\n"
	"timeout = 30s\n"
	"tls = on\n";

TEST(conf_parse_and_get)
{
	struct conf c;
	char err[256];
	uint64_t v;
	bool on = false;

	CHECK_EQ_INT(conf_parse(&c, "t.conf", conf_text, sizeof(conf_text) - 1,
				err, sizeof(err)), 0);
	CHECK_EQ_STR(conf_get(&c, "", "log_level"), "debug");
	CHECK_EQ_STR(conf_get(&c, "hub", "listen"), "0.0.0.0:443");
	CHECK_EQ_STR(conf_get(&c, "hub", "name"), "my \"hub\"");
	CHECK_EQ_INT(conf_get_u64(&c, "hub", "workers", 1, 64, &v, err, sizeof(err)), 0);
	CHECK_EQ_U64(v, 4);
	CHECK_EQ_INT(conf_get_u64(&c, "hub", "absent", 1, 64, &v, err, sizeof(err)), 1);
	CHECK_EQ_INT(conf_check_unused(&c, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "t.conf:8: unknown key 'timeout' in [hub]");
	CHECK_EQ_INT(conf_get_duration(&c, "hub", "timeout", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	CHECK_EQ_U64(v, 30 * NSEC_PER_SEC);
	CHECK_EQ_INT(conf_get_bool(&c, "hub", "tls", &on, err, sizeof(err)), 0);
	CHECK(on);
	CHECK_EQ_INT(conf_check_unused(&c, err, sizeof(err)), 0);
	conf_free(&c);
}

static void conf_expect_error(const char *text, const char *want)
{
	struct conf c;
	char err[256] = "";
	int r = conf_parse(&c, "x", text, strlen(text), err, sizeof(err));
	if (r != -1 || strcmp(err, want) != 0)
		UNIT_FAIL("conf %s: got %d \"%s\", want \"%s\"", text, r, err, want);
	if (r == 0)
		conf_free(&c);
}

TEST(conf_errors)
{
	struct conf c;
	char err[256];
	uint64_t v;

	conf_expect_error("a = 1\na = 2\n", "x:2: 'a' already set on line 1");
	conf_expect_error("[Bad]\n", "x:1: bad section header (want [name], name of a-z 0-9 _ . -)");
	conf_expect_error("novalue\n", "x:1: expected 'key = value'");
	conf_expect_error("k = \"open\n", "x:1: unterminated quoted value");
	conf_expect_error("k = a\"b\n", "x:1: stray '\"' in unquoted value");
	conf_expect_error("K = 1\n", "x:1: bad key (use lower-case a-z 0-9 _ . -, at most 64)");
	CHECK_EQ_INT(conf_parse(&c, "x", "w = 99\n", 7, err, sizeof(err)), 0);
	CHECK_EQ_INT(conf_get_u64(&c, "", "w", 1, 64, &v, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "x:1: w: want a whole number from 1 to 64");
	conf_free(&c);
	CHECK_EQ_INT(conf_parse(&c, "x", "a = 1\0b", 7, err, sizeof(err)), -1);
	CHECK_EQ_STR(err, "x:1: NUL byte");
}

/* ---- loop ---- */

static uint64_t fake_now;
static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return fake_now;
}

static int fired[8], fire_order[8], fire_n;
static void on_timer(struct loop_timer *t)
{
	int id = (int)(intptr_t)t->data;
	fired[id]++;
	fire_order[fire_n++] = id;
}

TEST(loop_timers_fake_clock)
{
	struct loop *l = loop_new();
	struct loop_timer t[5];

	fake_now = 1000;
	loop_set_clock(l, fake_clock, NULL);
	for (int i = 0; i < 5; i++)
		loop_timer_init(&t[i], on_timer, (void *)(intptr_t)i);
	loop_timer_arm(l, &t[0], 500);
	loop_timer_arm(l, &t[1], 100);
	loop_timer_arm(l, &t[2], 300);
	loop_timer_arm(l, &t[3], 200);
	loop_timer_arm(l, &t[4], 400);
	loop_timer_disarm(l, &t[3]);
	loop_timer_arm(l, &t[4], 50); /* re-arm moves it earlier */
	CHECK(!loop_timer_armed(&t[3]));
	fake_now = 1300;
	loop_run_once(l, 0);
	CHECK_EQ_INT(fire_n, 3);
	CHECK_EQ_INT(fire_order[0], 4);
	CHECK_EQ_INT(fire_order[1], 1);
	CHECK_EQ_INT(fire_order[2], 2);
	CHECK_EQ_INT(fired[0], 0);
	fake_now = 1500;
	loop_run_once(l, 0);
	CHECK_EQ_INT(fired[0], 1);
	CHECK_EQ_INT(fired[3], 0);
	loop_free(l);
}

struct pipe_ctx {
	struct loop *loop;
	struct loop_io a, b;
	int fds_a[2], fds_b[2];
	int calls;
};

/* The first callback removes the other watcher; its queued event must not run. */
static void on_readable(struct loop_io *io, uint32_t ev)
{
	struct pipe_ctx *c = io->data;
	(void)ev;
	c->calls++;
	loop_io_del(c->loop, io == &c->a ? &c->b : &c->a);
	loop_io_del(c->loop, io);
}

TEST(loop_io_del_in_callback)
{
	struct pipe_ctx c = { 0 };
	c.loop = loop_new();
	CHECK(pipe(c.fds_a) == 0 && pipe(c.fds_b) == 0);
	CHECK(write(c.fds_a[1], "x", 1) == 1 && write(c.fds_b[1], "y", 1) == 1);
	CHECK_EQ_INT(loop_io_add(c.loop, &c.a, c.fds_a[0], LOOP_READ, on_readable, &c), 0);
	CHECK_EQ_INT(loop_io_add(c.loop, &c.b, c.fds_b[0], LOOP_READ, on_readable, &c), 0);
	loop_run_once(c.loop, 0);
	CHECK_EQ_INT(c.calls, 1);
	for (int i = 0; i < 2; i++) {
		close(c.fds_a[i]);
		close(c.fds_b[i]);
	}
	loop_free(c.loop);
}

static int async_calls;
static void on_async(struct loop_async *a)
{
	async_calls++;
	loop_stop(a->data);
}

static void *poke(void *arg)
{
	loop_async_send(arg);
	loop_async_send(arg);
	return NULL;
}

TEST(loop_async_from_thread)
{
	struct loop *l = loop_new();
	struct loop_async a;
	pthread_t th;

	CHECK_EQ_INT(loop_async_init(l, &a, on_async, l), 0);
	pthread_create(&th, NULL, poke, &a);
	CHECK_EQ_INT(loop_run(l), 0);
	pthread_join(th, NULL);
	/* Two sends before the loop woke collapse into one callback, or two. */
	CHECK(async_calls >= 1 && async_calls <= 2);
	loop_async_close(l, &a);
	loop_free(l);
}

int main(void)
{
	RUN(num_decimal);
	RUN(num_hex);
	RUN(num_units);
	RUN(num_duration_list);
	RUN(enc_hex_b64);
	RUN(addr_host_names);
	RUN(array_push_grows_and_copies);
	RUN(buf_bounds);
	RUN(buf_append_strs_all_or_nothing);
	RUN(pool_reuse_and_limit);
	RUN(secure_helpers);
	RUN(conf_parse_and_get);
	RUN(conf_errors);
	RUN(loop_timers_fake_clock);
	RUN(loop_io_del_in_callback);
	RUN(loop_async_from_thread);
	return unit_done();
}
