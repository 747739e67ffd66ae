/* migrate.c - applies the embedded schema migrations in transactions. */
#define LOG_SUBSYS "store"
#include "store/migrate.h"

#include <stdio.h>

#include "core/log.h"

int migrate_version(struct store *s)
{
	return (int)store_query_int(s, "PRAGMA user_version", -1);
}

/* Reports the first row of `PRAGMA foreign_key_check`, if any. */
static int migrate_fk_check(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, "PRAGMA foreign_key_check");
	int rc;

	if (!st) {
		snprintf(err, errlen, "foreign_key_check: %s", sqlite3_errmsg(s->db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(err, errlen, "a row of %s references a missing %s row",
			 (const char *)sqlite3_column_text(st, 0),
			 (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int migrate_record(struct store *s, const struct schema_migration *m)
{
	sqlite3_stmt *st = store_prepare(s,
		"INSERT INTO schema_migrations(version, name, applied_at) "
		"VALUES (?, ?, ?)");
	char sql[64];
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, m->version);
	sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, store_now_ms());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", m->version);
	return store_exec(s, sql, NULL, 0);
}

/* One migration, all or nothing. */
static int migrate_one(struct store *s, const struct schema_migration *m,
		       char *err, size_t errlen)
{
	char why[256];

	if (store_begin(s) < 0) {
		snprintf(err, errlen, "migration %d: cannot begin: %s",
			 m->version, sqlite3_errmsg(s->db));
		return -1;
	}
	if (store_exec(s, m->sql, why, sizeof(why)) < 0 ||
	    migrate_fk_check(s, why, sizeof(why)) < 0 ||
	    migrate_record(s, m) < 0) {
		store_rollback(s);
		snprintf(err, errlen, "migration %d (%s) failed: %s", m->version,
			 m->name, why);
		return -1;
	}
	if (store_commit(s) < 0) {
		snprintf(err, errlen, "migration %d: commit failed", m->version);
		return -1;
	}
	log_info("schema migrated to version %d (%s)", m->version, m->name);
	return 0;
}

int migrate_to(struct store *s, int target, char *err, size_t errlen)
{
	int cur = migrate_version(s), rc = 0;

	if (cur < 0) {
		snprintf(err, errlen, "cannot read the schema version: %s",
			 sqlite3_errmsg(s->db));
		return -1;
	}
	if (cur > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "the database schema is version %d but this postern "
			 "knows versions up to %d: run a newer postern, or "
			 "restore a backup made by this version", cur,
			 STORE_SCHEMA_VERSION);
		return -1;
	}
	if (target > STORE_SCHEMA_VERSION)
		target = STORE_SCHEMA_VERSION;
	/* A table rebuild (drop + rename) must not cascade or trip over
	 * references half way; the check before each commit replaces it.
	 * The pragma is a no-op inside a transaction, so set it here. */
	if (cur < target && store_exec(s, "PRAGMA foreign_keys = OFF", err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < schema_migrations_count && rc == 0; i++) {
		const struct schema_migration *m = &schema_migrations[i];
		if (m->version > cur && m->version <= target)
			rc = migrate_one(s, m, err, errlen);
	}
	if (store_exec(s, "PRAGMA foreign_keys = ON", rc ? NULL : err, errlen) < 0)
		return -1;
	return rc;
}
