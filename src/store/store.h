/* store.h - the hub's SQLite store: open, migrate, transactions.
 *
 * One connection per thread that uses it (the hub's control thread; a
 * backup or an offline `postern audit verify` open their own). The
 * database runs in WAL mode with foreign keys on and a busy timeout, and
 * is migrated to STORE_SCHEMA_VERSION when opened. Everything that changes
 * the store runs inside store_begin()/store_commit(), together with its
 * audit entry (src/audit), so a change and its record land or vanish
 * together. */
#ifndef POSTERN_STORE_STORE_H
#define POSTERN_STORE_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_DB_NAME "postern.db"
#define STORE_BUSY_TIMEOUT_MS 5000

struct store {
	sqlite3 *db;
	int version;	/* schema version after open */
};

enum store_open_flags {
	STORE_F_READONLY = 1u << 0,	/* no migrations, no writes */
	STORE_F_NO_MIGRATE = 1u << 1,	/* tests: open at whatever version */
};

/* Opens (creating it 0600 if missing, unless read-only) the database at
 * `path`, sets the connection up and applies pending migrations.
 * Refuses a database whose schema is newer than this binary. Returns 0, or
 * -1 with a message in `err`; on failure `s` holds nothing. */
int store_open(struct store *s, const char *path, unsigned flags, char *err,
	       size_t errlen);
void store_close(struct store *s);

/* BEGIN IMMEDIATE (takes the write lock now, so a transaction never fails
 * half way for want of it). Returns 0 or -1 (logged). */
int store_begin(struct store *s);
/* Returns 0, or -1 after rolling back (logged). */
int store_commit(struct store *s);
/* Rolls back the open transaction, if any. */
void store_rollback(struct store *s);

/* Runs SQL with no results. Returns 0 or -1 with sqlite's message in err
 * (err may be NULL: then the error is logged). */
int store_exec(struct store *s, const char *sql, char *err, size_t errlen);
/* Prepares one statement. Returns it, or NULL (logged). */
sqlite3_stmt *store_prepare(struct store *s, const char *sql);
/* Runs `sql`, one statement that returns no rows, with the `n` integers
 * of `v` bound to its parameters ?1..?n. Returns 0, or -1 (logged). */
int store_exec_i64(struct store *s, const char *sql, const int64_t *v, size_t n);
/* A parameter of store_exec_args: the text when `text` is set, else the
 * integer `i`. STORE_I(v) and STORE_T(s) make one. */
struct store_arg {
	const char *text;
	int64_t i;
};
#define STORE_I(v) ((struct store_arg){ .i = (v) })
#define STORE_T(s) ((struct store_arg){ .text = (s) })
/* Runs `sql`, one statement that returns no rows, with the `n` values of
 * `a` bound to ?1..?n (texts are read during the call only). Returns the
 * number of rows it changed, or -1 (logged). */
int store_exec_args(struct store *s, const char *sql, const struct store_arg *a, size_t n);
/* Runs `sql`, with the `n` values of `a` bound to ?1..?n as in
 * store_exec_args: the first row's first column, `none` when there is no
 * row or it is NULL, `fail` when the statement cannot be prepared. */
int64_t store_query_int_args(struct store *s, const char *sql, const struct store_arg *a,
			     size_t n, int64_t none, int64_t fail);
/* The same with no parameters, and `dflt` for both `none` and `fail`. */
int64_t store_query_int(struct store *s, const char *sql, int64_t dflt);
/* The same with the integer `arg` bound to ?1. */
int64_t store_query_int_arg(struct store *s, const char *sql, int64_t arg, int64_t none,
			    int64_t fail);

/* Milliseconds since the epoch (the time stamps stored in rows). */
int64_t store_now_ms(void);

/* Binds a NUL-terminated string, or NULL when `v` is NULL. */
int store_bind_text(sqlite3_stmt *st, int idx, const char *v);
/* Copies text column `col` of the current row into `out` (`len` bytes,
 * always terminated, cut to fit); NULL, or no memory to convert it, gives
 * "". */
void store_column_copy(sqlite3_stmt *st, int col, char *out, size_t len);

/* True when the last error on the connection was a constraint of `kind`
 * (SQLITE_CONSTRAINT_UNIQUE, _FOREIGNKEY, _CHECK, ...). */
bool store_constraint_is(struct store *s, int kind);

/* Makes a consistent copy of the live database at `src` into `dst` (a new
 * file, 0600) with SQLite's online backup API, while other processes keep
 * writing. Returns 0 or -1 with a message. */
int store_backup(const char *src, const char *dst, char *err, size_t errlen);

#endif
