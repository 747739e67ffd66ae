/* fuzz_r53_xml.c - Route 53's XML answers as dns_route53.c reads them
 * (error, hosted zone lookup, change info), through expat. The fields it
 * keeps must stay NUL-terminated within their buffers. */
#include <stdint.h>
#include <string.h>

#include "acme/r53_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct r53_answer a;

	if (r53_xml_parse((const char *)data, size, &a) == 0) {
		size_t n = strlen(a.code) + strlen(a.message) + strlen(a.zone_id) +
			   strlen(a.zone_name) + strlen(a.change_id) +
			   strlen(a.status);
		if (n > sizeof(a))
			__builtin_trap();
	}
	return 0;
}
