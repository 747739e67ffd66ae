/* front_h2.c - HTTP/2 on downstream connections (placeholder until the
 * nghttp2 session lands: prior-knowledge h2c is refused). */
#include <errno.h>

#include "hub/conn.h"
#include "hub/front.h"

int front_h2_start(struct conn *c)
{
	(void)c;
	return -EPROTONOSUPPORT;
}

void front_h2_pump(struct conn *c)
{
	(void)c;
}

void front_h2_timeout(struct conn *c)
{
	conn_close(c);
}

void front_h2_drain(struct conn *c)
{
	conn_close(c);
}

void front_h2_free(struct conn *c)
{
	c->h2s = NULL;
}
