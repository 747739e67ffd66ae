/* file.h - the one way Postern replaces a file on disk.
 *
 * Every file the daemons write (keys, certificates, the agent's state,
 * the audit head, configuration) goes through file_replace(), so the
 * safety rules live in one place: the data goes to a new file with a
 * random name beside the target, created with O_EXCL|O_NOFOLLOW (a
 * planted symlink or file is never followed or reused) and given its
 * final mode before the first byte; it is written in full, fsynced,
 * renamed over the target (rename replaces a symlink at the target, it
 * does not write through it) and the directory is fsynced. A crash or
 * an error leaves the old file or the new one, never a mix. */
#ifndef POSTERN_CORE_FILE_H
#define POSTERN_CORE_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Replaces `path` with the `len` bytes at `data`, mode `mode` exactly
 * (the umask does not narrow or widen it). Returns 0, or -errno with
 * the old file untouched and no temporary file left behind. */
int file_replace(const char *path, const void *data, size_t len, mode_t mode);
/* fsyncs the directory holding `path` (after a rename or unlink there).
 * Returns 0 or -errno. */
int file_sync_dir(const char *path);

#endif
