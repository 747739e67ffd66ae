/* keyfile.c - reading and atomically replacing small private files. */
#include "store/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"

static ssize_t keyfile_read_fd(int fd, const char *path, void *out, size_t cap,
			       char *err, size_t errlen)
{
	struct stat sb;
	size_t got = 0;

	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	if (sb.st_mode & 077) {
		snprintf(err, errlen,
			 "%s: mode %03o lets others read it; it must be 0600",
			 path, (unsigned)(sb.st_mode & 0777));
		return -1;
	}
	if ((size_t)sb.st_size > cap) {
		snprintf(err, errlen, "%s: too large (%lld bytes)", path,
			 (long long)sb.st_size);
		return -1;
	}
	while (got < cap) {
		ssize_t n = read(fd, (char *)out + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

ssize_t keyfile_read(const char *path, void *out, size_t cap, char *err,
		     size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = keyfile_read_fd(fd, path, out, cap, err, errlen);
	close(fd);
	return n;
}

int keyfile_write(const char *path, const void *data, size_t len, mode_t mode,
		  char *err, size_t errlen)
{
	int rc = file_replace(path, data, len, mode);

	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return -1;
	}
	return 0;
}
