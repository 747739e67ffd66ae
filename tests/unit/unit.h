/* unit.h - a small unit test harness.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_INT(a, b); ... }
 *   int main(void) { RUN(name); ...; return unit_done(); }
 *
 * A table of cases: static const struct my_case cases[] = {{ .name = "a",
 * ... }, ...}; static void check_case(const struct my_case *c) {...};
 * RUN_CASES(check_case, cases) reports each row by its name.
 *
 * A failed CHECK records the failure and the test continues, so one run
 * reports every broken expectation. unit_done() prints the closing
 * "N passed, N failed" line and returns the exit status. */
#ifndef POSTERN_TESTS_UNIT_H
#define POSTERN_TESTS_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed, unit_cur_failed;
static const char *unit_cur_name;

#define TEST(name) static void test_##name(void)

/* Starts and ends one reported test: the name goes on its "ok"/"FAIL" line. */
static inline void unit_begin(const char *name)
{
	unit_cur_name = name;
	unit_cur_failed = 0;
}

static inline void unit_end(void)
{
	if (unit_cur_failed) {
		unit_failed++;
		printf("FAIL %s\n", unit_cur_name);
	} else {
		unit_passed++;
		printf("ok   %s\n", unit_cur_name);
	}
	fflush(stdout);
}

#define RUN(name)                                                      \
	do {                                                           \
		unit_begin(#name);                                     \
		test_##name();                                         \
		unit_end();                                            \
	} while (0)

/* Runs fn(&cases[i]) for every row of a static array of cases, each row
 * reported as a test of its own under its `name` member, so a table of
 * cases fails by the name of the case that broke. */
#define UNIT_NCASES(cases) (sizeof(cases) / sizeof((cases)[0]))
#define RUN_CASES(fn, cases)                                           \
	do {                                                           \
		for (size_t c_ = 0; c_ < UNIT_NCASES(cases); c_++) {   \
			unit_begin((cases)[c_].name);                  \
			fn(&(cases)[c_]);                              \
			unit_end();                                    \
		}                                                      \
	} while (0)

#define UNIT_FAIL(...)                                                 \
	do {                                                           \
		printf("  %s:%d: ", __FILE__, __LINE__);               \
		printf(__VA_ARGS__);                                   \
		printf("\n");                                          \
		unit_cur_failed = 1;                                   \
	} while (0)

#define CHECK(cond)                                                    \
	do {                                                           \
		if (!(cond))                                           \
			UNIT_FAIL("CHECK(%s)", #cond);                 \
	} while (0)

#define CHECK_EQ_INT(a, b)                                             \
	do {                                                           \
		long long va_ = (long long)(a), vb_ = (long long)(b);  \
		if (va_ != vb_)                                        \
			UNIT_FAIL("%s == %s: %lld != %lld", #a, #b,    \
				  va_, vb_);                           \
	} while (0)

#define CHECK_EQ_U64(a, b)                                             \
	do {                                                           \
		uint64_t va_ = (uint64_t)(a), vb_ = (uint64_t)(b);     \
		if (va_ != vb_)                                        \
			UNIT_FAIL("%s == %s: %" PRIu64 " != %" PRIu64, \
				  #a, #b, va_, vb_);                   \
	} while (0)

#define CHECK_EQ_STR(a, b)                                             \
	do {                                                           \
		const char *sa_ = (a), *sb_ = (b);                     \
		if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)             \
			UNIT_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, \
				  sa_ ? sa_ : "(null)",                \
				  sb_ ? sb_ : "(null)");               \
	} while (0)

#define CHECK_EQ_MEM(a, b, n)                                          \
	do {                                                           \
		if (memcmp((a), (b), (n)) != 0)                        \
			UNIT_FAIL("%s == %s (%zu bytes) differ", #a, #b, \
				  (size_t)(n));                        \
	} while (0)

static inline int unit_done(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
