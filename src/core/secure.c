/* secure.c - wiping, constant-time comparison and the CSPRNG. */
#include "core/secure.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void secure_wipe(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}

bool secure_eq(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

int secure_random(void *p, size_t len)
{
	unsigned char *out = p;

	while (len) {
		ssize_t n = getrandom(out, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		out += n;
		len -= (size_t)n;
	}
	return 0;
}

void secure_free(void *p, size_t len)
{
	if (!p)
		return;
	secure_wipe(p, len);
	free(p);
}
