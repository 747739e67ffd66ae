/* events_retry.c - the retry schedule and its jitter. */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/num.h"
#include "core/secure.h"
#include "events/events.h"

int events_schedule_parse(const char *s, int64_t *ms, int max)
{
	uint64_t ns[EVENTS_SCHEDULE_MAX];
	int n = num_parse_duration_list(s, 0, 30ULL * 86400 * NSEC_PER_SEC, ns,
					max < EVENTS_SCHEDULE_MAX ? max : EVENTS_SCHEDULE_MAX);

	for (int i = 0; i < n; i++)
		ms[i] = (int64_t)(ns[i] / NSEC_PER_MSEC);
	return n;
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
