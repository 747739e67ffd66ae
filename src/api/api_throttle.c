/* api_throttle.c - a fixed table of failure counters. */
#include "api/api_throttle.h"

#include <stdio.h>
#include <string.h>

static struct api_throttle_slot *api_throttle_find(struct api_throttle *t,
						   const char *key)
{
	for (size_t i = 0; i < API_THROTTLE_SLOTS; i++)
		if (t->slot[i].last_ms && !strcmp(t->slot[i].key, key))
			return &t->slot[i];
	return NULL;
}

int64_t api_throttle_check(struct api_throttle *t, const char *key,
			   uint32_t max_failures, int64_t lockout_ms, int64_t now_ms)
{
	struct api_throttle_slot *s = api_throttle_find(t, key);
	int64_t until;

	if (!s || s->failures < max_failures)
		return 0;
	until = s->last_ms + lockout_ms;
	if (now_ms >= until)
		return 0;
	return (until - now_ms + 999) / 1000;
}

bool api_throttle_fail(struct api_throttle *t, const char *key,
		       uint32_t max_failures, int64_t lockout_ms, int64_t now_ms)
{
	struct api_throttle_slot *s = api_throttle_find(t, key), *old = NULL;

	if (!s) {
		for (size_t i = 0; i < API_THROTTLE_SLOTS; i++) {
			struct api_throttle_slot *x = &t->slot[i];
			if (!old || x->last_ms < old->last_ms)
				old = x;
		}
		s = old;
		snprintf(s->key, sizeof(s->key), "%s", key);
		s->failures = 0;
	} else if (now_ms - s->last_ms >= lockout_ms) {
		s->failures = 0;	/* a quiet spell forgives */
	}
	s->last_ms = now_ms;
	if (s->failures < UINT32_MAX)
		s->failures++;
	return s->failures == max_failures;
}

void api_throttle_clear(struct api_throttle *t, const char *key)
{
	struct api_throttle_slot *s = api_throttle_find(t, key);

	if (s)
		memset(s, 0, sizeof(*s));
}
