/* pidlock.c - one process per directory or state file (flock + pid). */
#include "core/pidlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/num.h"

#define PIDLOCK_PID_MAX (1u << 22)

/* The leading decimal number of `s` (at most PIDLOCK_PID_MAX), or 0. */
static unsigned long pidlock_number(const char *s, size_t n)
{
	uint64_t v;
	size_t len = 0;

	while (len < n && s[len] >= '0' && s[len] <= '9')
		len++;
	return num_parse_u64(s, len, 1, PIDLOCK_PID_MAX, &v) < 0 ? 0 : (unsigned long)v;
}

/* The pid a lock file's holder wrote, or 0. */
static unsigned long pidlock_holder_file(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	return n > 0 ? pidlock_number(buf, (size_t)n) : 0;
}

/* The pid holding a FLOCK on fd's file per /proc/locks ("1: FLOCK
 * ADVISORY WRITE PID MAJ:MIN:INODE 0 EOF"), or 0 when it cannot be read
 * (a sandbox hiding it). */
static unsigned long pidlock_holder_proc(int fd)
{
	char line[256], want[64];
	struct stat st;
	unsigned long pid = 0;
	FILE *f;

	if (fstat(fd, &st) < 0 || !(f = fopen("/proc/locks", "re")))
		return 0;
	snprintf(want, sizeof(want), " %02x:%02x:%llu ", major(st.st_dev), minor(st.st_dev),
		 (unsigned long long)st.st_ino);
	while (!pid && fgets(line, sizeof(line), f)) {
		char *at = strstr(line, want), *p = at;

		if (!at || !strstr(line, "FLOCK"))
			continue;
		while (p > line && p[-1] == ' ')
			p--;
		while (p > line && p[-1] >= '0' && p[-1] <= '9')
			p--;
		pid = pidlock_number(p, (size_t)(at - p));
	}
	fclose(f);
	return pid;
}

static int pidlock_write_pid(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

int pidlock_take(const char *path, bool create, char *err, size_t errlen)
{
	int fd = create ? open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)
			: open(path, O_RDONLY | O_CLOEXEC);
	unsigned long pid;

	if (fd < 0) {
		int e = errno;

		snprintf(err, errlen, "lock %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		pid = e != EWOULDBLOCK ? 0 : create ? pidlock_holder_file(fd)
						    : pidlock_holder_proc(fd);
		if (e != EWOULDBLOCK)
			snprintf(err, errlen, "lock %s: %s", path, strerror(e));
		else if (pid)
			snprintf(err, errlen, "%s is locked by another running process "
				 "(pid %lu); stop it first", path, pid);
		else
			snprintf(err, errlen, "%s is locked by another running process; "
				 "stop it first", path);
		close(fd);
		errno = e;	/* EWOULDBLOCK: held by another process */
		return -1;
	}
	if (create && pidlock_write_pid(fd) < 0) {
		snprintf(err, errlen, "lock %s: %s", path, strerror(errno));
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
