/* api_snapshot.h - what the control plane hands the front's snapshot
 * builder: the store's routes as route_specs (store/route_spec.h). */
#ifndef POSTERN_API_API_SNAPSHOT_H
#define POSTERN_API_API_SNAPSHOT_H

#include <stddef.h>

#include "api/api.h"
#include "store/route_spec.h"

struct api_route_specs {
	struct route_spec *specs;	/* strings owned by this object */
	size_t n;
	size_t nhttp;			/* the front's: set by the hub */
	char (*names)[32];		/* "route-ID" */
};

/* Reads every route (with its agent's name) from the store. Returns 0
 * (free with api_route_specs_free) or -1 (logged). */
int api_route_specs(struct api *api, struct api_route_specs *out);
void api_route_specs_free(struct api_route_specs *r);

#endif
