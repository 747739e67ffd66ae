/* api_throttle.h - login throttling against password guessing.
 *
 * Failures are counted per key ("ip:203.0.113.9", "user:alice"). Once a
 * key has `max_failures` failures with less than `lockout` between each
 * and the next, it is refused until `lockout` after its last failure; a
 * success clears the key. The table is fixed-size (the oldest entry is
 * evicted when it is full), lives in memory on the control thread, and
 * starts empty at each start of the hub. */
#ifndef POSTERN_API_API_THROTTLE_H
#define POSTERN_API_API_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#define API_THROTTLE_SLOTS 1024
#define API_THROTTLE_KEY 96

struct api_throttle_slot {
	char key[API_THROTTLE_KEY];
	uint32_t failures;
	int64_t last_ms;	/* time of the last failure; 0 = free slot */
};

struct api_throttle {
	struct api_throttle_slot slot[API_THROTTLE_SLOTS];
};

/* Returns 0 when `key` may try now, else the seconds to wait (>= 1). */
int64_t api_throttle_check(struct api_throttle *t, const char *key,
			   uint32_t max_failures, int64_t lockout_ms, int64_t now_ms);
/* Counts a failure; returns true when it just reached the limit. */
bool api_throttle_fail(struct api_throttle *t, const char *key,
		       uint32_t max_failures, int64_t lockout_ms, int64_t now_ms);
/* A success: forgets the key. */
void api_throttle_clear(struct api_throttle *t, const char *key);

#endif
