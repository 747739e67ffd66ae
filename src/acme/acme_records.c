/* acme_records.c - the certificate manager's certificates, account key
 * and DNS-01 credentials in the store, each change with its audit entry
 * by actor "system" (acme_records.h). */
#define LOG_SUBSYS "acme"
#include "acme/acme_records.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme/acme_key.h"
#include "acme/acme_mgr.h"
#include "core/log.h"
#include "core/secure.h"
#include "tls/cert_facts.h"

/* {"challenge":..., "key_type":..., "dns_provider":...} with the set ones. */
static char *acme_opts_json(const struct store_cert_acme *o)
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

/* One change's audit entry by actor "system", committing the
 * transaction `seq` (audit_tx_commit). */
static int acme_records_commit(const struct acme_records *r, int64_t seq,
			       const char *action, const char *object, const char *after)
{
	struct audit_event ev = { "system", "", action, object, "", after ? after : "" };

	return audit_tx_commit(r->audit, seq, &ev);
}

int64_t acme_records_cert_put(const struct acme_records *r, int64_t id, int64_t seq,
			      const char *name, const json_t *f, const char *source,
			      const char *chain, const char *opts, const char *key)
{
	struct store_cert_row row = {
		.name = name, .source = source,
		.names = json_string_value(json_object_get(f, "names")),
		.issuer = json_string_value(json_object_get(f, "issuer")),
		.serial = json_string_value(json_object_get(f, "serial")),
		.fingerprint = json_string_value(json_object_get(f, "fingerprint")),
		.not_before = json_integer_value(json_object_get(f, "not_before")),
		.not_after = json_integer_value(json_object_get(f, "not_after")),
		.chain = chain, .acme = opts,
	};

	id = store_cert_write(r->store, id, seq, &row);
	if (id > 0 && secret_put(r->store, r->keys, "certificate", id, "key", key,
				 strlen(key)) < 0)
		return -1;
	return id;
}

int acme_records_cert_save(const struct acme_records *r, const char *name,
			   const struct store_cert_acme *o, const char *chain,
			   const char *key, const char *what, char *err, size_t errlen)
{
	const char *source = strcmp(what, "self-signed") ? "acme" : "self-signed";
	json_t *facts = json_object();
	char *opts = acme_opts_json(o), *after = NULL, action[64], object[64];
	int64_t seq = -1, id;
	int rc = -1;

	if (!facts || !opts || tls_cert_facts(chain, facts) < 0) {
		snprintf(err, errlen, "not a certificate");
		goto out;
	}
	after = acme_cert_summary(name, facts, source);
	if ((seq = audit_tx_begin(r->audit)) < 0 || (id = store_cert_id(r->store, name)) < 0 ||
	    (id = acme_records_cert_put(r, id, seq, name, facts, source, chain, opts,
					key)) < 0) {
		if (seq >= 0)
			store_rollback(r->store);
		snprintf(err, errlen, "cannot store certificate %s", name);
		goto out;
	}
	snprintf(action, sizeof(action), "certificate.%s",
		 strcmp(what, "self-signed") ? what : "self_signed");
	snprintf(object, sizeof(object), "certificate:%lld", (long long)id);
	rc = acme_records_commit(r, seq, action, object, after);
	if (rc < 0)
		snprintf(err, errlen, "cannot store certificate %s", name);
out:
	json_decref(facts);
	free(opts);
	free(after);
	return rc;
}

enum acme_mark { ACME_MARK_NONE, ACME_MARK_ERROR, ACME_MARK_REVOKED };

/* Records `action` about certificate `name` with an audit entry, and
 * (mark) its last_error = text or its revocation, in one transaction. */
