/* events_retry.c - the retry schedule and its jitter. */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/num.h"
#include "core/secure.h"
#include "events/events.h"

int events_schedule_parse(const char *s, int64_t *ms, int max)
{
	char item[32];
	int n = 0;

	while (*s) {
		size_t len = strcspn(s, ", ");
		uint64_t ns;
		if (len) {
			if (len >= sizeof(item) || n == max)
				return -1;
			memcpy(item, s, len);
			item[len] = 0;
			if (num_parse_duration(item, 0, 30ULL * 86400 * NSEC_PER_SEC, &ns) < 0)
				return -1;
			ms[n++] = (int64_t)(ns / NSEC_PER_MSEC);
		}
		s += len;
		s += strspn(s, ", ");
	}
	return n ? n : -1;
}

int64_t events_retry_delay(const int64_t *sched, int nsched, int n,
			   int64_t retry_after_ms)
{
	uint32_t r = 0;
	int64_t d;

	if (n < 1 || n >= nsched)
		return -1;
	d = sched[n];
	/* Up to 20% more, so receivers that failed together are not all
	 * retried in the same instant. */
	if (d > 0 && secure_random(&r, sizeof(r)) == 0)
		d += (int64_t)((uint64_t)d * (r % 201) / 1000);
	return retry_after_ms > d ? retry_after_ms : d;
}
