/* fuzz_dns_provider_json.c - the JSON answers of the Cloudflare, Hetzner
 * and DigitalOcean APIs as the providers read them: jansson's parser with
 * the flags dns_http_json uses, then each provider's success test, error
 * text and the fields its zone lookup and record creation take (the
 * paths in its struct dns_api; record ids through dns_record_set_id). The provider files are included so
 * their static readers are reached; the first byte picks the provider. */
#include <stdint.h>
#include <string.h>

#include "../src/acme/dns_cloudflare.c"
#include "../src/acme/dns_digitalocean.c"
#include "../src/acme/dns_hetzner.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_id(const char *id)
{
	struct dns_record r;
	char err[128];

	memset(&r, 0, sizeof(r));
	dns_record_set_id(&r, id, "fuzz", err, sizeof(err));
}

static void fuzz_api(const struct dns_api *api, json_t *j)
{
	char detail[300], idbuf[32];

	if (api->ok)
		api->ok(j);
	api->detail(j, detail, sizeof(detail));
	if (strlen(detail) >= sizeof(detail))
		__builtin_trap();
	if (api->zone_id_at)
		fuzz_id(dns_json_str(j, api->zone_id_at));
	if (api->zone_name_at)
		dns_json_str(j, api->zone_name_at);
	fuzz_id(dns_json_id(j, api->record_id_at, idbuf, sizeof(idbuf)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j;

	if (size < 1)
		return 0;
	j = json_loadb((const char *)data + 1, size - 1, 0, NULL);
	switch (data[0] % 3) {
	case 0:
		fuzz_api(&cf_api, j);
		break;
	case 1:
		fuzz_api(&hz_api, j);
		break;
	default:
		fuzz_api(&do_api, j);
		break;
	}
	json_decref(j);
	return 0;
}
