/* api_acme_store.c - what the API hands the hub's ACME side: the ops it
 * registers, and the store, keyring and audit log the certificate
 * manager's records are written with (acme/acme_records.h). */
#include "api/api_acme.h"
#include "api/api_handlers.h"

void api_set_acme(struct api *api, const struct api_acme_ops *ops)
{
	api->acme = ops;
}

struct acme_records api_acme_records(struct api *api)
{
	return (struct acme_records){ &api->store, &api->keys, &api->audit };
}
