/* control.h - the control plane inside the hub: the store, the admin API
 * and the audit log on the hub's control thread (the main thread).
 *
 * With `data_dir` set in [hub], the hub opens the store there at start
 * (migrating it, creating the keys and, on first start, the admin user
 * with a one-time setup link printed on stdout), answers every admin
 * request with api_handle(), and takes its routes from the store instead
 * of a routes file: after every committed change the routes are compiled
 * into a new snapshot and published, while requests in flight finish on
 * the old one. */
#ifndef POSTERN_HUB_CONTROL_H
#define POSTERN_HUB_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/loop.h"

struct api;
struct auth_users;
struct hub;
struct route_table;
struct tls_certset;

/* The control plane's state, a field of struct hub (control thread). */
struct hub_control {
	struct api *api;	/* NULL without a data_dir */
	struct loop_timer tick;
	int lock_fd;		/* DATA/lock, held while the store is open */
};

/* Opens the control plane when the config has a data_dir (before the
 * first snapshot is built). Returns 0 (also when there is no data_dir) or
 * -1 with a message in err. */
int hub_control_open(struct hub *hub, char *err, size_t errlen);
/* Once the control loop and the control socket exist: the periodic timer
 * (audit checkpoints, expiry), the socket's group permissions and the
 * password threads (auth/auth_pwcheck.h). */
int hub_control_attach(struct hub *hub);
/* When the hub starts stopping (and again before the workers are freed):
 * stops the password threads and answers the logins still waiting for
 * them with 503; later logins get 503 at once. Idempotent. */
void hub_control_quiesce(struct hub *hub);
/* Signs the audit tail and closes the store. */
void hub_control_close(struct hub *hub);
/* Whether routes come from the store. */
bool hub_control_active(const struct hub *hub);
/* The control plane's API state (NULL without a data_dir). */
struct api *hub_control_api(const struct hub *hub);
/* Compiles the store's routes into a table (control thread). A route the
 * front cannot compile (a target that does not resolve, a kind it does
 * not serve yet) is left out and logged, not fatal to the others.
 * Returns the table, or NULL with a message in err. */
struct route_table *hub_control_routes(struct hub *hub, char *err, size_t errlen);

/* The users who may log in to routes and the cookie key, for a snapshot
 * (control thread). NULL without a store, or when it cannot be read:
 * then login routes refuse everyone (401), never admit. */
struct auth_users *hub_control_users(struct hub *hub);
/* The route tokens and share links for a snapshot, carrying over the
 * tokens' last-use clocks of the current one (control thread). NULL
 * without a store or on error: then no token admits anyone. */
struct auth_creds *hub_control_creds(struct hub *hub);

/* Adds the store's certificates (keys unsealed for the moment they are
 * parsed, then wiped) to a certificate set being built for a snapshot. A
 * certificate TLS refuses (expired, no DNS name) is left out and logged. */
void hub_control_certs(struct hub *hub, struct tls_certset *set);

#endif
