/* pidlock.c - one process per directory or state file (flock + pid). */
#include "core/pidlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/num.h"

/* The pid the holder wrote, or 0 when the file says nothing usable. */
static unsigned long pidlock_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	uint64_t pid;
	size_t len = 0;

	if (n <= 0)
		return 0;
	while (len < (size_t)n && buf[len] >= '0' && buf[len] <= '9')
		len++;
	if (num_parse_u64(buf, len, 1, 1u << 22, &pid) < 0)
		return 0;
	return (unsigned long)pid;
}

static int pidlock_write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

int pidlock_take(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	unsigned long pid;

	if (fd < 0) {
		snprintf(err, errlen, "lock file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		pid = e == EWOULDBLOCK ? pidlock_holder(fd) : 0;
		if (e != EWOULDBLOCK)
			snprintf(err, errlen, "lock file %s: %s", path, strerror(e));
		else if (pid)
			snprintf(err, errlen, "%s is held by another running process "
				 "(pid %lu); stop it first", path, pid);
		else
			snprintf(err, errlen, "%s is held by another running process; "
				 "stop it first", path);
		close(fd);
		return -1;
	}
	if (pidlock_write_pid(fd) < 0) {
		snprintf(err, errlen, "lock file %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void pidlock_release(int fd)
{
	if (fd >= 0)
		close(fd);	/* drops the flock */
}
