/* api_resource.c - generic list/get/create/update/delete over a table. */
#define LOG_SUBSYS "api"
#include "api/api_resource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "core/log.h"

#define API_SQL_MAX 2048

static const struct api_field *api_res_field(const struct api_resource *res,
					     const char *name)
{
	for (size_t i = 0; i < res->nfields; i++)
		if (!strcmp(res->fields[i].name, name))
			return &res->fields[i];
	return NULL;
}

/* A field stored in the row (everything but inputs). */
static bool api_res_column(const struct api_field *f)
{
	return !(f->flags & API_F_INPUT);
}

static bool api_str_chars_ok(const char *s, bool multiline)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (multiline && (ch == '\n' || ch == '\r'))
			continue;
		if (ch < 0x20 || ch == 0x7f)
			return false;
	}
	return true;
}

/* Checks one member. Returns 0 or -1 after replying 400. */
static int api_res_check_value(struct api_ctx *c, const struct api_field *f,
			       const json_t *v)
{
	const char *why = NULL, *s;
	size_t len;
	int64_t i;

	if (json_is_null(v))
		why = (f->flags & API_F_NULL) ? NULL : "must not be null";
	else if (f->type == API_T_BOOL && !json_is_boolean(v))
		why = "must be true or false";
	else if (f->type == API_T_INT && !json_is_integer(v))
		why = "must be an integer";
	else if (f->type == API_T_INT && ((i = json_integer_value(v)) < f->min || i > f->max)) {
		api_reply_error(c, 400, "invalid", f->name, "%s: must be from %lld "
				"to %lld", f->name, (long long)f->min, (long long)f->max);
		return -1;
	} else if (f->type == API_T_STR && !json_is_string(v))
		why = "must be a string";
	else if (f->type == API_T_STR) {
		s = json_string_value(v);
		len = json_string_length(v);
		if (len < (size_t)f->min || len > (size_t)f->max) {
			api_reply_error(c, 400, "invalid", f->name, "%s: must be %lld "
					"to %lld characters", f->name,
					(long long)f->min, (long long)f->max);
			return -1;
		}
		if (strlen(s) != len || !api_str_chars_ok(s, f->flags & API_F_MULTILINE))
			why = "must not contain control characters";
		else if (f->check)
			why = f->check(s);
	}
	if (why) {
		api_reply_error(c, 400, "invalid", f->name, "%s: %s", f->name, why);
		return -1;
	}
	return 0;
}

int api_res_validate(struct api_ctx *c, const struct api_resource *res,
		     const json_t *body, bool create)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)body, key, v) {
		const struct api_field *f = api_res_field(res, key);
		if (!f) {
			api_reply_error(c, 400, "invalid", key, "%s: unknown field", key);
			return -1;
		}
		if (f->flags & (API_F_READONLY | API_F_HIDDEN)) {
			api_reply_error(c, 400, "invalid", key, "%s: is read-only", key);
			return -1;
		}
		if (!create && (f->flags & API_F_FIXED)) {
			api_reply_error(c, 400, "invalid", key, "%s: cannot be changed", key);
			return -1;
		}
		if (api_res_check_value(c, f, v) < 0)
			return -1;
	}
	for (size_t i = 0; create && i < res->nfields; i++) {
		const struct api_field *f = &res->fields[i];
		if ((f->flags & API_F_REQUIRED) && !json_object_get(body, f->name)) {
			api_reply_error(c, 400, "invalid", f->name, "%s: is required",
					f->name);
			return -1;
		}
	}
	return 0;
}

/* "id, rev, created_at, col1, col2, ..." */
static void api_res_columns(const struct api_resource *res, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "id, rev, created_at");

	for (size_t i = 0; i < res->nfields && n < len; i++)
		if (api_res_column(&res->fields[i]))
			n += (size_t)snprintf(out + n, len - n, ", %s", res->fields[i].name);
}

static json_t *api_res_cell(sqlite3_stmt *st, int col, enum api_ftype type)
{
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_NULL:
		return json_null();
	case SQLITE_INTEGER:
		if (type == API_T_BOOL)
			return json_boolean(sqlite3_column_int64(st, col));
		return json_integer(sqlite3_column_int64(st, col));
	default:
		return json_string((const char *)sqlite3_column_text(st, col));
	}
}

/* The current row of a statement selecting api_res_columns(). */
static json_t *api_res_row(const struct api_resource *res, sqlite3_stmt *st)
{
	json_t *o = json_object();
	int col = 3;

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
	json_object_set_new(o, "rev", json_integer(sqlite3_column_int64(st, 1)));
	json_object_set_new(o, "created_at", json_integer(sqlite3_column_int64(st, 2)));
	for (size_t i = 0; i < res->nfields; i++)
		if (api_res_column(&res->fields[i]))
			json_object_set_new(o, res->fields[i].name,
					    api_res_cell(st, col++, res->fields[i].type));
	return o;
}

