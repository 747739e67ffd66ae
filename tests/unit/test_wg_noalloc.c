/* test_wg_noalloc.c - the data path allocates nothing per packet (issue 2:
 * "a packet pool, no allocation per packet"): after a handshake and a
 * warm-up (pools grown, libcrypto's lazy state made), thousands of
 * packets both ways in single sends and in full batches, sealed and
 * opened, must not call malloc, calloc or realloc once, with or without a
 * crypto thread.
 *
 * Counting: in the release build this file defines malloc/calloc/realloc/
 * free over glibc's __libc_* entry points, so every allocation in the
 * process (libcrypto's included) passes here; under ASan or TSan, whose
 * runtimes own malloc, the sanitizer's allocation hook counts instead. */
#include <stdatomic.h>
#include <stddef.h>

#include "unit.h"
#include "wg_net.h"

static atomic_ulong noalloc_calls;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* From compiler-rt's sanitizer/allocator_interface.h, which gcc does not
 * install; libasan and libtsan export it. */
int __sanitizer_install_malloc_and_free_hooks(
	void (*malloc_hook)(const volatile void *, size_t),
	void (*free_hook)(const volatile void *));

static void noalloc_on_malloc(const volatile void *p, size_t n)
{
	(void)p;
	(void)n;
	atomic_fetch_add_explicit(&noalloc_calls, 1, memory_order_relaxed);
}

static void noalloc_on_free(const volatile void *p)
{
	(void)p;
}

static void noalloc_install(void)
{
	__sanitizer_install_malloc_and_free_hooks(noalloc_on_malloc,
						  noalloc_on_free);
}
#else
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t k, size_t n);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

void *malloc(size_t n);
void *calloc(size_t k, size_t n);
void *realloc(void *p, size_t n);
void free(void *p);

void *malloc(size_t n)
{
	atomic_fetch_add_explicit(&noalloc_calls, 1, memory_order_relaxed);
	return __libc_malloc(n);
}

void *calloc(size_t k, size_t n)
{
	atomic_fetch_add_explicit(&noalloc_calls, 1, memory_order_relaxed);
	return __libc_calloc(k, n);
}

void *realloc(void *p, size_t n)
{
	atomic_fetch_add_explicit(&noalloc_calls, 1, memory_order_relaxed);
	return __libc_realloc(p, n);
}

void free(void *p)
{
	__libc_free(p);
}

static void noalloc_install(void)
{
}
#endif

/* `rounds` x (a ping each way of a size that cycles through 21..1420,
 * then a batch of 128 from side 0 pumped across). */
static void noalloc_traffic(struct net *n, unsigned rounds)
{
	for (unsigned r = 0; r < rounds; r++) {
		struct pkt_batch b = { 0 };

		net_ping(n, 0, 1 + (r * 97) % 1400, (uint8_t)r);
		net_ping(n, 1, 1 + (r * 53) % 1400, (uint8_t)(r + 1));
		for (unsigned i = 0; i < PKT_BATCH; i++) {
			struct pkt *p = pool_get(wg_device_pool(n->s[0].dev));
			uint8_t *ip;

			p->off = PKT_HEADROOM;
			p->len = 1420;
			ip = pkt_data(p);
			memset(ip, 0, 20);
			ip[0] = 0x45;
			ip[2] = 1420 >> 8;
			ip[3] = 1420 & 0xff;
			ip[8] = 64;
			ip[9] = 17;
			inet_pton(AF_INET, "10.7.0.1", ip + 12);
			inet_pton(AF_INET, "10.7.0.2", ip + 16);
			memset(ip + 20, (int)i, 1400);
			b.p[b.n++] = p;
		}
		wg_device_send(n->s[0].dev, &b);
		net_pump(n);
	}
}

/* Returns the allocations made by `rounds` of traffic on a warmed-up pair
 * of devices with `threads` crypto threads each; the traffic must arrive. */
static unsigned noalloc_count(unsigned threads)
{
	struct net *n;
	unsigned before_delivered, calls;

	net_crypto_threads = threads;
	n = net_new(false);
	net_crypto_threads = 0;
	net_ping(n, 0, 100, 1);			/* handshake */
	net_ping(n, 1, 100, 2);			/* responder confirmed */
	noalloc_traffic(n, 20);			/* warm-up */
	before_delivered = n->s[0].delivered + n->s[1].delivered;
	atomic_store(&noalloc_calls, 0);
	noalloc_traffic(n, 100);
	calls = (unsigned)atomic_load(&noalloc_calls);
	/* The traffic really flowed: 100 x (2 pings + 128). */
	CHECK_EQ_INT(n->s[0].delivered + n->s[1].delivered - before_delivered,
		     100 * (2 + PKT_BATCH));
	net_free(n);
	return calls;
}

TEST(data_path_allocates_nothing_per_packet)
{
	struct net *n;

	noalloc_install();
	CHECK_EQ_INT(noalloc_count(0), 0);
	/* With a crypto thread (lanes.c) too. */
	CHECK_EQ_INT(noalloc_count(1), 0);
	/* And the counter counts: the device's own setup allocates. */
	atomic_store(&noalloc_calls, 0);
	n = net_new(false);
	CHECK(atomic_load(&noalloc_calls) > 0);
	net_free(n);
}

int main(void)
{
	RUN(data_path_allocates_nothing_per_packet);
	return unit_done();
}
