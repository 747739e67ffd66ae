/* test_auth.c - the login throttle's arithmetic (auth_throttle.c) and the
 * password threads (auth_pwcheck.c) on a real loop. Their lanes (clean
 * sources first) are core/workq's: test_workq.c. */
#include <errno.h>
#include <stdlib.h>

#include "unit.h"

#include "auth/auth_pwcheck.h"
#include "auth/auth_throttle.h"
#include "auth/password.h"
#include "core/clock.h"
#include "core/loop.h"

static struct auth_throttle tt;
static const struct auth_throttle_policy pol = { .free = 3, .max_delay_ms = 60000 };

TEST(delay_schedule_doubles_from_the_first_paid_failure)
{
	static const int64_t want[] = { 0, 0, 0, 0, 1000, 2000, 4000, 8000, 16000,
					32000, 60000, 60000 };

	for (uint32_t f = 0; f < sizeof(want) / sizeof(want[0]); f++)
		CHECK_EQ_U64((uint64_t)auth_throttle_delay_ms(&pol, f), (uint64_t)want[f]);
	/* No overflow however many failures, and the cap holds. */
	CHECK_EQ_U64((uint64_t)auth_throttle_delay_ms(&pol, UINT32_MAX), 60000);
	struct auth_throttle_policy huge = { .free = 1, .max_delay_ms = INT64_MAX };
	CHECK(auth_throttle_delay_ms(&huge, UINT32_MAX) > 0);
	CHECK_EQ_U64((uint64_t)auth_throttle_delay_ms(&huge, UINT32_MAX),
		     (uint64_t)AUTH_THROTTLE_BASE_MS << 30);
	/* A cap below the base still delays by the cap. */
	struct auth_throttle_policy tiny = { .free = 0, .max_delay_ms = 1000 };
	CHECK_EQ_U64((uint64_t)auth_throttle_delay_ms(&tiny, 5), 1000);
}

TEST(retry_after_rounds_up)
{
	CHECK_EQ_U64((uint64_t)auth_throttle_retry_after(0), 0);
	CHECK_EQ_U64((uint64_t)auth_throttle_retry_after(1), 1);
	CHECK_EQ_U64((uint64_t)auth_throttle_retry_after(1000), 1);
	CHECK_EQ_U64((uint64_t)auth_throttle_retry_after(1001), 2);
	CHECK_EQ_U64((uint64_t)auth_throttle_retry_after(-5), 0);
}

TEST(wait_fail_clear)
{
	int64_t t = 1000000;
	bool first = true;

	memset(&tt, 0, sizeof(tt));
	CHECK_EQ_U64((uint64_t)auth_throttle_wait_ms(&tt, &pol, "ip:a", t), 0);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_U64((uint64_t)auth_throttle_fail(&tt, &pol, "ip:a", t, &first), 0);
		CHECK(!first);
		CHECK_EQ_U64((uint64_t)auth_throttle_wait_ms(&tt, &pol, "ip:a", t), 0);
	}
	CHECK_EQ_U64((uint64_t)auth_throttle_fail(&tt, &pol, "ip:a", t, &first), 1000);
	CHECK(first);
	CHECK_EQ_U64((uint64_t)auth_throttle_wait_ms(&tt, &pol, "ip:a", t + 400), 600);
	CHECK_EQ_U64((uint64_t)auth_throttle_wait_ms(&tt, &pol, "ip:a", t + 1000), 0);
	/* Other keys are untouched. */
	CHECK_EQ_U64((uint64_t)auth_throttle_wait_ms(&tt, &pol, "ip:b", t), 0);
	CHECK_EQ_U64((uint64_t)auth_throttle_wait_ms(&tt, &pol, "user:x@ip:a", t), 0);
	t += 1000;
	CHECK_EQ_U64((uint64_t)auth_throttle_fail(&tt, &pol, "ip:a", t, &first), 2000);
	CHECK(!first);
	CHECK_EQ_U64((uint64_t)auth_throttle_wait_ms(&tt, &pol, "ip:a", t + 1), 1999);
	auth_throttle_clear(&tt, "ip:a");
	CHECK_EQ_U64((uint64_t)auth_throttle_wait_ms(&tt, &pol, "ip:a", t + 1), 0);
	CHECK_EQ_U64((uint64_t)auth_throttle_fail(&tt, &pol, "ip:a", t, NULL), 0);
}