json_t *api_res_load(struct api_ctx *c, const struct api_resource *res, int64_t id)
{
	char cols[API_SQL_MAX], sql[API_SQL_MAX + 128];
	sqlite3_stmt *st;
	json_t *o = NULL;

	api_res_columns(res, cols, sizeof(cols));
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE id = ?", cols, res->table);
	st = api_row(c->api, sql, STORE_I(id));
	if (!st)
		return NULL;
	o = api_res_row(res, st);
	sqlite3_finalize(st);
	return o;
}

json_t *api_res_public(struct api_ctx *c, const struct api_resource *res,
		       const json_t *row)
{
	json_t *o = json_deep_copy(row);

	if (res->show)
		res->show(c, o);
	for (size_t i = 0; i < res->nfields; i++)
		if (res->fields[i].flags & (API_F_HIDDEN | API_F_INPUT))
			json_object_del(o, res->fields[i].name);
	return o;
}

char *api_res_summary(struct api_ctx *c, const struct api_resource *res,
		      const json_t *row)
{
	json_t *o;
	char *s;

	c->summary = true;
	o = api_res_public(c, res, row);
	c->summary = false;

	for (size_t i = 0; i < res->nfields; i++)
		if (res->fields[i].flags & API_F_NOAUDIT)
			json_object_del(o, res->fields[i].name);
	json_object_del(o, "rev");
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static void api_res_bind(sqlite3_stmt *st, int idx, const json_t *v)
{
	if (json_is_string(v))
		sqlite3_bind_text(st, idx, json_string_value(v), -1, SQLITE_TRANSIENT);
	else if (json_is_integer(v))
		sqlite3_bind_int64(st, idx, json_integer_value(v));
	else if (json_is_boolean(v))
		sqlite3_bind_int(st, idx, json_is_true(v));
	else
		sqlite3_bind_null(st, idx);
}

void api_res_list(struct api_ctx *c)
{
	const struct api_resource *res = c->ep->res;
	char cols[API_SQL_MAX], sql[API_SQL_MAX + 128];
	int64_t limit, after, last = 0;
	json_t *items = json_array();
	sqlite3_stmt *st;
	int rc, n = 0;

	if (api_query_page(c, &limit, &after) < 0) {
		json_decref(items);
		return;
	}
	api_res_columns(res, cols, sizeof(cols));
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE id > ? ORDER BY id "
		 "LIMIT ?", cols, res->table);
	st = store_prepare(&c->api->store, sql);
	if (!st) {
		json_decref(items);
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return;
	}
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, limit + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n++ < limit) {
		json_t *row = api_res_row(res, st);
		last = sqlite3_column_int64(st, 0);
		json_array_append_new(items, api_res_public(c, res, row));
		json_decref(row);
	}
	sqlite3_finalize(st);
	api_reply_json(c, 200, json_pack("{s:o,s:o}", "items", items, "next",
					 rc == SQLITE_ROW ? json_integer(last) : json_null()));
}

void api_res_get(struct api_ctx *c)
{
	const struct api_resource *res = c->ep->res;
	json_t *row = api_res_load(c, res, c->id);

	if (!row) {
		api_reply_error(c, 404, "not_found", NULL, "no %s %lld", res->name,
				(long long)c->id);
		return;
	}
	api_reply_etag(c, json_integer_value(json_object_get(row, "rev")));
	api_reply_json(c, 200, api_res_public(c, res, row));
	json_decref(row);
}

/* INSERT (id < 0) or UPDATE of the row's columns. Returns the id, or -1
 * after replying. */
static int64_t api_res_store(struct api_ctx *c, const struct api_resource *res,
			     const json_t *row, int64_t seq, int64_t id)
{
	char sql[API_SQL_MAX], vals[API_SQL_MAX];
	const json_t *binds[64];
	size_t n, m, nb = 0;
	sqlite3_stmt *st;
	int rc;

	if (id < 0) {
		n = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s (rev, created_at",
				     res->table);
		m = (size_t)snprintf(vals, sizeof(vals), "VALUES (?1, ?2");
	} else {
		n = (size_t)snprintf(sql, sizeof(sql), "UPDATE %s SET rev = ?1",
				     res->table);
		m = 0;
	}
	for (size_t i = 0; i < res->nfields && nb < ARRAY_SIZE(binds); i++) {
		const struct api_field *f = &res->fields[i];
		const json_t *v = json_object_get(row, f->name);
		if (!api_res_column(f) || !v || n >= sizeof(sql) || m >= sizeof(vals))
			continue;
		binds[nb++] = v;
		if (id < 0) {
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", %s", f->name);
			m += (size_t)snprintf(vals + m, sizeof(vals) - m, ", ?%zu", nb + 2);
		} else {
			n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", %s = ?%zu",
					      f->name, nb + 2);
		}
	}
	if (id < 0)
		snprintf(sql + n, sizeof(sql) - n, ") %s)", vals);
	else
		snprintf(sql + n, sizeof(sql) - n, " WHERE id = ?2");
	st = store_prepare(&c->api->store, sql);
	if (!st) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return -1;
	}
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, id < 0 ? store_now_ms() : id);
	for (size_t i = 0; i < nb; i++)
		api_res_bind(st, (int)i + 3, binds[i]);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		api_reply_store_error(c, res->fk_field);
		return -1;
	}
	return id < 0 ? sqlite3_last_insert_rowid(c->api->store.db) : id;
}

