/* decide.h - the hub's request pipeline (pipeline.c): the decision every
 * HTTP version of the front calls through front_ctx.ops->decide. The
 * request and decision types are the front's (front/pipeline.h). */
#ifndef POSTERN_HUB_DECIDE_H
#define POSTERN_HUB_DECIDE_H

#include <stdbool.h>

#include "core/str.h"
#include "front/pipeline.h"

struct front_settings;

/* Decides what to do with in->m. `out` is the caller's; release it with
 * pipeline_out_free() once the answer has been framed. Never fails: an
 * internal problem is an answer (500/503). */
void pipeline_decide(const struct pipeline_in *in, struct pipeline_out *out);

/* True when `host` (any case, port ignored) is the hub's own name. */
bool pipeline_hub_host(const struct front_settings *s, struct str host);

#endif
