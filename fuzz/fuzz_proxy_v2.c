/* fuzz_proxy_v2.c - the PROXY v2 parser and Postern's stream header on any
 * bytes, fed whole and in every split an incremental reader could see;
 * anything accepted must re-encode and parse back to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/allow.h"
#include "proto/stream_hdr.h"
#include "proto/proxy_v2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct stream_hdr *h)
{
	uint8_t out[PROXY_V2_MAX];
	struct stream_hdr back;
	int n = stream_hdr_encode(out, sizeof(out), h);

	if (n <= 0)
		abort();
	if (stream_hdr_parse(out, (size_t)n, &back) != n)
		abort();
	if (back.probe != h->probe || back.flags != h->flags ||
	    strcmp(back.host, h->host) || strcmp(back.tls_name, h->tls_name))
		abort();
	if (!h->probe && memcmp(&back.client, &h->client, sizeof(h->client)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_v2 pv;
	struct proxy_v2_tlv t;
	struct stream_hdr h;
	int n = proxy_v2_parse(data, size, &pv);

	if (n > 0) {
		struct str it = pv.tlvs;
		size_t total = 0;
		while (proxy_v2_tlv_next(&it, &t))
			total += 3 + (size_t)t.len;
		if (total != pv.tlvs.len || (size_t)n > size)
			abort();
	}
	/* A prefix of an accepted header needs more; never an error. */
	for (size_t cut = 0; n > 0 && cut < (size_t)n; cut += 7)
		if (proxy_v2_parse(data, cut, &pv) != 0)
			abort();
	n = stream_hdr_parse(data, size, &h);
	if (n > 0) {
		check_round_trip(&h);
		if (h.host[0]) {
			struct allow a;
			char err[128];
			allow_init(&a);
			if (allow_add(&a, "*.lan:1-1000", err, sizeof(err)) == 0)
				allow_name_check(&a, str_cstr(h.host), stream_hdr_port(&h.target));
			allow_free(&a);
		}
	}
	return 0;
}
