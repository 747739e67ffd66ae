/* file.c - atomic file replacement (the rules are in file.h). */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/secure.h"

/* A fresh name collides only with a file someone planted; a few tries
 * with new random names, then give up rather than loop. */
#define FILE_TEMP_TRIES 8

int file_sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	int fd, rc = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Creates `tmp` new (never an existing file, never through a symlink)
 * and sets `mode` on it before anything is written: open()'s mode is
 * filtered by the umask, fchmod's is not. Returns the fd or -errno. */
static int file_create_excl(const char *tmp, mode_t mode)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		      mode & 0600);
	int err;

	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0) {
		err = errno;
		close(fd);
		unlink(tmp);
		return -err;
	}
	return fd;
}

/* Opens a new temporary file beside `path` as DIR/.NAME.RANDOM.tmp and
 * puts its name in `tmp`. Returns the fd or -errno. */
static int file_temp_open(const char *path, mode_t mode, char *tmp, size_t cap)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	const char *base = path + dirlen;
	unsigned char r[8];
	int fd = -EEXIST;

	for (int i = 0; i < FILE_TEMP_TRIES && fd == -EEXIST; i++) {
		if (secure_random(r, sizeof(r)) < 0)
			return -EIO;
		if (snprintf(tmp, cap,
			     "%.*s.%s.%02x%02x%02x%02x%02x%02x%02x%02x.tmp",
			     dirlen, path, base, r[0], r[1], r[2], r[3], r[4],
			     r[5], r[6], r[7]) >= (int)cap)
			return -ENAMETOOLONG;
		fd = file_create_excl(tmp, mode);
	}
	return fd;
}

static int file_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[4096];
	int fd, rc;

	if (!*path || path[strlen(path) - 1] == '/')
		return -EINVAL;
	fd = file_temp_open(path, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	rc = file_write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return file_sync_dir(path);
}
