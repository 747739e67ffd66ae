/* fuzz_webhook_input.c - what a webhook receiver or an admin hands the
 * events code: a Retry-After value (http_client_retry_after), a retry
 * schedule and an event filter, on any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/http_client.h"
#include "events/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t ms[EVENTS_SCHEDULE_MAX];
	uint64_t s;
	char *str = malloc(size + 1);

	http_client_retry_after((const char *)data, size, 1700000000, &s);
	if (!str)
		return 0;
	memcpy(str, data, size);
	str[size] = 0;
	events_schedule_parse(str, ms, EVENTS_SCHEDULE_MAX);
	if (!events_filter_check(str))
		events_filter_match(str, "agent.offline");
	free(str);
	return 0;
}
