/* secure.h - handling secrets: wiping, constant-time compare, randomness. */
#ifndef POSTERN_CORE_SECURE_H
#define POSTERN_CORE_SECURE_H

#include <stdbool.h>
#include <stddef.h>

/* Overwrites `len` bytes with zeros in a way the compiler keeps. */
void secure_wipe(void *p, size_t len);
/* Compares in time that depends only on `len`. True when equal. */
bool secure_eq(const void *a, const void *b, size_t len);
/* Fills `p` with `len` bytes from the kernel CSPRNG (getrandom).
 * Returns 0, or -errno (only if the kernel refuses). */
int secure_random(void *p, size_t len);
/* Wipes and frees a heap buffer of `len` bytes; NULL is fine. */
void secure_free(void *p, size_t len);

#endif
