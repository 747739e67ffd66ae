/* front_tls.c - TLS on downstream connections. Until the TLS module
 * lands, https listeners refuse connections. */
#include <errno.h>

#include "hub/conn.h"
#include "hub/front.h"

int front_tls_start(struct conn *c)
{
	(void)c;
	return -EPROTONOSUPPORT;
}

void front_tls_handshake(struct conn *c)
{
	conn_close(c);
}

long front_tls_recv(struct conn *c, void *p, size_t n)
{
	(void)c, (void)p, (void)n;
	return -EPROTO;
}

long front_tls_send(struct conn *c, const void *p, size_t n)
{
	(void)c, (void)p, (void)n;
	return -EPROTO;
}

bool front_tls_wants_write(const struct conn *c)
{
	(void)c;
	return false;
}

void front_tls_shutdown(struct conn *c)
{
	(void)c;
}

void front_tls_free(struct conn *c)
{
	c->tls = NULL;
}
