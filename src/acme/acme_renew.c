/* acme_renew.c - renewal timing. */
#include "acme/acme_renew.h"

int64_t acme_renew_fallback(int64_t not_before, int64_t not_after)
{
	if (not_after <= not_before)
		return not_before;
	return not_before + (not_after - not_before) / 3 * 2;
}

int64_t acme_renew_from_window(int64_t start, int64_t end, int64_t now,
			       uint64_t rnd)
{
	int64_t t;

	if (end <= now)
		return now;
	t = end > start ? start + (int64_t)(rnd % (uint64_t)(end - start)) : start;
	return t < now ? now : t;
}

uint64_t acme_renew_backoff(unsigned failures, uint64_t retry_after_s)
{
	uint64_t d = ACME_BACKOFF_MIN_S;

	for (unsigned i = 1; i < failures && d < ACME_BACKOFF_MAX_S; i++)
		d *= 2;
	if (d > ACME_BACKOFF_MAX_S)
		d = ACME_BACKOFF_MAX_S;
	return retry_after_s > d ? retry_after_s : d;
}
