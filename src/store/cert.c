/* cert.c - the store's certificate rows (see cert.h). */
#include "store/cert.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int64_t store_cert_id(struct store *s, const char *name)
{
	return store_query_int_args(s, "SELECT id FROM certificates WHERE name = ?",
				    &STORE_T(name), 1, 0, -1);
}

char *store_cert_pem(struct store *s, const char *name)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT cert_pem FROM certificates"
					 " WHERE name = ? AND revoked_at IS NULL");
	char *pem = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		pem = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return pem;
}

int64_t store_cert_write(struct store *s, int64_t id, int64_t rev,
			 const struct store_cert_row *r)
{
	static const char ins[] =
		"INSERT INTO certificates (rev, created_at, name, source, names, issuer,"
		" serial, fingerprint, not_before, not_after, cert_pem, acme)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
	static const char upd[] =
		"UPDATE certificates SET rev = ?1, name = ?3, source = ?4, names = ?5,"
		" issuer = ?6, serial = ?7, fingerprint = ?8, not_before = ?9,"
		" not_after = ?10, cert_pem = ?11, acme = ?12, last_error = NULL,"
		" revoked_at = NULL WHERE id = ?2";
	sqlite3_stmt *st = store_prepare(s, id ? upd : ins);
	const char *text[] = { r->name, r->source, r->names, r->issuer, r->serial,
			       r->fingerprint };
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, rev);
	sqlite3_bind_int64(st, 2, id ? id : store_now_ms());
	for (int i = 0; i < 6; i++)
		sqlite3_bind_text(st, 3 + i, text[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r->not_before);
	sqlite3_bind_int64(st, 10, r->not_after);
	sqlite3_bind_text(st, 11, r->chain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, r->acme, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	return id ? id : sqlite3_last_insert_rowid(s->db);
}

int store_cert_set_error(struct store *s, int64_t id, const char *text)
{
	return store_exec_args(s, "UPDATE certificates SET last_error = ?2 WHERE id = ?1",
			       (const struct store_arg[]){ STORE_I(id), STORE_T(text ? text : "") },
			       2) < 0 ? -1 : 0;
}

int store_cert_set_revoked(struct store *s, int64_t id, int64_t rev,
			   bool revoked, int64_t now_ms)
{
	const struct store_arg a[] = { STORE_I(id), STORE_I(rev), STORE_I(now_ms) };

	if (revoked)
		return store_exec_args(s, "UPDATE certificates SET rev = ?2,"
				       " revoked_at = ?3 WHERE id = ?1", a, 3) < 0 ? -1 : 0;
	return store_exec_args(s, "UPDATE certificates SET rev = ?2, revoked_at = NULL,"
			       " last_error = NULL WHERE id = ?1", a, 2) < 0 ? -1 : 0;
}

/* Hands one row's names and options to fn. */
static void store_cert_acme_row(sqlite3_stmt *st, store_cert_acme_fn *fn, void *arg)
{
	json_t *names = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
	json_t *o = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
	const char *list[STORE_CERT_MAX_NAMES];
	struct store_cert_acme opts = {
		json_string_value(json_object_get(o, "challenge")),
		json_string_value(json_object_get(o, "key_type")),
		json_string_value(json_object_get(o, "dns_provider")),
	};
	size_t n = 0, i;
	json_t *v;

	json_array_foreach(names, i, v)
		if (json_is_string(v) && n < STORE_CERT_MAX_NAMES)
			list[n++] = json_string_value(v);
	if (n)
		fn(arg, (const char *)sqlite3_column_text(st, 0), list, n, &opts);
	json_decref(names);
	json_decref(o);
}

int store_cert_each_acme(struct store *s, store_cert_acme_fn *fn, void *arg)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT name, names, acme FROM"
		" certificates WHERE acme IS NOT NULL AND revoked_at IS NULL ORDER BY id");

	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW)
		store_cert_acme_row(st, fn, arg);
	sqlite3_finalize(st);
	return 0;
}

int store_cert_each(struct store *s, store_cert_row_fn *fn, void *arg)
{
	sqlite3_stmt *st = store_prepare(s, "SELECT id, name, cert_pem FROM certificates"
					 " ORDER BY id");

	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW)
		fn(arg, sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
		   (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	return 0;
}

bool store_cert_covers(struct store *s, const char *host, int64_t now_ms)
{
	return store_query_int_args(s,
		"SELECT 1 FROM certificates, json_each(certificates.names) AS n"
		" WHERE certificates.acme IS NULL AND certificates.revoked_at IS NULL"
		" AND certificates.not_after > ?2 AND (n.value = ?1 OR"
		" (substr(n.value, 1, 2) = '*.' AND instr(?1, '.') > 1 AND"
		"  substr(?1, instr(?1, '.')) = substr(n.value, 2))) LIMIT 1",
		(const struct store_arg[]){ STORE_T(host), STORE_I(now_ms) }, 2, 0, 0) == 1;
}
