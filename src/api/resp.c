/* resp.c - api_resp lifetime (shared by the front and the API code). */
#include "api/api.h"

void api_resp_init(struct api_resp *resp)
{
	resp->status = 500;
	buf_init(&resp->headers, 16u << 10);
	buf_init(&resp->body, API_RESP_MAX);
}

void api_resp_free(struct api_resp *resp)
{
	buf_free(&resp->headers);
	buf_free(&resp->body);
}