static void acme_cert_mark(const struct acme_records *r, const char *name,
			   enum acme_mark mark, const char *text, const char *action,
			   const char *after)
{
	int64_t seq = audit_tx_begin(r->audit);
	int64_t id = seq < 0 ? -1 : store_cert_id(r->store, name);
	char object[96];

	if (seq < 0)
		return;
	if (id > 0 && mark == ACME_MARK_ERROR)
		store_cert_set_error(r->store, id, text);
	else if (id > 0 && mark == ACME_MARK_REVOKED)
		store_cert_set_revoked(r->store, id, seq, true, store_now_ms());
	snprintf(object, sizeof(object), "certificate:%lld", (long long)(id > 0 ? id : 0));
	acme_records_commit(r, seq, action, object, after);
}

static char *acme_detail_json(const char *name, const char *key, const char *text)
{
	json_t *o = json_pack("{s:s,s:s}", "name", name, key, text ? text : "");
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(o);
	return s;
}

void acme_records_cert_event(const struct acme_records *r, const char *name,
			     const char *event, const char *detail)
{
	char action[64], *after = acme_detail_json(name, "detail", detail);
	bool failed = !strcmp(event, "failed");

	snprintf(action, sizeof(action), "certificate.%s", event);
	acme_cert_mark(r, name, failed ? ACME_MARK_ERROR : ACME_MARK_NONE,
		       detail, action, after ? after : "");
	free(after);
}

void acme_records_cert_revoked(const struct acme_records *r, const char *name, int rc,
			       const char *err)
{
	char *after = acme_detail_json(name, rc ? "error" : "detail",
				       rc ? err : "revoked by the CA");

	if (rc == 0)
		acme_cert_mark(r, name, ACME_MARK_REVOKED, NULL, "certificate.revoked",
			       after ? after : "");
	else
		acme_cert_mark(r, name, ACME_MARK_ERROR, err,
			       "certificate.revoke_failed", after ? after : "");
	free(after);
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

char *acme_records_account_key(const struct acme_records *r, const char *legacy_file,
			       char *err, size_t errlen)
{
	uint8_t *val = NULL;
	size_t len = 0;
	struct acme_key k = { 0 };
	char *pem, after[64];
	int64_t seq = -1;
	bool from_file;

	if (secret_get(r->store, r->keys, "acme", 0, "account_key", &val, &len) == 0)
		return (char *)val;	/* NUL-terminated by secret_get */
	pem = acme_key_file_read(legacy_file);
	from_file = pem != NULL;
	snprintf(after, sizeof(after), "{\"origin\":\"%s\"}", from_file ? "file" : "generated");
	if (!pem && acme_key_generate(ACME_KEY_EC256, &k) == 0) {
		pem = acme_pkey_to_pem(k.pkey);
		acme_key_free(&k);
	}
	if (!pem || (seq = audit_tx_begin(r->audit)) < 0 ||
	    secret_put(r->store, r->keys, "acme", 0, "account_key", pem,
		       strlen(pem)) < 0 ||
	    acme_records_commit(r, seq, "acme.account_key", "acme:account", after) < 0) {
		if (pem && seq >= 0)
			store_rollback(r->store);
		snprintf(err, errlen, "cannot keep the ACME account key in the store");
		if (pem)
			secure_free(pem, strlen(pem));
		return NULL;
	}
	log_info("ACME account key %s and sealed in the store",
		 from_file ? "taken from " "the old key file" : "made");
	return pem;
}

char **acme_records_dns_creds(const struct acme_records *r, const char *provider)
{
	uint8_t *val = NULL;
	size_t len = 0, n, i = 0;
	json_t *o, *v;
	const char *k;
	char **kv;

	if (!provider || !provider[0])
		return NULL;
	if (secret_get(r->store, r->keys, "dns_provider", 0, provider, &val, &len) == 0) {
		o = json_loadb((const char *)val, len, 0, NULL);
	} else if (secret_get(r->store, r->keys, "setting", 0, "acme.dns_api_token",
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
	json_decref(o);	/* the API has jansson wipe what it frees (api_json_free) */
	for (size_t j = 0; kv && j < i; j++)
		if (!kv[j]) {
			acme_kv_free(kv);
			return NULL;
		}
	return kv;
}
