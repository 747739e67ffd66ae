/* svc.h - handing a daemon to the service manager (systemd), for the
 * setup commands (`postern hub init`, `postern agent join
 * --enable-service`). */
#ifndef POSTERN_CORE_SVC_H
#define POSTERN_CORE_SVC_H

#include <stdbool.h>
#include <stddef.h>

/* True when systemd is this machine's running init (sd_booted(3)'s test:
 * /run/systemd/system exists). */
bool svc_systemd_running(void);
/* Runs `systemctl enable --now UNIT` (no shell; stdout and stderr are
 * the caller's). Returns 0, or -1 with why in err. */
int svc_enable_now(const char *unit, char *err, size_t errlen);

#endif
