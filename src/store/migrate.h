/* migrate.h - numbered schema migrations, embedded in the binary.
 *
 * The schema version lives in SQLite's `PRAGMA user_version` (part of the
 * database header, so it changes atomically with the migration's
 * transaction); `schema_migrations` keeps a human-readable history. Each
 * migration runs in its own transaction with foreign keys deferred to a
 * `PRAGMA foreign_key_check` before commit, so a table rebuild keeps its
 * references intact. Migrations are append-only: a released one is never
 * edited, a fix is a new number. */
#ifndef POSTERN_STORE_MIGRATE_H
#define POSTERN_STORE_MIGRATE_H

#include <stddef.h>

#include "store/store.h"

struct schema_migration {
	int version;	/* 1, 2, 3, ... without gaps */
	const char *name;
	const char *sql;
};

/* The migrations, in order (src/store/schema.c). */
extern const struct schema_migration schema_migrations[];
extern const size_t schema_migrations_count;
/* The newest version this binary knows. */
#define STORE_SCHEMA_VERSION 13

/* Returns the database's schema version, or -1 (logged). */
int migrate_version(struct store *s);
/* Applies migrations after the current version up to `target` (tests
 * build fixtures of earlier versions with it). Refuses a database newer
 * than STORE_SCHEMA_VERSION. Returns 0, or -1 with a message in `err`;
 * migrations that succeeded before the failing one stay applied. */
int migrate_to(struct store *s, int target, char *err, size_t errlen);

#endif
