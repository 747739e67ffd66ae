/* agent_service.c - the joined agent handed to the postern-agent unit. */
#include "agent/agent_service.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/allow.h"
#include "core/buf.h"
#include "core/svc.h"
#include "store/keyfile.h"

#define AGENT_UNIT "postern-agent.service"

/* Characters an allow entry may have (CIDRs, names, ports, brackets):
 * the file is read by systemd, which splits $POSTERN_AGENT_ARGS on
 * spaces and would expand other specials. */
static bool service_plain(const char *s)
{
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789.:/*[]-_,", *s))
			return false;
	return true;
}

int agent_service_check(char *const *allow, unsigned n, char *err, size_t errlen)
{
	struct allow a;
	int r = 0;

	allow_init(&a);
	for (unsigned i = 0; r == 0 && i < n; i++) {
		if (!service_plain(allow[i])) {
			snprintf(err, errlen, "--allow %s: unexpected character", allow[i]);
			r = -1;
		} else if (allow_add(&a, allow[i], err, errlen) < 0) {
			r = -1;
		}
	}
	allow_free(&a);
	return r;
}

static int service_env(char *const *allow, unsigned n, char *err, size_t errlen)
{
	struct buf b;
	int r;

	buf_init(&b, 16 << 10);
	r = buf_printf(&b, "# Written by `postern agent join --enable-service`: the targets\n"
		       "# this agent may reach (docs/configuration.md, --allow).\n"
		       "POSTERN_AGENT_ARGS=\"");
	for (unsigned i = 0; r == 0 && i < n; i++)
		r = buf_printf(&b, "%s--allow %s", i ? " " : "", allow[i]);
	if (r == 0)
		r = buf_printf(&b, "\"\n");
	if (r == 0)
		r = keyfile_write(AGENT_SERVICE_ENV, buf_head(&b), b.len, 0644, err, errlen);
	else
		snprintf(err, errlen, "out of memory");
	buf_free(&b);
	return r;
}

int agent_service_enable(char *const *allow, unsigned n, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam("postern");

	if (!pw) {
		snprintf(err, errlen, "no user postern (install the postern package)");
		return -1;
	}
	if (chown(AGENT_SERVICE_STATE, pw->pw_uid, pw->pw_gid) < 0) {
		snprintf(err, errlen, "%s: %s", AGENT_SERVICE_STATE, strerror(errno));
		return -1;
	}
	if (service_env(allow, n, err, errlen) < 0)
		return -1;
	printf("wrote %s\n", AGENT_SERVICE_ENV);
	if (!svc_systemd_running()) {
		printf("systemd is not running here: start the agent as the unit would:\n"
		       "  setpriv --reuid postern --regid postern --init-groups "
		       "postern agent run --state %s ...\n", AGENT_SERVICE_STATE);
		return 0;
	}
	if (svc_enable_now(AGENT_UNIT, err, errlen) < 0)
		return -1;
	printf("enabled and started " AGENT_UNIT " (journalctl -u postern-agent)\n");
	return 0;
}
