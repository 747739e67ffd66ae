/* fuzz_dns_msg.c - DNS answers as the DNS-01 visibility check reads them:
 * ldns's wire parser, then dns_answer_parse's checks and copies. The query name and type are
 * fixed; the id is taken from the input so well-formed answers get deep.
 * An answer that parses must hold what dns_query.h promises: the id asked
 * for, at most DNS_ANSWER_MAX records, answers first, owner names in lower
 * case without a trailing (unescaped) dot, every string terminated inside
 * its field.
 * A broken promise aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/dns_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether name[i] is escaped: an odd run of backslashes before it (a label
 * that holds a dot ends in "\\." in presentation form, which is fine). */
static int dns_escaped(const char *name, size_t i)
{
	size_t n = 0;

	while (i > n && name[i - n - 1] == '\\')
		n++;
	return n & 1;
}

static void dns_check(const struct dns_answer *a, uint16_t id)
{
	if (a->id != id || a->n > DNS_ANSWER_MAX || a->n_answer > a->n)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		const struct dns_rr *r = &a->rr[i];
		size_t nl = strnlen(r->name, sizeof(r->name));

		if (nl == sizeof(r->name) || strnlen(r->data, sizeof(r->data)) == sizeof(r->data))
			abort();
		if (nl && r->name[nl - 1] == '.' && !dns_escaped(r->name, nl - 1))
			abort();
		for (size_t j = 0; j < nl; j++)
			if (r->name[j] >= 'A' && r->name[j] <= 'Z')
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_answer a;
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;

	if (dns_answer_parse(data, size, id, "_acme-challenge.example.com",
			     DNS_T_TXT, &a) == 0) {
		dns_check(&a, id);
		dns_answer_has_txt(&a, "_acme-challenge.example.com", "x");
	}
	if (dns_answer_parse(data, size, id, "example.com", DNS_T_NS, &a) == 0)
		dns_check(&a, id);
	return 0;
}
