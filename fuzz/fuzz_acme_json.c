/* fuzz_acme_json.c - every parser of a CA's JSON answers (directory,
 * account, order, authorization, challenge, problem, renewalInfo) and the
 * RFC 3339 time parser. The first byte picks the parser so the corpus can
 * aim at each one. Route 53's XML: fuzz_r53_xml.c.
 *
 * Besides not crashing, what a parse that succeeds returns must hold: a
 * directory has its three required URLs, a renewal window ends after it
 * starts, and a parsed time written back as "YYYY-MM-DDTHH:MM:SSZ" parses
 * to the same second (so offsets and fractions were applied, not
 * dropped). A broken invariant aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme/acme_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A time that parses, written back in UTC, parses to the same second. */
static void fuzz_time_round_trip(const char *p, size_t n)
{
	int64_t t, t2;
	time_t tt;
	struct tm tm;
	char buf[64];
	int len;

	if (acme_time_parse(p, n, &t))
		return;
	tt = (time_t)t;
	if (!gmtime_r(&tt, &tm))
		abort();
	len = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		       tm.tm_min, tm.tm_sec);
	/* Offsets can move a year-0000 or year-9999 time outside the four
	 * digits RFC 3339 has; such a time has no UTC spelling to compare. */
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return;
	if (acme_time_parse(buf, (size_t)len, &t2) || t2 != t)
		abort();
}

static void fuzz_json(uint8_t sel, const char *p, size_t n)
{
	switch (sel % 8) {
	case 0: {
		struct acme_directory d;
		if (acme_directory_parse(p, n, &d) == 0 &&
		    (!d.new_nonce || !d.new_account || !d.new_order))
			abort();
		acme_directory_free(&d);
		break;
	}
	case 1: {
		struct acme_account a;
		acme_account_parse(p, n, &a);
		acme_account_free(&a);
		break;
	}
	case 2: {
		struct acme_order *o = malloc(sizeof(*o));
		acme_order_parse(p, n, o);
		acme_order_free(o);
		free(o);
		break;
	}
	case 3: {
		struct acme_authz *a = malloc(sizeof(*a));
		acme_authz_parse(p, n, a);
		acme_authz_free(a);
		free(a);
		break;
	}
	case 4: {
		struct acme_challenge c;
		acme_challenge_parse(p, n, &c);
		acme_challenge_free(&c);
		break;
	}
	case 5: {
		struct acme_problem pr;
		if (acme_problem_parse(p, n, &pr) == 0)
			acme_problem_is(&pr, "badNonce");
		acme_problem_free(&pr);
		break;
	}
	case 6: {
		struct acme_renewal_info ri;
		if (acme_renewal_info_parse(p, n, &ri) == 0 && ri.end <= ri.start)
			abort();
		acme_renewal_info_free(&ri);
		break;
	}
	default:
		fuzz_time_round_trip(p, n);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_json(data[0], (const char *)data + 1, size - 1);
	return 0;
}
