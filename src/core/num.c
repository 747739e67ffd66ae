/* num.c - bounded decimal, hex, duration and size parsing. */
#include "core/num.h"

#include <errno.h>
#include <string.h>

#include "core/clock.h"

int num_parse_u64(const char *s, size_t len, uint64_t min, uint64_t max,
		  uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';
		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10) {
			/* Keep scanning so "99999999999999999999x" is -EINVAL. */
			for (i++; i < len; i++)
				if ((unsigned)((unsigned char)s[i] - '0') > 9)
					return -EINVAL;
			return -ERANGE;
		}
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int num_parse_hex_u64(const char *s, size_t len, uint64_t min, uint64_t max,
		      uint64_t *out)
{
	uint64_t v = 0;
	int overflow = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int d = hexval((unsigned char)s[i]);
		if (d < 0)
			return -EINVAL;
		if (v >> 60)
			overflow = 1;
		v = (v << 4) | (uint64_t)d;
	}
	if (overflow || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int num_parse_cstr(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return num_parse_u64(s, strlen(s), min, max, out);
}

/* Splits "123unit" into the digits and a unit multiplier from `units`. */
struct num_unit {
	const char *name;
	uint64_t mult;
};

static int num_parse_with_units(const char *s, const struct num_unit *units,
				uint64_t bare_mult, uint64_t min, uint64_t max,
				uint64_t *out)
{
	size_t len = strlen(s), digits = 0;
	uint64_t v, mult = bare_mult;
	int r;

	while (digits < len && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	if (digits < len) {
		const struct num_unit *u;
		for (u = units; u->name; u++)
			if (strcmp(s + digits, u->name) == 0)
				break;
		if (!u->name)
			return -EINVAL;
		mult = u->mult;
	}
	r = num_parse_u64(s, digits, 0, UINT64_MAX, &v);
	if (r < 0)
		return r;
	if (v && mult > UINT64_MAX / v)
		return -ERANGE;
	v *= mult;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int num_parse_duration(const char *s, uint64_t min_ns, uint64_t max_ns,
		       uint64_t *out_ns)
{
	static const struct num_unit units[] = {
		{ "ms", NSEC_PER_MSEC },
		{ "s", NSEC_PER_SEC },
		{ "m", 60 * NSEC_PER_SEC },
		{ "h", 3600 * NSEC_PER_SEC },
		{ "d", 86400 * NSEC_PER_SEC },
		{ NULL, 0 },
	};
	return num_parse_with_units(s, units, NSEC_PER_SEC, min_ns, max_ns,
				    out_ns);
}

int num_parse_duration_list(const char *s, uint64_t min_ns, uint64_t max_ns,
			    uint64_t *out_ns, int max)
{
	char item[32];
	int n = 0;

	while (*s) {
		size_t len = strcspn(s, ", ");
		if (len) {
			if (len >= sizeof(item) || n == max)
				return -1;
			memcpy(item, s, len);
			item[len] = 0;
			if (num_parse_duration(item, min_ns, max_ns, &out_ns[n++]) < 0)
				return -1;
		}
		s += len;
		s += strspn(s, ", ");
	}
	return n ? n : -1;
}

int num_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	static const struct num_unit units[] = {
		{ "k", 1ULL << 10 }, { "K", 1ULL << 10 },
		{ "M", 1ULL << 20 }, { "G", 1ULL << 30 },
		{ NULL, 0 },
	};
	return num_parse_with_units(s, units, 1, min, max, out);
}
