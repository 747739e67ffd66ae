/* api_acme_store.c - the ACME manager's certificates, account key and
 * DNS-01 credentials in the store, each change with its audit entry by
 * actor "system" (api_acme.h). */
#define LOG_SUBSYS "acme"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme/acme_key.h"
#include "acme/acme_mgr.h"
#include "api/api_acme.h"
#include "api/api_handlers.h"
#include "core/log.h"
#include "core/secure.h"

void api_set_acme(struct api *api, const struct api_acme_ops *ops)
{
	api->acme = ops;
}

/* id and rev of certificate `name`, 0 when there is none. */
static int64_t acme_cert_id(struct api *api, const char *name)
{
	sqlite3_stmt *st = store_prepare(&api->store,
					 "SELECT id FROM certificates WHERE name = ?");
	int64_t id = 0;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

char *api_acme_cert_load(struct api *api, const char *name)
{
	sqlite3_stmt *st = store_prepare(&api->store, "SELECT cert_pem FROM certificates"
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

bool api_acme_cert_exists(struct api *api, const char *name)
{
	char *pem = api_acme_cert_load(api, name);

	free(pem);
	return pem != NULL;
}

/* {"challenge":..., "key_type":..., "dns_provider":...} with the set ones. */
static char *acme_opts_json(const struct api_acme_opts *o)
{
	json_t *j = json_object();
	char *s;

	if (o && o->challenge)
		json_object_set_new(j, "challenge", json_string(o->challenge));
	if (o && o->key_type)
		json_object_set_new(j, "key_type", json_string(o->key_type));
	if (o && o->dns_provider)
		json_object_set_new(j, "dns_provider", json_string(o->dns_provider));
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

/* The certificate's row as the audit log summarizes it. */
static char *acme_cert_summary(const char *name, const json_t *facts,
			       const char *source)
{
	json_t *o = json_pack("{s:s,s:s,s:O,s:O,s:O,s:O}", "name", name, "source", source,
			      "names", json_object_get(facts, "names"),
			      "issuer", json_object_get(facts, "issuer"),
			      "serial", json_object_get(facts, "serial"),
			      "not_after", json_object_get(facts, "not_after"));
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(o);
	return s;
}

int64_t api_acme_cert_write(struct api *api, int64_t id, int64_t seq,
			    const char *name, const json_t *f, const char *source,
			    const char *chain, const char *opts)
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
	sqlite3_stmt *st = store_prepare(&api->store, id ? upd : ins);
	static const char *const cols[] = { "names", "issuer", "serial", "fingerprint" };
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, id ? id : store_now_ms());
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
	for (int i = 0; i < 4; i++)
		sqlite3_bind_text(st, 5 + i, json_string_value(json_object_get(f, cols[i])),
				  -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, json_integer_value(json_object_get(f, "not_before")));
	sqlite3_bind_int64(st, 10, json_integer_value(json_object_get(f, "not_after")));
	sqlite3_bind_text(st, 11, chain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, opts, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	return id ? id : sqlite3_last_insert_rowid(api->store.db);
}

int api_acme_cert_save(struct api *api, const char *name,
		       const struct api_acme_opts *o, const char *chain,
		       const char *key, const char *what, char *err, size_t errlen)
{
	const char *source = strcmp(what, "self-signed") ? "acme" : "self-signed";
	json_t *facts = json_object();
	char *opts = acme_opts_json(o), *after = NULL, action[64], object[64];
	int64_t seq = -1, id;
	int rc = -1;

	if (!facts || !opts || api_cert_facts(chain, facts) < 0) {
		snprintf(err, errlen, "not a certificate");
		goto out;
	}
	after = acme_cert_summary(name, facts, source);
	if ((seq = api_sys_tx_begin(api)) < 0 || (id = acme_cert_id(api, name)) < 0 ||
	    (id = api_acme_cert_write(api, id, seq, name, facts, source, chain, opts)) < 0 ||
	    secret_put(&api->store, &api->keys, "certificate", id, "key", key,
		       strlen(key)) < 0) {
		if (seq >= 0)
			store_rollback(&api->store);
		snprintf(err, errlen, "cannot store certificate %s", name);
		goto out;
	}
	snprintf(action, sizeof(action), "certificate.%s",
		 strcmp(what, "self-signed") ? what : "self_signed");
	snprintf(object, sizeof(object), "certificate:%lld", (long long)id);
	rc = api_sys_tx_commit(api, seq, action, object, NULL, after);
	if (rc < 0)
		snprintf(err, errlen, "cannot store certificate %s", name);
out:
	json_decref(facts);
	free(opts);
	free(after);
	return rc;
}

/* Sets a column of certificate `name` (last_error or revoked_at) with an
 * audit entry, in one transaction. */
static void acme_cert_mark(struct api *api, const char *name, const char *sql,
			   const char *text, const char *action, const char *after)
{
	int64_t seq = api_sys_tx_begin(api), id = seq < 0 ? -1 : acme_cert_id(api, name);
	char object[96];
	sqlite3_stmt *st = NULL;

	if (seq < 0)
		return;
	if (id > 0 && sql && (st = store_prepare(&api->store, sql))) {
		sqlite3_bind_int64(st, 1, seq);
		sqlite3_bind_int64(st, 2, id);
		sqlite3_bind_text(st, 3, text ? text : "", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, store_now_ms());
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	snprintf(object, sizeof(object), "certificate:%lld", (long long)(id > 0 ? id : 0));
	api_sys_tx_commit(api, seq, action, object, NULL, after);
}

static char *acme_detail_json(const char *name, const char *key, const char *text)
{
	json_t *o = json_pack("{s:s,s:s}", "name", name, key, text ? text : "");
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(o);
	return s;
}

void api_acme_cert_event(struct api *api, const char *name, const char *event,
			 const char *detail)
{
	char action[64], *after = acme_detail_json(name, "detail", detail);
	bool failed = !strcmp(event, "failed");

	snprintf(action, sizeof(action), "certificate.%s", event);
	acme_cert_mark(api, name, failed ? "UPDATE certificates SET last_error = ?3"
		       " WHERE id = ?2 AND ?1 IS NOT NULL AND ?4 IS NOT NULL" : NULL,
		       detail, action, after ? after : "");
	free(after);
}

void api_acme_cert_revoked(struct api *api, const char *name, int rc,
			   const char *err)
{
	char *after = acme_detail_json(name, rc ? "error" : "detail",
				       rc ? err : "revoked by the CA");

	if (rc == 0)
		acme_cert_mark(api, name, "UPDATE certificates SET rev = ?1, revoked_at = ?4"
			       " WHERE id = ?2 AND ?3 IS NOT NULL", NULL, "certificate.revoked",
			       after ? after : "");
	else
		acme_cert_mark(api, name, "UPDATE certificates SET last_error = ?3"
			       " WHERE id = ?2 AND ?1 IS NOT NULL AND ?4 IS NOT NULL",
			       err, "certificate.revoke_failed", after ? after : "");
	free(after);
}

int api_acme_cert_each(struct api *api, api_acme_each_fn *fn, void *arg)
{
	sqlite3_stmt *st = store_prepare(&api->store, "SELECT name, names, acme FROM"
		" certificates WHERE acme IS NOT NULL AND revoked_at IS NULL ORDER BY id");

	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *names = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
		json_t *o = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
		const char *list[ACME_MGR_MAX_NAMES];
		struct api_acme_opts opts = {
			json_string_value(json_object_get(o, "challenge")),
			json_string_value(json_object_get(o, "key_type")),
			json_string_value(json_object_get(o, "dns_provider")),
		};
		size_t n = 0, i;
		json_t *v;

		json_array_foreach(names, i, v)
			if (json_is_string(v) && n < ACME_MGR_MAX_NAMES)
				list[n++] = json_string_value(v);
		if (n)
			fn(arg, (const char *)sqlite3_column_text(st, 0), list, n, &opts);
		json_decref(names);
		json_decref(o);
	}
	sqlite3_finalize(st);
	return 0;
}

bool api_acme_cert_covers(struct api *api, const char *host)
{
	/* "*.example.com" covers "app.example.com" (one label), not the apex. */
	sqlite3_stmt *st = store_prepare(&api->store,
		"SELECT 1 FROM certificates, json_each(certificates.names) AS n"
		" WHERE certificates.acme IS NULL AND certificates.revoked_at IS NULL"
		" AND certificates.not_after > ?2 AND (n.value = ?1 OR"
		" (substr(n.value, 1, 2) = '*.' AND instr(?1, '.') > 1 AND"
		"  substr(?1, instr(?1, '.')) = substr(n.value, 2))) LIMIT 1");
	bool yes;

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, store_now_ms());
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

/* The key file an earlier, file-based setup left, or NULL. */
static char *acme_key_file_read(const char *path)
{
	char *pem = path && path[0] ? calloc(1, 65537) : NULL;
	int fd = pem ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd >= 0 ? read(fd, pem, 65536) : -1;

	if (fd >= 0)
		close(fd);
	if (n > 0)
		return pem;
	if (pem)
		secure_free(pem, 65537);
	return NULL;
}

char *api_acme_account_key(struct api *api, const char *legacy_file, char *err,
			   size_t errlen)
{
	uint8_t *val = NULL;
	size_t len = 0;
	struct acme_key k = { 0 };
	char *pem, after[64];
	int64_t seq = -1;
	bool from_file;

	if (secret_get(&api->store, &api->keys, "acme", 0, "account_key", &val, &len) == 0)
		return (char *)val;	/* NUL-terminated by secret_get */
	pem = acme_key_file_read(legacy_file);
	from_file = pem != NULL;
	snprintf(after, sizeof(after), "{\"origin\":\"%s\"}", from_file ? "file" : "generated");
	if (!pem && acme_key_generate(ACME_KEY_EC256, &k) == 0) {
		pem = acme_pkey_to_pem(k.pkey);
		acme_key_free(&k);
	}
	if (!pem || (seq = api_sys_tx_begin(api)) < 0 ||
	    secret_put(&api->store, &api->keys, "acme", 0, "account_key", pem,
		       strlen(pem)) < 0 ||
	    api_sys_tx_commit(api, seq, "acme.account_key", "acme:account", NULL, after) < 0) {
		if (pem && seq >= 0)
			store_rollback(&api->store);
		snprintf(err, errlen, "cannot keep the ACME account key in the store");
		if (pem)
			secure_free(pem, strlen(pem));
		return NULL;
	}
	log_info("ACME account key %s and sealed in the store",
		 from_file ? "taken from " "the old key file" : "made");
	return pem;
}

char **api_acme_dns_creds(struct api *api, const char *provider)
{
	uint8_t *val = NULL;
	size_t len = 0, n, i = 0;
	json_t *o, *v;
	const char *k;
	char **kv;

	if (!provider || !provider[0])
		return NULL;
	if (secret_get(&api->store, &api->keys, "dns_provider", 0, provider, &val, &len) == 0) {
		o = json_loadb((const char *)val, len, 0, NULL);
	} else if (secret_get(&api->store, &api->keys, "setting", 0, "acme.dns_api_token",
			      &val, &len) == 0) {
		/* The older single-token setting, for token-only providers. */
		o = json_pack("{s:s%}", "api_token", (const char *)val, len);
	} else {
		return NULL;
	}
	secure_free(val, len + 1);
	n = json_object_size(o);
	kv = calloc(2 * n + 1, sizeof(*kv));
	json_object_foreach(o, k, v) {
		if (!kv || !json_is_string(v))
			continue;
		kv[i++] = strdup(k);
		kv[i++] = strdup(json_string_value(v));
	}
	json_decref(o);	/* jansson wipes what it frees (api_json_free) */
	for (size_t j = 0; kv && j < i; j++)
		if (!kv[j]) {
			acme_kv_free(kv);
			return NULL;
		}
	return kv;
}