TEST(a_quiet_spell_forgives)
{
	int64_t t = 5000000;

	memset(&tt, 0, sizeof(tt));
	for (int i = 0; i < 6; i++)
		auth_throttle_fail(&tt, &pol, "ip:q", t, NULL);	/* delay 4 s */
	/* Within delay + max_delay the count goes on... */
	CHECK_EQ_U64((uint64_t)auth_throttle_fail(&tt, &pol, "ip:q", t + 4000 + 59999, NULL),
		     8000);
	t += 4000 + 59999;
	/* ...after it, the key starts again from zero. */
	CHECK_EQ_U64((uint64_t)auth_throttle_fail(&tt, &pol, "ip:q", t + 8000 + 60000, NULL), 0);
}

TEST(a_full_table_evicts_the_oldest)
{
	char key[32];
	int64_t t = 100;

	memset(&tt, 0, sizeof(tt));
	for (int i = 0; i < 5; i++)
		auth_throttle_fail(&tt, &pol, "ip:old", t, NULL);
	CHECK(auth_throttle_wait_ms(&tt, &pol, "ip:old", t) > 0);
	for (int i = 0; i < 5; i++)
		auth_throttle_fail(&tt, &pol, "ip:keep", t + 1, NULL);
	for (int i = 0; i < AUTH_THROTTLE_SLOTS - 2; i++) {
		snprintf(key, sizeof(key), "ip:%d", i);
		auth_throttle_fail(&tt, &pol, key, t + 2, NULL);
	}
	CHECK(auth_throttle_wait_ms(&tt, &pol, "ip:old", t + 2) > 0);	/* still fits */
	auth_throttle_fail(&tt, &pol, "ip:new", t + 3, NULL);
	CHECK_EQ_U64((uint64_t)auth_throttle_wait_ms(&tt, &pol, "ip:old", t + 3), 0);
	CHECK(auth_throttle_wait_ms(&tt, &pol, "ip:keep", t + 3) > 0);
}

