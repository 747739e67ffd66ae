/* pipeline_out.c - reading and releasing a pipeline decision
 * (front/pipeline.h). */
#include "front/pipeline.h"

#include "access/policy.h"
#include "auth/auth_users.h"
#include "core/secure.h"

void pipeline_out_free(struct pipeline_out *out)
{
	buf_free(&out->page);
	secure_wipe(out->set_cookie, sizeof(out->set_cookie));	/* a session token */
}

_Static_assert(ACCESS_ID_MAX == 4, "pipeline_id_fields' arrays");

unsigned pipeline_id_fields(const struct pipeline_out *out, struct str name[4],
			    struct str value[4])
{
	const struct access_policy *p;
	const struct auth_user *u = out->who;

	if (!(p = out->idpolicy))
		return 0;
	for (unsigned k = 0; k < ACCESS_ID_MAX; k++)
		name[k] = str_cstr(access_id_header(p, (enum access_id)k));
	value[ACCESS_ID_USER] = u ? str_cstr(u->name) : STR_LIT("");
	value[ACCESS_ID_GROUPS] = u ? str_cstr(u->groups) : STR_LIT("");
	value[ACCESS_ID_EMAIL] = u ? str_cstr(u->email) : STR_LIT("");
	value[ACCESS_ID_ASSERTION] = u && out->assertion ? str_cstr(out->assertion) : STR_LIT("");
	return ACCESS_ID_MAX;
}
