/* acme_solver.h - how a challenge gets answered.
 *
 * The client picks, per authorization, the first solver whose type the CA
 * offers (wildcards only ever get dns-01). present() makes the answer
 * visible (an HTTP-01 token in the challenge store, a TLS-ALPN-01
 * certificate, a TXT record through a DNS provider) and returns only when
 * the CA may look (for DNS, once the record is seen at the zone's
 * authoritative servers). cleanup() undoes it, also after failures.
 * Both run on the ACME worker thread and may block. */
#ifndef POSTERN_ACME_ACME_SOLVER_H
#define POSTERN_ACME_ACME_SOLVER_H

#include <stdbool.h>
#include <stddef.h>

struct acme_solver;

struct acme_solver_ops {
	const char *type;	/* "http-01", "tls-alpn-01", "dns-01" */
	/* `domain` is the identifier without any "*." prefix. Returns 0 or
	 * -errno with a message in err. */
	int (*present)(struct acme_solver *s, const char *domain,
		       const char *token, const char *key_authz, char *err,
		       size_t errlen);
	void (*cleanup)(struct acme_solver *s, const char *domain,
			const char *token, const char *key_authz);
};

struct acme_solver {
	const struct acme_solver_ops *ops;
	void *ctx;
};

#endif
