/* cli_login.c - `postern login rotate-assertion-key`: the hub-wide parts of
 * route login that are no resource of their own (docs/auth.md). */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/noun.h"

static int login_verb(struct cli_args *a)
{
	if (strcmp(a->verb, "rotate-assertion-key")) {
		fprintf(stderr, "postern login: no verb '%s'\n", a->verb);
		return cli_usage(a->noun, true);
	}
	if (a->npos != 0)
		return cli_usage(a->noun, true);
	/* The new key's kid; the previous key stays in the JWKS. */
	return cli_call_print(a, "POST", "/login/assertion-key", NULL, NULL, NULL);
}

static const struct cli_noun login_noun = {
	"login", "/login", NULL, NULL, 0, NULL, 0, NULL,
	"rotate-assertion-key\n"
	"       a new signing key for the identity assertion (JWT); the previous\n"
	"       one stays in /.well-known/jwks.json until the next rotation", login_verb,
};

int cli_cmd_login(int argc, char **argv)
{
	return cli_noun_main(&login_noun, argc, argv);
}
