/* auth_throttle.h - slowing down guessers without locking anyone out.
 *
 * Failures are counted per key: a client address ("ip:203.0.113.9"; an
 * IPv6 client by its /64, see auth_throttle_addr), an account from an
 * address ("user:alice@ip:203.0.113.9"), a bad bearer token's source
 * ("bearer:..."). A key's first `free` failures cost nothing; each one
 * after that makes the key wait before its next attempt, twice as long
 * each time: 1 s, 2 s, 4 s, ... up to `max_delay`. A key that waits is
 * refused without looking at its credentials (no hash is computed), and a
 * refused attempt does not count as a failure, so a client that honours
 * Retry-After pays exactly the schedule. A key is forgotten on success,
 * or once it has been quiet for `max_delay` after its delay ran out.
 *
 * No key names an account alone: guesses from elsewhere never delay the
 * rightful user at their own address. The table is fixed-size (the key
 * used least recently is evicted when it is full), in memory, owned by one
 * thread (the control thread), and starts empty at each start of the hub.
 *
 * Used by the admin API's login, setup and join (api_auth.c) and meant for
 * any other form that checks a secret (the login portal). */
#ifndef POSTERN_AUTH_AUTH_THROTTLE_H
#define POSTERN_AUTH_AUTH_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTH_THROTTLE_SLOTS 4096
#define AUTH_THROTTLE_KEY 160
/* The first delay; each further failure doubles it. */
#define AUTH_THROTTLE_BASE_MS 1000

struct auth_throttle_policy {
	uint32_t free;		/* failures that cost no delay (>= 1) */
	int64_t max_delay_ms;	/* the longest delay (>= AUTH_THROTTLE_BASE_MS) */
};

struct auth_throttle_slot {
	uint64_t hash;		/* of key, to skip most strcmp */
	char key[AUTH_THROTTLE_KEY];
	uint32_t failures;
	int64_t last_ms;	/* time of the last failure; 0 = free slot */
};

struct auth_throttle {
	struct auth_throttle_slot slot[AUTH_THROTTLE_SLOTS];
};

/* The delay that `failures` failures impose after the last of them
 * (0 while failures <= p->free). Pure arithmetic; never overflows. */
int64_t auth_throttle_delay_ms(const struct auth_throttle_policy *p, uint32_t failures);
/* Returns 0 when `key` may try at `now_ms`, else the milliseconds it
 * still has to wait. */
int64_t auth_throttle_wait_ms(struct auth_throttle *t, const struct auth_throttle_policy *p,
			      const char *key, int64_t now_ms);
/* Counts a failure of `key` at `now_ms` (a quiet key starts again from
 * zero). Returns the delay it now has to wait (0 = none); *first is set
 * when this failure is the one that started the delays. */
int64_t auth_throttle_fail(struct auth_throttle *t, const struct auth_throttle_policy *p,
			   const char *key, int64_t now_ms, bool *first);
/* The failures on record for `key` at `now_ms` (0 when none, or when it
 * has been quiet long enough to be forgotten). */
uint32_t auth_throttle_failures(struct auth_throttle *t, const struct auth_throttle_policy *p,
				const char *key, int64_t now_ms);
/* A success: forgets the key. */
void auth_throttle_clear(struct auth_throttle *t, const char *key);
/* Milliseconds -> whole seconds for Retry-After, rounded up (>= 1 for
 * any positive wait). */
int64_t auth_throttle_retry_after(int64_t wait_ms);

/* Writes "PREFIX" + the client's throttling address into out: an IPv4
 * address as is, an IPv4-mapped IPv6 address as IPv4, any other IPv6
 * address as its /64 ("2001:db8:1:2::/64"), since one end user holds a
 * whole /64. Anything unparsable is used verbatim (it still names one
 * source). Returns 0, or -1 when it does not fit. */
int auth_throttle_addr(const char *prefix, const char *ip, char *out, size_t len);

#endif
