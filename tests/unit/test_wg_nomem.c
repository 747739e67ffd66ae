/* test_wg_nomem.c - a handshake message whose hash step cannot allocate is
 * dropped, never the process (crypto.c used to abort()). OpenSSL's
 * allocator is replaced before its first allocation by one that fails
 * the Nth call from a chosen point, and every step of the handshake is
 * run with every N until it succeeds. */
#include <errno.h>
#include <openssl/crypto.h>

#include "unit.h"
#include "wg_test_util.h"

#include "wg/crypto.h"
#include "wg/noise.h"
#include "wg/proto.h"

static long fail_after = -1;	/* allocations left before failing; -1: never */
static long failed;		/* allocations refused */

static int nomem_now(void)
{
	if (fail_after < 0)
		return 0;
	if (fail_after == 0) {
		failed++;
		return 1;
	}
	fail_after--;
	return 0;
}

static void *t_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return nomem_now() ? NULL : malloc(n);
}

static void *t_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return nomem_now() ? NULL : realloc(p, n);
}

static void t_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

struct pair {
	struct wg_noise_local li, lr;
	struct wg_handshake hi, hr;
};

static void pair_init(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	seq32(p->li.priv, 0x10);
	seq32(p->lr.priv, 0x40);
	CHECK_EQ_INT(wg_x25519_public(p->li.pub, p->li.priv), 0);
	CHECK_EQ_INT(wg_x25519_public(p->lr.pub, p->lr.priv), 0);
	p->li.has_key = p->lr.has_key = true;
	wg_noise_handshake_init(&p->hi, p->lr.pub);
	wg_noise_handshake_init(&p->hr, p->li.pub);
	wg_noise_precompute(&p->hi, &p->li);
	wg_noise_precompute(&p->hr, &p->lr);
	CHECK(p->hi.ss_valid && p->hr.ss_valid);
}

TEST(hash_and_kdf_report_nomem)
{
	uint8_t out[WG_HASH_LEN], o2[WG_HASH_LEN];

	memset(out, 0xaa, sizeof(out));
	fail_after = 0;
	CHECK_EQ_INT(wg_hash(out, "a", 1, NULL, 0), -ENOMEM);
	fail_after = -1;
	CHECK(out[0] == 0 && out[WG_HASH_LEN - 1] == 0);
	fail_after = 0;
	CHECK_EQ_INT(wg_hmac(out, (const uint8_t *)"k", 1, "a", 1), -ENOMEM);
	fail_after = -1;
	memset(out, 0xaa, sizeof(out));
	memset(o2, 0xaa, sizeof(o2));
	fail_after = 0;
	CHECK_EQ_INT(wg_kdf(out, o2, NULL, out, "a", 1), -ENOMEM);
	fail_after = -1;
	CHECK(out[0] == 0 && o2[0] == 0 && o2[WG_HASH_LEN - 1] == 0);
	CHECK_EQ_INT(wg_hash(out, "a", 1, NULL, 0), 0);
	CHECK(failed >= 3);
}

/* Runs `step` with allocation k failing, k = 0, 1, ...: every failing run
 * returns an error and leaves `hs` as it was; some k lets it succeed. */
#define EVERY_FAILURE(hs, step)                                               \
	do {                                                                  \
		struct wg_handshake before = *(hs);                           \
		int ok = 0, errs = 0;                                         \
		for (long k = 0; k < 2000 && !ok; k++) {                      \
			int r;                                                \
			fail_after = k;                                       \
			r = (step);                                           \
			fail_after = -1;                                      \
			if (r == 0) {                                         \
				ok = 1;                                       \
			} else {                                              \
				errs++;                                       \
				CHECK(r < 0);                                 \
				CHECK(!memcmp(&before, (hs), sizeof(before)));\
			}                                                     \
		}                                                             \
		CHECK(ok);                                                    \
		CHECK(errs > 0);                                              \
	} while (0)

TEST(handshake_survives_every_allocation_failure)
{
	struct pair p;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_noise_pending pend;
	uint8_t tai[WG_TAI64N_LEN] = { 0x40, 0, 0, 0, 1 };
	uint8_t si[32], ri[32], sr[32], rr[32];
	bool initiator;

	pair_init(&p);
	EVERY_FAILURE(&p.hi, wg_noise_initiation_create(&p.hi, &p.li, &init, 7, tai));
	CHECK_EQ_INT(p.hi.state, WG_HS_CREATED_INITIATION);
	EVERY_FAILURE(&p.hr, wg_noise_initiation_open(&p.lr, &init, &pend));
	CHECK_EQ_MEM(pend.remote_static, p.li.pub, 32);
	/* finish wipes `pend` even when it fails: open it again each time. */
	EVERY_FAILURE(&p.hr, (wg_noise_initiation_open(&p.lr, &init, &pend) ? -EIO :
			      wg_noise_initiation_finish(&p.hr, &init, &pend, 1000)));
	CHECK_EQ_INT(p.hr.state, WG_HS_CONSUMED_INITIATION);
	EVERY_FAILURE(&p.hr, wg_noise_response_create(&p.hr, &p.lr, &resp, 9));
	CHECK_EQ_INT(p.hr.state, WG_HS_CREATED_RESPONSE);
	EVERY_FAILURE(&p.hi, wg_noise_response_consume(&p.hi, &p.li, &resp));
	CHECK_EQ_INT(p.hi.state, WG_HS_CONSUMED_RESPONSE);
	/* Both sides still agree on the keys. */
	CHECK_EQ_INT(wg_noise_derive(&p.hi, si, ri, &initiator), 0);
	CHECK(initiator);
	CHECK_EQ_INT(wg_noise_derive(&p.hr, sr, rr, &initiator), 0);
	CHECK_EQ_MEM(si, rr, 32);
	CHECK_EQ_MEM(ri, sr, 32);
}

/* A failed derivation ends the handshake without keys (and says so). */
TEST(derive_without_memory_fails_cleanly)
{
	struct pair p;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_noise_pending pend;
	uint8_t tai[WG_TAI64N_LEN] = { 0x40, 0, 0, 0, 2 };
	uint8_t s[32], r[32];
	bool initiator;

	pair_init(&p);
	CHECK_EQ_INT(wg_noise_initiation_create(&p.hi, &p.li, &init, 7, tai), 0);
	CHECK_EQ_INT(wg_noise_initiation_open(&p.lr, &init, &pend), 0);
	CHECK_EQ_INT(wg_noise_initiation_finish(&p.hr, &init, &pend, 1000), 0);
	CHECK_EQ_INT(wg_noise_response_create(&p.hr, &p.lr, &resp, 9), 0);
	fail_after = 0;
	CHECK_EQ_INT(wg_noise_derive(&p.hr, s, r, &initiator), -ENOMEM);
	fail_after = -1;
	CHECK_EQ_INT(p.hr.state, WG_HS_ZEROED);
	CHECK(s[0] == 0 && r[0] == 0);
}

int main(void)
{
	/* Before anything allocates through OpenSSL. */
	if (!CRYPTO_set_mem_functions(t_malloc, t_realloc, t_free)) {
		printf("cannot replace OpenSSL's allocator\n");
		return 1;
	}
	if (wg_crypto_init() < 0) {
		printf("wg_crypto_init failed\n");
		return 1;
	}
	RUN(hash_and_kdf_report_nomem);
	RUN(handshake_survives_every_allocation_failure);
	RUN(derive_without_memory_fails_cleanly);
	return unit_done();
}
