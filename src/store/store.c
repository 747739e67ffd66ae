/* store.c - opening the SQLite store and running transactions. */
#define LOG_SUBSYS "store"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "store/migrate.h"

int64_t store_now_ms(void)
{
	return (int64_t)(clock_wall_ns() / NSEC_PER_MSEC);
}

int store_exec(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc == SQLITE_OK)
		return 0;
	if (err)
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errstr(rc));
	else
		log_err("sql failed: %s", msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return -1;
}

sqlite3_stmt *store_prepare(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_err("prepare failed: %s", sqlite3_errmsg(s->db));
		return NULL;
	}
	return st;
}

/* Steps `st` to its end and finalizes it. Returns the rows it changed,
 * or -1 (logged). */
static int store_step_done(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE)
		log_err("sql failed: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? sqlite3_changes(s->db) : -1;
}

int store_exec_i64(struct store *s, const char *sql, const int64_t *v, size_t n)
{
	sqlite3_stmt *st = store_prepare(s, sql);

	if (!st)
		return -1;
	for (size_t i = 0; i < n; i++)
		sqlite3_bind_int64(st, (int)i + 1, v[i]);
	return store_step_done(s, st) < 0 ? -1 : 0;
}

/* Binds the `n` values of `a` to ?1..?n of `st` (texts not copied). */
static void store_bind_args(sqlite3_stmt *st, const struct store_arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i].text)
			sqlite3_bind_text(st, (int)i + 1, a[i].text, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(st, (int)i + 1, a[i].i);
	}
}

int store_exec_args(struct store *s, const char *sql, const struct store_arg *a, size_t n)
{
	sqlite3_stmt *st = store_prepare(s, sql);

	if (!st)
		return -1;
	store_bind_args(st, a, n);
	return store_step_done(s, st);
}

int64_t store_query_int_args(struct store *s, const char *sql, const struct store_arg *a,
			     size_t n, int64_t none, int64_t fail)
{
	sqlite3_stmt *st = store_prepare(s, sql);
	int64_t v = none;

	if (!st)
		return fail;
	store_bind_args(st, a, n);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int64_t store_query_int_arg(struct store *s, const char *sql, int64_t arg, int64_t none,
			    int64_t fail)
{
	return store_query_int_args(s, sql, &STORE_I(arg), 1, none, fail);
}

int64_t store_query_int(struct store *s, const char *sql, int64_t dflt)
{
	return store_query_int_args(s, sql, NULL, 0, dflt, dflt);
}

int store_bind_text(sqlite3_stmt *st, int idx, const char *v)
{
	if (!v)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
}

void store_column_copy(sqlite3_stmt *st, int col, char *out, size_t len)
{
	const char *s = (const char *)sqlite3_column_text(st, col);

	snprintf(out, len, "%s", s ? s : "");
}

bool store_constraint_is(struct store *s, int kind)
{
	return sqlite3_extended_errcode(s->db) == kind;
}

int store_begin(struct store *s)
{
	return store_exec(s, "BEGIN IMMEDIATE", NULL, 0);
}

int store_commit(struct store *s)
{
	if (store_exec(s, "COMMIT", NULL, 0) == 0)
		return 0;
	store_rollback(s);
	return -1;
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		store_exec(s, "ROLLBACK", NULL, 0);
}

/* Creates the file 0600 before SQLite does, so the database (and its -wal
 * and -shm files, which SQLite creates with the database's mode) are never
 * readable by others, whatever the umask. */
static int store_precreate(const char *path, char *err, size_t errlen)
{
	/* Only a file that does not exist yet is opened here. Closing any
	 * descriptor of a database file drops every POSIX lock this process
	 * holds on it, SQLite's included: a second connection (the webhook
	 * worker's) opened beside a live one would silently unlock it, and the
	 * next connection to close would take itself for the last, checkpoint
	 * and delete the WAL that the live one still writes to (SQLite's
	 * "How To Corrupt", s2.2). Seen as committed, signed audit entries
	 * gone after a SIGKILL. */
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* Connection settings every store connection runs with. synchronous=FULL:
 * a change the API has acknowledged (and its audit entry) survives a power
 * cut, not only a crash; admin writes are rare enough to pay for it.
 * secure_delete: deleted rows (old ciphertexts, hashes) are overwritten. */
static const char store_pragmas[] =
	"PRAGMA foreign_keys = ON;"
	"PRAGMA trusted_schema = OFF;"
	"PRAGMA secure_delete = ON;"
	"PRAGMA synchronous = FULL;";

static int store_setup(struct store *s, unsigned flags, char *err, size_t errlen)
{
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if (store_exec(s, store_pragmas, err, errlen) < 0)
		return -1;
	if (!(flags & STORE_F_READONLY) &&
	    store_exec(s, "PRAGMA journal_mode = WAL", err, errlen) < 0)
		return -1;
	if (!(flags & (STORE_F_READONLY | STORE_F_NO_MIGRATE)) &&
	    migrate_to(s, STORE_SCHEMA_VERSION, err, errlen) < 0)
		return -1;
	s->version = migrate_version(s);
	if (s->version > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "the database schema is version %d but this postern "
			 "knows versions up to %d: run a newer postern",
			 s->version, STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
}

int store_open(struct store *s, const char *path, unsigned flags, char *err,
	       size_t errlen)
{
	int oflags = SQLITE_OPEN_NOMUTEX;
	char why[256];

	memset(s, 0, sizeof(*s));
	if (flags & STORE_F_READONLY) {
		oflags |= SQLITE_OPEN_READONLY;
	} else {
		oflags |= SQLITE_OPEN_READWRITE;
		if (store_precreate(path, err, errlen) < 0)
			return -1;
	}
	if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return -1;
	}
	if (store_setup(s, flags, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		store_close(s);
		return -1;
	}
	return 0;
}

void store_close(struct store *s)
{
	if (s->db)
		sqlite3_close_v2(s->db);
	s->db = NULL;
}
