/* cli_login.c - `postern login rotate-assertion-key`: the hub-wide parts of
 * route login that are no resource of their own (docs/auth.md). */
#include "cli/cmd.h"
#include "cli/noun.h"

/* rotate-assertion-key: prints the new key's kid; the previous key stays
 * in the JWKS. */
static int login_rotate(struct cli_args *a)
{
	if (a->npos != 0)
		return cli_usage(a->noun, true);
	return cli_call_print(a, "POST", "/login/assertion-key", NULL, NULL, NULL);
}

static const struct cli_verb login_verbs[] = {
	CLI_VERB_FN("rotate-assertion-key", login_rotate), CLI_VERBS_END,
};

const struct cli_noun cli_noun_login = {
	.name = "login", .path = "/login", .verbs = login_verbs, .own_only = true,
	.usage = "rotate-assertion-key\n"
	"       a new signing key for the identity assertion (JWT); the previous\n"
	"       one stays in /.well-known/jwks.json until the next rotation",
};
