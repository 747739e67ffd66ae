/* auth_throttle.c - growing delays per key, in a fixed table. */
#include "auth/auth_throttle.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int64_t auth_throttle_delay_ms(const struct auth_throttle_policy *p, uint32_t failures)
{
	uint32_t over;
	int64_t d = AUTH_THROTTLE_BASE_MS;

	if (failures <= p->free)
		return 0;
	/* Doubling from the first failure past the free ones; at most 30
	 * doublings (12 days), so it cannot overflow whatever the cap. */
	over = failures - p->free - 1;
	for (int i = 0; i < 30 && (uint32_t)i < over && d < p->max_delay_ms; i++)
		d *= 2;
	return d < p->max_delay_ms ? d : p->max_delay_ms;
}

/* FNV-1a: only to skip most string compares, not a security boundary. */
static uint64_t auth_throttle_hash(const char *key)
{
	uint64_t h = 1469598103934665603ull;

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 1099511628211ull;
	return h;
}

static struct auth_throttle_slot *auth_throttle_find(struct auth_throttle *t,
						     const char *key, uint64_t h)
{
	for (size_t i = 0; i < AUTH_THROTTLE_SLOTS; i++) {
		struct auth_throttle_slot *s = &t->slot[i];
		if (s->last_ms && s->hash == h && !strcmp(s->key, key))
			return s;
	}
	return NULL;
}

/* Whether the key's record has expired: quiet for max_delay after its
 * delay ran out. */
static bool auth_throttle_stale(const struct auth_throttle_policy *p,
				const struct auth_throttle_slot *s, int64_t now_ms)
{
	return now_ms - s->last_ms >= auth_throttle_delay_ms(p, s->failures) + p->max_delay_ms;
}

int64_t auth_throttle_wait_ms(struct auth_throttle *t, const struct auth_throttle_policy *p,
			      const char *key, int64_t now_ms)
{
	struct auth_throttle_slot *s = auth_throttle_find(t, key, auth_throttle_hash(key));
	int64_t until;

	if (!s)
		return 0;
	until = s->last_ms + auth_throttle_delay_ms(p, s->failures);
	return now_ms < until ? until - now_ms : 0;
}

uint32_t auth_throttle_failures(struct auth_throttle *t, const struct auth_throttle_policy *p,
				const char *key, int64_t now_ms)
{
	struct auth_throttle_slot *s = auth_throttle_find(t, key, auth_throttle_hash(key));

	return s && !auth_throttle_stale(p, s, now_ms) ? s->failures : 0;
}

/* A free slot, else the one whose last failure is the oldest. */
static struct auth_throttle_slot *auth_throttle_victim(struct auth_throttle *t)
{
	struct auth_throttle_slot *old = &t->slot[0];

	for (size_t i = 0; i < AUTH_THROTTLE_SLOTS; i++) {
		if (!t->slot[i].last_ms)
			return &t->slot[i];
		if (t->slot[i].last_ms < old->last_ms)
			old = &t->slot[i];
	}
	return old;
}

int64_t auth_throttle_fail(struct auth_throttle *t, const struct auth_throttle_policy *p,
			   const char *key, int64_t now_ms, bool *first)
{
	uint64_t h = auth_throttle_hash(key);
	struct auth_throttle_slot *s = auth_throttle_find(t, key, h);

	if (!s) {
		s = auth_throttle_victim(t);
		memset(s, 0, sizeof(*s));
		s->hash = h;
		snprintf(s->key, sizeof(s->key), "%s", key);
	} else if (auth_throttle_stale(p, s, now_ms)) {
		s->failures = 0;	/* a quiet spell forgives */
	}
	s->last_ms = now_ms > 0 ? now_ms : 1;
	if (s->failures < UINT32_MAX)
		s->failures++;
	if (first)
		*first = s->failures == p->free + 1;
	return auth_throttle_delay_ms(p, s->failures);
}

void auth_throttle_clear(struct auth_throttle *t, const char *key)
{
	struct auth_throttle_slot *s = auth_throttle_find(t, key, auth_throttle_hash(key));

	if (s)
		memset(s, 0, sizeof(*s));
}

int64_t auth_throttle_retry_after(int64_t wait_ms)
{
	return wait_ms <= 0 ? 0 : (wait_ms + 999) / 1000;
}

int auth_throttle_addr(const char *prefix, const char *ip, char *out, size_t len)
{
	struct in6_addr a6;
	char txt[INET6_ADDRSTRLEN];
	int n;

	if (ip && inet_pton(AF_INET6, ip, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			inet_ntop(AF_INET, &a6.s6_addr[12], txt, sizeof(txt));
			n = snprintf(out, len, "%s%s", prefix, txt);
		} else {
			memset(&a6.s6_addr[8], 0, 8);
			inet_ntop(AF_INET6, &a6, txt, sizeof(txt));
			n = snprintf(out, len, "%s%s/64", prefix, txt);
		}
	} else {
		n = snprintf(out, len, "%s%s", prefix, ip ? ip : "");
	}
	return n >= 0 && (size_t)n < len ? 0 : -1;
}
