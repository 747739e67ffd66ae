/* pidlock.h - one process per directory or state file: an exclusive
 * flock(2) on a lock file that carries the holder's pid. */
#ifndef POSTERN_CORE_PIDLOCK_H
#define POSTERN_CORE_PIDLOCK_H

#include <stddef.h>

/* Takes an exclusive, non-blocking lock on `path` (created 0600 if
 * missing) and writes this process's pid into it. The lock lives as long
 * as the returned descriptor (close-on-exec): the kernel drops it when
 * the process exits, however it exits, so a stale file never blocks a
 * restart. Returns the fd, or -1 with a message in `err` naming the
 * process that holds the lock when another one does. */
int pidlock_take(const char *path, char *err, size_t errlen);
/* Releases a lock taken by pidlock_take (fd < 0 is fine). The file stays:
 * removing it would race with a process that just opened it. */
void pidlock_release(int fd);

#endif
