/* password.c - Argon2id hashing and verification. */
#include "auth/password.h"

#include <argon2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/secure.h"

#define PASSWORD_T 2
#define PASSWORD_M_KIB 19456
#define PASSWORD_P 1
#define PASSWORD_SALT 16
#define PASSWORD_HASH 32

char *password_hash(const char *pw, size_t len)
{
	uint8_t salt[PASSWORD_SALT];
	size_t enclen = argon2_encodedlen(PASSWORD_T, PASSWORD_M_KIB, PASSWORD_P,
					  PASSWORD_SALT, PASSWORD_HASH, Argon2_id);
	char *out = malloc(enclen);

	if (!out || secure_random(salt, sizeof(salt)) < 0 ||
	    argon2id_hash_encoded(PASSWORD_T, PASSWORD_M_KIB, PASSWORD_P, pw, len,
				  salt, sizeof(salt), PASSWORD_HASH, out,
				  enclen) != ARGON2_OK) {
		free(out);
		return NULL;
	}
	return out;
}

/* The hash that unknown users are checked against, made once. */
static char *password_dummy;
static pthread_once_t password_dummy_once = PTHREAD_ONCE_INIT;

static void password_make_dummy(void)
{
	password_dummy = password_hash("postern-no-such-user", 20);
}

void password_prepare(void)
{
	pthread_once(&password_dummy_once, password_make_dummy);
}

bool password_verify(const char *encoded, const char *pw, size_t len)
{
	if (!encoded) {
		password_prepare();
		if (password_dummy)
			argon2id_verify(password_dummy, pw, len);
		return false;
	}
	return argon2id_verify(encoded, pw, len) == ARGON2_OK;
}
