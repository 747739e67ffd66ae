/* num.h - the one bounded number parser (strtonum-like, on byte views).
 *
 * Digits only: no sign, no leading or trailing space, no "0x", no empty
 * input. Every number Postern reads from the network, a file or a command
 * line goes through here. */
#ifndef POSTERN_CORE_NUM_H
#define POSTERN_CORE_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Parses `len` bytes of decimal digits into *out, within [min, max].
 * Returns 0, -EINVAL (empty or a non-digit) or -ERANGE (outside the range
 * or overflow). *out is untouched on error. */
int num_parse_u64(const char *s, size_t len, uint64_t min, uint64_t max,
		  uint64_t *out);
/* Same, for hexadecimal digits (either case), as in HTTP chunk sizes. */
int num_parse_hex_u64(const char *s, size_t len, uint64_t min, uint64_t max,
		      uint64_t *out);
/* Convenience for NUL-terminated strings (config, argv). */
int num_parse_cstr(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Parses a duration "250ms", "30s", "5m", "2h", "1d" (or bare seconds)
 * into nanoseconds, within [min_ns, max_ns]. Returns 0, -EINVAL or -ERANGE. */
int num_parse_duration(const char *s, uint64_t min_ns, uint64_t max_ns,
		       uint64_t *out_ns);
/* Parses a size "512", "64k", "16M", "2G" (powers of 1024) into bytes. */
/* A list of durations separated by commas and/or spaces ("0s,5s, 5m")
 * into out_ns[], each within [min_ns, max_ns]. Returns the count (1..max)
 * or -1 (empty, too many, an item too long or malformed). */
int num_parse_duration_list(const char *s, uint64_t min_ns, uint64_t max_ns,
			    uint64_t *out_ns, int max);
int num_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
