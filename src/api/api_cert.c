/* api_cert.c - certificates uploaded by an admin: the PEM chain is stored
 * as is, its metadata is read from it, and the private key is sealed in
 * the secrets table (never shown again). ACME fills the same table. */
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/api_handlers.h"
#include "api/api_resource.h"
#include "tls/cert_facts.h"

#define API_PEM_MAX 65536

static const struct api_field api_cert_fields[] = {
	{ "name", API_T_STR, API_F_REQUIRED, 1, 63, api_check_name },
	{ "cert_pem", API_T_STR, API_F_REQUIRED | API_F_MULTILINE | API_F_NOAUDIT,
	  1, API_PEM_MAX, NULL },
	{ "key_pem", API_T_STR, API_F_REQUIRED | API_F_INPUT | API_F_MULTILINE,
	  1, API_PEM_MAX, NULL },
	{ "source", API_T_STR, API_F_READONLY, 0, 0, NULL },
	{ "names", API_T_STR, API_F_READONLY, 0, 0, NULL },
	{ "issuer", API_T_STR, API_F_READONLY, 0, 0, NULL },
	{ "serial", API_T_STR, API_F_READONLY, 0, 0, NULL },
	{ "fingerprint", API_T_STR, API_F_READONLY, 0, 0, NULL },
	{ "not_before", API_T_INT, API_F_READONLY, 0, 0, NULL },
	{ "not_after", API_T_INT, API_F_READONLY, 0, 0, NULL },
	/* Certificates the hub orders itself (api_acme.c). */
	{ "acme", API_T_STR, API_F_READONLY, 0, 0, NULL },
	{ "last_error", API_T_STR, API_F_READONLY | API_F_NOAUDIT, 0, 0, NULL },
	{ "revoked_at", API_T_INT, API_F_READONLY, 0, 0, NULL },
};

static void *api_pem_read(const char *pem, bool key)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	void *obj;

	if (!b)
		return NULL;
	obj = key ? (void *)PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)
		  : (void *)PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return obj;
}

static int api_cert_prepare(struct api_ctx *c, json_t *row, const json_t *old)
{
	const char *cert = json_string_value(json_object_get(c->body, "cert_pem"));
	const char *key = json_string_value(json_object_get(c->body, "key_pem"));
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int rc = -1;

	if (old && !cert && !key)
		return 0;
	if (!cert || !key) {
		api_reply_error(c, 400, "invalid", cert ? "key_pem" : "cert_pem",
				"%s: is required with %s", cert ? "key_pem" : "cert_pem",
				cert ? "cert_pem" : "key_pem");
		return -1;
	}
	if (!(x = api_pem_read(cert, false)))
		api_reply_error(c, 400, "invalid", "cert_pem", "cert_pem: not a PEM "
				"certificate");
	else if (!(k = api_pem_read(key, true)))
		api_reply_error(c, 400, "invalid", "key_pem", "key_pem: not a PEM "
				"private key (unencrypted)");
	else if (X509_check_private_key(x, k) != 1)
		api_reply_error(c, 400, "invalid", "key_pem", "key_pem: does not "
				"match the certificate");
	else {
		tls_cert_describe(x, row);
		/* Imported: the hub does not order or renew it. */
		json_object_set_new(row, "source", json_string("manual"));
		json_object_set_new(row, "acme", json_null());
		json_object_set_new(row, "last_error", json_null());
		json_object_set_new(row, "revoked_at", json_null());
		rc = 0;
	}
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

static int api_cert_written(struct api_ctx *c, int64_t id, const json_t *row,
			    const json_t *old)
{
	json_t *key = json_object_get(c->body, "key_pem");

	(void)row;
	(void)old;
	if (key && secret_put(&c->api->store, &c->api->keys, "certificate", id, "key",
			      json_string_value(key), json_string_length(key)) < 0) {
		api_reply_error(c, 500, "internal", NULL, "internal error");
		return -1;
	}
	return 0;
}

/* valid, expiring (within 7 days), expired, revoked, or pending: a
 * self-signed stand-in waiting for the CA. */
static const char *api_cert_status(const json_t *obj)
{
	int64_t left = json_integer_value(json_object_get(obj, "not_after")) -
		       store_now_ms();
	const char *src = json_string_value(json_object_get(obj, "source"));

	if (json_is_integer(json_object_get(obj, "revoked_at")))
		return "revoked";
	if (src && !strcmp(src, "self-signed") &&
	    json_is_string(json_object_get(obj, "acme")))
		return "pending";
	if (left <= 0)
		return "expired";
	return left < 7LL * 86400 * 1000 ? "expiring" : "valid";
}

static void api_cert_show(struct api_ctx *c, json_t *obj)
{
	json_t *names = json_loads(json_string_value(json_object_get(obj, "names")) ?: "[]",
				   0, NULL);
	const char *acme = json_string_value(json_object_get(obj, "acme"));
	json_t *opts = acme ? json_loads(acme, 0, NULL) : NULL;

	(void)c;
	json_object_set_new(obj, "status", json_string(api_cert_status(obj)));
	json_object_set_new(obj, "names", names ? names : json_array());
	json_object_set_new(obj, "acme", opts ? opts : json_null());
}

const struct api_resource api_cert_res = {
	API_RES_TABLE("certificate", "certificates", api_cert_fields),
	.changes = API_CHANGED_CERTS,
	.create_verb = "import",
	.prepare = api_cert_prepare,
	.written = api_cert_written,
	.show = api_cert_show,
};
