/* events_filter.c - event type filters: "agent.*, certificate.failed". */
#include <string.h>

#include "events/events.h"

#define EVENTS_SEP ", "

/* One pattern (len bytes) against a type. */
static bool events_pattern_match(const char *p, size_t len, const char *type)
{
	size_t tlen = strlen(type);

	if (len == 1 && p[0] == '*')
		return true;
	if (len >= 2 && p[len - 1] == '*' && p[len - 2] == '.')
		return tlen > len - 1 && !memcmp(type, p, len - 1);
	return tlen == len && !memcmp(type, p, len);
}

bool events_filter_match(const char *filter, const char *type)
{
	const char *p = filter;

	while (*p) {
		size_t skip = strspn(p, EVENTS_SEP), len;
		p += skip;
		len = strcspn(p, EVENTS_SEP);
		if (len && events_pattern_match(p, len, type))
			return true;
		p += len;
	}
	return false;
}

const char *events_filter_check(const char *filter)
{
	const char *p = filter;
	size_t n = 0;

	while (*p) {
		size_t len;
		p += strspn(p, EVENTS_SEP);
		len = strcspn(p, EVENTS_SEP);
		for (size_t i = 0; i < len; i++) {
			char c = p[i];
			bool star = c == '*' && i == len - 1 && (len == 1 || p[i - 1] == '.');
			if (!star && !strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", c))
				return "must be event types or patterns like agent.* or *";
		}
		n += len != 0;
		p += len;
	}
	return n ? NULL : "must name at least one event type (or *)";
}
