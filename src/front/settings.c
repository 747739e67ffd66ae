/* settings.c - questions about the front's settings. */
#include "front/settings.h"

bool front_settings_trusted(const struct front_settings *s, const struct addr *a)
{
	for (unsigned i = 0; i < s->ntrusted; i++)
		if (addr_cidr_match(&s->trusted[i], a))
			return true;
	return false;
}
