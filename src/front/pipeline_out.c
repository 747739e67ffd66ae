/* pipeline_out.c - releasing a pipeline decision (front/pipeline.h). */
#include "front/pipeline.h"

void pipeline_out_free(struct pipeline_out *out)
{
	buf_free(&out->page);
}
