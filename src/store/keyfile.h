/* keyfile.h - small private files beside the store: keys, the audit head.
 *
 * Keys are kept outside the database so that a copy of the database (a
 * backup, a stolen file) does not carry them. Such a file must be mode
 * 0600 (or stricter) to be read; it is replaced atomically, so a crash
 * leaves either the old or the new content, never a mix. */
#ifndef POSTERN_STORE_KEYFILE_H
#define POSTERN_STORE_KEYFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Reads at most `cap` bytes of `path` into `out`. Refuses a file that
 * group or others may access, or that is larger than `cap`. Returns the
 * byte count, -ENOENT when the file does not exist, or -1 with a message
 * in `err`. The caller wipes `out` if it is a secret. */
ssize_t keyfile_read(const char *path, void *out, size_t cap, char *err,
		     size_t errlen);
/* Replaces `path` with `len` bytes, mode `mode`, through file_replace()
 * (core/file.h: new random temporary file, mode before data, fsync,
 * rename, directory fsync). Returns 0, or -1 with a message in `err`
 * (the old file is untouched). */
int keyfile_write(const char *path, const void *data, size_t len, mode_t mode,
		  char *err, size_t errlen);

#endif
