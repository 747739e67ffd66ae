/* password.h - Argon2id password hashes (libargon2), PHC-encoded.
 *
 * Cost: t=2 passes over 19 MiB, one lane (the OWASP minimum for
 * Argon2id); the parameters live in each encoded hash, so raising them
 * later leaves existing hashes valid. */
#ifndef POSTERN_AUTH_PASSWORD_H
#define POSTERN_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_MIN 12
#define PASSWORD_MAX 1024

/* Returns a new "$argon2id$v=19$m=...,t=...,p=...$salt$hash" string
 * (free() it), or NULL. */
char *password_hash(const char *pw, size_t len);
/* True when `pw` matches `encoded`. With a NULL `encoded` (no such user,
 * or no password set) it still spends the same work on a dummy hash and
 * returns false, so timing does not tell which user names exist.
 * Thread-safe: the password threads (auth_pwcheck.c) call it. */
bool password_verify(const char *encoded, const char *pw, size_t len);
/* Makes the dummy hash now (password_verify makes it on first use too);
 * thread-safe. */
void password_prepare(void);

#endif