TEST(address_keys)
{
	char out[AUTH_THROTTLE_KEY];

	CHECK_EQ_INT(auth_throttle_addr("ip:", "203.0.113.9", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "ip:203.0.113.9");
	CHECK_EQ_INT(auth_throttle_addr("ip:", "::ffff:203.0.113.9", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "ip:203.0.113.9");
	CHECK_EQ_INT(auth_throttle_addr("ip:", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", out,
					sizeof(out)), 0);
	CHECK_EQ_STR(out, "ip:2001:db8:1:2::/64");
	CHECK_EQ_INT(auth_throttle_addr("u@", "2001:db8:1:2::1", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "u@2001:db8:1:2::/64");
	CHECK_EQ_INT(auth_throttle_addr("ip:", "unix:pid=4", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "ip:unix:pid=4");
	CHECK_EQ_INT(auth_throttle_addr("ip:", NULL, out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "ip:");
	CHECK_EQ_INT(auth_throttle_addr("ip:", "203.0.113.9", out, 8), -1);
}

/* --- the password threads --- */

struct pw_seen {
	int n;
	int ok, wrong, aborted;
};

static void pw_done(void *arg, enum auth_pw_result r)
{
	struct pw_seen *s = arg;

	s->n++;
	s->ok += r == AUTH_PW_OK;
	s->wrong += r == AUTH_PW_WRONG;
	s->aborted += r == AUTH_PW_ABORTED;
}

static void pw_run_until(struct loop *loop, const struct pw_seen *s, int n)
{
	uint64_t deadline = clock_mono_ns() + 120 * NSEC_PER_SEC;

	while (s->n < n && clock_mono_ns() < deadline)
		loop_run_once(loop, 100 * NSEC_PER_MSEC);
}

TEST(pool_checks_on_threads_and_reports_on_the_loop)
{
	struct loop *loop = loop_new();
	struct auth_pwcheck *p = loop ? auth_pwcheck_new(loop, 2, 4) : NULL;
	char *hash = password_hash("right password", 14);
	struct pw_seen s = { 0 };

	CHECK(p && hash);
	if (!p || !hash)
		goto out;
	CHECK_EQ_INT(auth_pwcheck_submit(p, hash, "right password", 14, "ip:1", false, pw_done, &s), 0);
	CHECK_EQ_INT(auth_pwcheck_submit(p, hash, "wrong password", 14, "ip:2", false, pw_done, &s), 0);
	CHECK_EQ_INT(auth_pwcheck_submit(p, NULL, "no such user", 12, "ip:3", false, pw_done, &s), 0);
	/* One check per source at a time; a bounded queue. */
	CHECK_EQ_INT(auth_pwcheck_submit(p, hash, "again", 5, "ip:1", false, pw_done, &s), -EBUSY);
	CHECK_EQ_INT(auth_pwcheck_submit(p, hash, "x", 1, "ip:4", false, pw_done, &s), 0);
	CHECK_EQ_INT(auth_pwcheck_submit(p, hash, "x", 1, "ip:5", false, pw_done, &s), -EAGAIN);
	CHECK_EQ_INT((int)auth_pwcheck_inflight(p), 4);
	CHECK_EQ_INT(s.n, 0);	/* nothing is reported outside the loop */
	pw_run_until(loop, &s, 4);
	CHECK_EQ_INT(s.n, 4);
	CHECK_EQ_INT(s.ok, 1);
	CHECK_EQ_INT(s.wrong, 3);
	CHECK_EQ_INT((int)auth_pwcheck_inflight(p), 0);
	/* The source may check again once its check was reported. */
	CHECK_EQ_INT(auth_pwcheck_submit(p, hash, "right password", 14, "ip:1", false, pw_done, &s), 0);
	pw_run_until(loop, &s, 5);
	CHECK_EQ_INT(s.ok, 2);
	/* Stopping reports what is left as aborted, at once. */
	for (int i = 0; i < 4; i++) {
		char src[16];
		snprintf(src, sizeof(src), "ip:x%d", i);
		CHECK_EQ_INT(auth_pwcheck_submit(p, hash, "x", 1, src, false, pw_done, &s), 0);
	}
	auth_pwcheck_free(p);
	p = NULL;
	CHECK_EQ_INT(s.n, 9);
	CHECK_EQ_INT(s.aborted + s.wrong, 3 + 4);
	CHECK(s.aborted >= 1);
out:
	auth_pwcheck_free(p);
	free(hash);
	if (loop)
		loop_free(loop);
}

TEST(inline_pool_answers_before_returning)
{
	char *hash = password_hash("right password", 14);
	struct auth_pwcheck *p = auth_pwcheck_new(NULL, 0, 4);
	struct pw_seen s = { 0 };

	CHECK(hash && p);
	CHECK_EQ_INT(auth_pwcheck_submit(NULL, hash, "right password", 14, "a", true, pw_done, &s), 0);
	CHECK_EQ_INT(s.ok, 1);
	CHECK_EQ_INT(auth_pwcheck_submit(p, hash, "wrong", 5, "a", true, pw_done, &s), 0);
	CHECK_EQ_INT(s.wrong, 1);
	CHECK_EQ_INT(s.n, 2);
	auth_pwcheck_free(p);
	free(hash);
}

int main(void)
{
	RUN(delay_schedule_doubles_from_the_first_paid_failure);
	RUN(retry_after_rounds_up);
	RUN(wait_fail_clear);
	RUN(a_quiet_spell_forgives);
	RUN(a_full_table_evicts_the_oldest);
	RUN(address_keys);
	RUN(pool_checks_on_threads_and_reports_on_the_loop);
	RUN(inline_pool_answers_before_returning);
	return unit_done();
}