/* Commits the write with its audit entry and replies with the row. */
static void api_res_finish(struct api_ctx *c, const struct api_resource *res,
			   int64_t seq, int64_t id, const json_t *old, const char *verb)
{
	char action[64], object[64];
	json_t *row = api_res_load(c, res, id), *out;
	char *before = old ? api_res_summary(c, res, old) : NULL;
	char *after = row ? api_res_summary(c, res, row) : NULL;

	snprintf(action, sizeof(action), "%s.%s", res->name, verb);
	snprintf(object, sizeof(object), "%s:%lld", res->name, (long long)id);
	c->changed |= res->changes;
	if (!row || !after || api_tx_commit(c, seq, action, object, before, after) < 0) {
		if (!row || !after)
			api_tx_abort(c);
		if (c->resp->status < 500)
			api_reply_error(c, 500, "internal", NULL, "internal error");
	} else {
		out = api_res_public(c, res, row);
		if (c->reveal)	/* shown once: the client must keep it now */
			json_object_set_new(out, c->reveal_as ? c->reveal_as : "token",
					    json_string(c->reveal));
		api_reply_etag(c, seq);
		if (!old)
			api_reply_header(c, "Location: %s/%lld", c->req->path, (long long)id);
		api_reply_json(c, old ? 200 : 201, out);
	}
	json_decref(row);
	free(before);
	free(after);
}

void api_res_create(struct api_ctx *c)
{
	const struct api_resource *res = c->ep->res;
	json_t *row;
	int64_t seq, id;

	if (api_res_validate(c, res, c->body, true) < 0)
		return;
	if ((seq = api_tx_begin(c)) < 0)
		return;
	row = json_deep_copy(c->body);
	if ((res->prepare && res->prepare(c, row, NULL) < 0) ||
	    (id = api_res_store(c, res, row, seq, -1)) < 0 ||
	    (res->written && res->written(c, id, row, NULL) < 0)) {
		api_tx_abort(c);
		json_decref(row);
		return;
	}
	json_decref(row);
	api_res_finish(c, res, seq, id, NULL, res->create_verb ? res->create_verb : "create");
}

void api_res_update(struct api_ctx *c)
{
	const struct api_resource *res = c->ep->res;
	json_t *old = NULL, *row = NULL;
	int64_t seq;

	if (api_if_match_required(c) < 0 ||
	    api_res_validate(c, res, c->body, false) < 0 ||
	    (seq = api_tx_begin(c)) < 0)
		return;
	old = api_res_load(c, res, c->id);
	if (!old) {
		api_reply_error(c, 404, "not_found", NULL, "no %s %lld", res->name,
				(long long)c->id);
		goto fail;
	}
	if (api_if_match(c, json_integer_value(json_object_get(old, "rev")), true) < 0)
		goto fail;
	row = json_deep_copy(old);
	json_object_update(row, c->body);
	if ((res->prepare && res->prepare(c, row, old) < 0) ||
	    api_res_store(c, res, row, seq, c->id) < 0 ||
	    (res->written && res->written(c, c->id, row, old) < 0))
		goto fail;
	api_res_finish(c, res, seq, c->id, old, "update");
	json_decref(row);
	json_decref(old);
	return;
fail:
	api_tx_abort(c);
	json_decref(row);
	json_decref(old);
}

static int api_res_drop(struct api_ctx *c, const struct api_resource *res)
{
	char sql[128];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?", res->table);
	st = store_prepare(&c->api->store, sql);
	if (!st) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return -1;
	}
	sqlite3_bind_int64(st, 1, c->id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		api_reply_store_error(c, NULL);
		return -1;
	}
	return 0;
}

void api_res_delete(struct api_ctx *c)
{
	const struct api_resource *res = c->ep->res;
	char action[64], object[64], *before = NULL;
	json_t *old;
	int64_t seq;

	if ((seq = api_tx_begin(c)) < 0)
		return;
	old = api_res_load(c, res, c->id);
	if (!old)
		api_reply_error(c, 404, "not_found", NULL, "no %s %lld", res->name,
				(long long)c->id);
	if (!old || api_if_match(c, json_integer_value(json_object_get(old, "rev")),
				 false) < 0 ||
	    (res->deleting && res->deleting(c, old) < 0) || api_res_drop(c, res) < 0) {
		api_tx_abort(c);
		json_decref(old);
		return;
	}
	snprintf(action, sizeof(action), "%s.delete", res->name);
	snprintf(object, sizeof(object), "%s:%lld", res->name, (long long)c->id);
	before = api_res_summary(c, res, old);
	c->changed |= res->changes;
	if (api_tx_commit(c, seq, action, object, before, "") == 0)
		api_reply_empty(c, 204);
	free(before);
	json_decref(old);
}
