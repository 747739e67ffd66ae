/* backup.c - a consistent copy of the live store (SQLite online backup). */
#define LOG_SUBSYS "store"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "store/store.h"

/* Copies every page of `src` into `dst` under one read transaction: in WAL
 * mode the hub keeps writing meanwhile, and the copy is the database as of
 * the moment the copy started. */
static int backup_copy(sqlite3 *src, sqlite3 *dst, char *err, size_t errlen)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc;

	if (!b) {
		snprintf(err, errlen, "backup: %s", sqlite3_errmsg(dst));
		return -1;
	}
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "backup: %s", sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

/* The copy is one self-contained file (no -wal beside it) that passes
 * SQLite's integrity check. */
static int backup_finish_copy(struct store *d, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int ok;

	if (store_exec(d, "PRAGMA journal_mode = DELETE", err, errlen) < 0)
		return -1;
	st = store_prepare(d, "PRAGMA integrity_check");
	if (!st) {
		snprintf(err, errlen, "integrity_check: %s", sqlite3_errmsg(d->db));
		return -1;
	}
	ok = sqlite3_step(st) == SQLITE_ROW &&
	     !strcmp((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	if (!ok)
		snprintf(err, errlen, "the copy fails PRAGMA integrity_check");
	return ok ? 0 : -1;
}

int store_backup(const char *src, const char *dst, char *err, size_t errlen)
{
	struct store s = { 0 }, d = { 0 };
	char tmp[4096], why[256];
	int rc = -1, fd;

	if (snprintf(tmp, sizeof(tmp), "%s.partial", dst) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: name too long", dst);
		return -1;
	}
	if (access(dst, F_OK) == 0) {
		snprintf(err, errlen, "%s exists already (not overwritten)", dst);
		return -1;
	}
	unlink(tmp);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	close(fd);
	if (store_open(&s, src, STORE_F_READONLY, err, errlen) < 0)
		goto out;
	/* The copy's connection is plain (rollback journal): WAL settings
	 * on an empty destination would only get in the copy's way. */
	if (sqlite3_open_v2(tmp, &d.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", tmp,
			 d.db ? sqlite3_errmsg(d.db) : "out of memory");
		goto out;
	}
	if (backup_copy(s.db, d.db, why, sizeof(why)) < 0 ||
	    backup_finish_copy(&d, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s", why);
		goto out;
	}
	store_close(&d);
	if (rename(tmp, dst) < 0) {
		snprintf(err, errlen, "%s: %s", dst, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	store_close(&s);
	store_close(&d);
	if (rc < 0)
		unlink(tmp);
	return rc;
}
