/* fuzz_dns_msg.c - the DNS answer parser (TXT/NS/SOA, name compression)
 * as used by the DNS-01 visibility check. The query name and type are
 * fixed; the id is taken from the input so well-formed answers get deep. */
#include <stdint.h>
#include <string.h>

#include "acme/dns_msg.h"
#include "acme/dns_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_answer a;
	char name[DNS_NAME_MAX + 1];
	uint16_t id = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0;
	size_t off = 12;

	if (dns_msg_parse(data, size, id, "_acme-challenge.example.com", DNS_T_TXT,
			  &a) == 0)
		dns_answer_has_txt(&a, "_acme-challenge.example.com", "x");
	dns_msg_parse(data, size, id, "example.com", DNS_T_NS, &a);
	dns_msg_get_name(data, size, &off, name);
	return 0;
}
