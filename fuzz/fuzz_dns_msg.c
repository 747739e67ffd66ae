/* fuzz_dns_msg.c - DNS answers as the DNS-01 visibility check reads them:
 * ldns's wire parser, then dns_answer_parse's checks and copies. The query name and type are
 * fixed; the id is taken from the input so well-formed answers get deep. */
#include <stdint.h>
#include <string.h>

#include "acme/dns_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_answer a;
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;

	if (dns_answer_parse(data, size, id, "_acme-challenge.example.com",
			     DNS_T_TXT, &a) == 0)
		dns_answer_has_txt(&a, "_acme-challenge.example.com", "x");
	dns_answer_parse(data, size, id, "example.com", DNS_T_NS, &a);
	return 0;
}
