/* front_ctx.c - the workers' shared context: set-up and the connection
 * counters every worker checks against the limits. */
#include "front/front_ctx.h"

#include <string.h>

#include "front/settings.h"

void front_ctx_init(struct front_ctx *fc)
{
	memset(fc, 0, sizeof(*fc));
	fc->access_fd = fc->metrics_fd = fc->control_fd = -1;
	fc->agent_fd[0] = fc->agent_fd[1] = -1;
	pthread_mutex_init(&fc->admin_lock, NULL);
	metrics_init(&fc->metrics);
	acme_chall_init(&fc->acme_chall);
}

/* After every worker has stopped (their counter blocks go with it). */
void front_ctx_fini(struct front_ctx *fc)
{
	pthread_mutex_destroy(&fc->admin_lock);
	metrics_fini(&fc->metrics);
	acme_chall_fini(&fc->acme_chall);
}

/* ---- connection limits ---- */

bool front_conn_admit(struct front_ctx *fc, const struct front_settings *s, uint32_t ip_hash)
{
	atomic_uint *ip = &fc->ip_conns[ip_hash % FRONT_IP_SLOTS];

	if (atomic_fetch_add(&fc->nconns, 1) >= s->max_conns) {
		atomic_fetch_sub(&fc->nconns, 1);
		return false;
	}
	if (atomic_fetch_add(ip, 1) >= s->max_conns_per_ip) {
		atomic_fetch_sub(ip, 1);
		atomic_fetch_sub(&fc->nconns, 1);
		return false;
	}
	return true;
}

void front_conn_release(struct front_ctx *fc, uint32_t ip_hash)
{
	atomic_fetch_sub(&fc->ip_conns[ip_hash % FRONT_IP_SLOTS], 1);
	atomic_fetch_sub(&fc->nconns, 1);
}

bool front_h2_up_admit(struct front_ctx *fc, uint32_t ip_hash, unsigned max)
{
	atomic_uint *n = &fc->ip_h2_up[ip_hash % FRONT_IP_SLOTS];

	if (atomic_fetch_add(n, 1) >= max) {
		atomic_fetch_sub(n, 1);
		return false;
	}
	return true;
}

void front_h2_up_release(struct front_ctx *fc, uint32_t ip_hash)
{
	atomic_fetch_sub(&fc->ip_h2_up[ip_hash % FRONT_IP_SLOTS], 1);
}
