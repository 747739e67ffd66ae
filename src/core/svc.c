/* svc.c - systemd detection and `systemctl enable --now`. */
#include "core/svc.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

bool svc_systemd_running(void)
{
	struct stat st;

	return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

int svc_enable_now(const char *unit, char *err, size_t errlen)
{
	char *argv[] = { (char *)"systemctl", (char *)"enable", (char *)"--now",
			 (char *)unit, NULL };
	pid_t pid;
	int st, r = posix_spawnp(&pid, "systemctl", NULL, NULL, argv, environ);

	if (r) {
		snprintf(err, errlen, "systemctl: %s", strerror(r));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "systemctl: %s", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		snprintf(err, errlen, "systemctl enable --now %s failed (see "
			 "'systemctl status %s')", unit, unit);
		return -1;
	}
	return 0;
}
