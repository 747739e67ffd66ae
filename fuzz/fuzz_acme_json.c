/* fuzz_acme_json.c - every parser of a CA's JSON answers (directory,
 * account, order, authorization, challenge, problem, renewalInfo) and the
 * RFC 3339 time parser. The first byte picks the parser so the corpus can
 * aim at each one. Route 53's XML: fuzz_r53_xml.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_json(uint8_t sel, const char *p, size_t n)
{
	switch (sel % 8) {
	case 0: {
		struct acme_directory d;
		acme_directory_parse(p, n, &d);
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
		acme_renewal_info_parse(p, n, &ri);
		acme_renewal_info_free(&ri);
		break;
	}
	default: {
		int64_t t;
		acme_time_parse(p, n, &t);
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_json(data[0], (const char *)data + 1, size - 1);
	return 0;
}
