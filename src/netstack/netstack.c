/* netstack.c - picking and opening a netstack mode (see netstack.h). */
#define LOG_SUBSYS "netstack"
#include "netstack/netstack.h"

#include <errno.h>
#include <string.h>

#include "core/compiler.h"
#include "core/log.h"

static const char *const netstack_names[NETSTACK_MODE_MAX] = {
	[NETSTACK_AUTO] = "auto",
	[NETSTACK_KERNEL] = "kernel",
	[NETSTACK_LWIP] = "lwip",
	[NETSTACK_TUN] = "tun",
};

int netstack_mode_parse(const char *s, enum netstack_mode *out)
{
	for (unsigned i = 0; i < ARRAY_SIZE(netstack_names); i++)
		if (!strcmp(s, netstack_names[i])) {
			*out = (enum netstack_mode)i;
			return 0;
		}
	return -EINVAL;
}

const char *netstack_mode_name(enum netstack_mode m)
{
	return (unsigned)m < ARRAY_SIZE(netstack_names) ? netstack_names[m] : "?";
}

int netstack_open(enum netstack_mode mode, struct loop *loop,
		  const struct netstack_conf *conf, const struct netstack_accept *acc,
		  struct pool *pool, netstack_output_fn *output, void *ctx,
		  struct netstack **out)
{
	struct netstack base;
	int rc;

	memset(&base, 0, sizeof(base));
	base.loop = loop;
	base.acc = *acc;
	base.pool = pool;
	base.output = output;
	base.output_ctx = ctx;
	base.conf = *conf;
	switch (mode) {
	case NETSTACK_KERNEL:
		return netstack_kernel_open(&base, true, out);
	case NETSTACK_TUN:
		return netstack_kernel_open(&base, false, out);
	case NETSTACK_LWIP:
		return netstack_lwip_open(&base, out);
	case NETSTACK_AUTO:
		rc = netstack_kernel_open(&base, true, out);
		if (rc == 0)
			return 0;
		log_info("kernel netstack in a user namespace unavailable (%s); "
			 "using lwIP", strerror(-rc));
		return netstack_lwip_open(&base, out);
	default:
		return -EINVAL;
	}
}
