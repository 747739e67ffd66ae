/* pidlock.h - one process per directory or state file: an exclusive
 * flock(2), and the holder's pid in the refusal. */
#ifndef POSTERN_CORE_PIDLOCK_H
#define POSTERN_CORE_PIDLOCK_H

#include <stdbool.h>
#include <stddef.h>

/* Takes an exclusive, non-blocking lock on `path`. With `create` the file
 * is a lock file of its own: created 0600 if missing, and this process's
 * pid written into it. Without, `path` is an existing file locked as it
 * is, opened read-only (a state file in a directory the process may not
 * write), and the holder is looked up in /proc/locks. The lock lives as
 * long as the returned descriptor (close-on-exec): the kernel drops it
 * when the process exits, however it exits, so a stale file never blocks
 * a restart. Returns the fd, or -1 with a message in `err` naming the
 * process that holds the lock when another one does (when it can be
 * found) and errno EWOULDBLOCK in that case. */
int pidlock_take(const char *path, bool create, char *err, size_t errlen);
/* Releases a lock taken by pidlock_take (fd < 0 is fine). The file stays:
 * removing it would race with a process that just opened it. */
void pidlock_release(int fd);

#endif
