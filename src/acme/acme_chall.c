/* acme_chall.c - the challenge store and its two solvers. */
#include "acme/acme_chall.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/pem.h>

#include "acme/acme_cert.h"
#include "acme/acme_name.h"
#include "core/secure.h"

#define CHALL_MAX 256

struct acme_chall_entry {
	char *key;	/* token (http) or domain (alpn) */
	char *a, *b;	/* key authz (http) or cert + key (alpn) */
	struct acme_chall_entry *next;
};

static void chall_free(struct acme_chall_entry *c)
{
	free(c->key);
	free(c->a);
	if (c->b)
		secure_free(c->b, strlen(c->b));
	free(c);
}

void acme_chall_init(struct acme_chall *cs)
{
	memset(cs, 0, sizeof(*cs));
	pthread_mutex_init(&cs->lock, NULL);
	atomic_init(&cs->alpn_gen, 0);
}

static void chall_free_list(struct acme_chall_entry *c)
{
	for (struct acme_chall_entry *next; c; c = next) {
		next = c->next;
		chall_free(c);
	}
}

void acme_chall_fini(struct acme_chall *cs)
{
	chall_free_list(cs->http);
	chall_free_list(cs->alpn);
	cs->http = cs->alpn = NULL;
	cs->count = 0;
	pthread_mutex_destroy(&cs->lock);
}

static void chall_del(struct acme_chall *cs, struct acme_chall_entry **list,
		      const char *key)
{
	pthread_mutex_lock(&cs->lock);
	for (struct acme_chall_entry **pp = list; *pp; pp = &(*pp)->next)
		if (!strcasecmp((*pp)->key, key)) {
			struct acme_chall_entry *c = *pp;
			*pp = c->next;
			chall_free(c);
			cs->count--;
			break;
		}
	pthread_mutex_unlock(&cs->lock);
}

static int chall_put(struct acme_chall *cs, struct acme_chall_entry **list,
		     const char *key, const char *a, const char *b)
{
	struct acme_chall_entry *c = calloc(1, sizeof(*c));

	if (!c || !(c->key = strdup(key)) || !(c->a = strdup(a)) ||
	    (b && !(c->b = strdup(b)))) {
		if (c)
			chall_free(c);
		return -ENOMEM;
	}
	chall_del(cs, list, key);
	pthread_mutex_lock(&cs->lock);
	if (cs->count >= CHALL_MAX) {
		pthread_mutex_unlock(&cs->lock);
		chall_free(c);
		return -ENOSPC;
	}
	c->next = *list;
	*list = c;
	cs->count++;
	pthread_mutex_unlock(&cs->lock);
	return 0;
}

int acme_chall_http_put(struct acme_chall *cs, const char *token,
			const char *key_authz)
{
	if (!acme_name_token_ok(token))
		return -EINVAL;
	return chall_put(cs, &cs->http, token, key_authz, NULL);
}

void acme_chall_http_del(struct acme_chall *cs, const char *token)
{
	chall_del(cs, &cs->http, token);
}

long acme_chall_http_lookup(struct acme_chall *cs, const char *path, size_t len,
			   char *out, size_t cap)
{
	size_t pl = strlen(ACME_CHALL_PREFIX);
	long rc = -ENOENT;

	if (len < pl || memcmp(path, ACME_CHALL_PREFIX, pl))
		return 0;
	pthread_mutex_lock(&cs->lock);
	for (struct acme_chall_entry *c = cs->http; c; c = c->next) {
		size_t tl = strlen(c->key), al = strlen(c->a);

		/* Tokens are case-sensitive: exact match only. */
		if (tl == len - pl && !memcmp(c->key, path + pl, tl)) {
			rc = al < cap ? (long)al : -ENOBUFS;
			if (rc > 0) {
				memcpy(out, c->a, al);
				out[al] = 0;
			}
			break;
		}
	}
	pthread_mutex_unlock(&cs->lock);
	return rc;
}

int acme_chall_alpn_put(struct acme_chall *cs, const char *domain,
			const char *cert_pem, const char *key_pem)
{
	int rc;

	if (!acme_name_valid(domain, false))
		return -EINVAL;
	rc = chall_put(cs, &cs->alpn, domain, cert_pem, key_pem);
	atomic_fetch_add(&cs->alpn_gen, 1);
	return rc;
}

void acme_chall_alpn_del(struct acme_chall *cs, const char *domain)
{
	chall_del(cs, &cs->alpn, domain);
	atomic_fetch_add(&cs->alpn_gen, 1);
}

int acme_chall_alpn_get(struct acme_chall *cs, const char *domain,
			char **cert_pem, char **key_pem)
{
	int rc = -ENOENT;

	*cert_pem = *key_pem = NULL;
	pthread_mutex_lock(&cs->lock);
	for (struct acme_chall_entry *c = cs->alpn; c; c = c->next)
		if (!strcasecmp(c->key, domain)) {
			*cert_pem = strdup(c->a);
			*key_pem = strdup(c->b);
			rc = *cert_pem && *key_pem ? 0 : -ENOMEM;
			break;
		}
	pthread_mutex_unlock(&cs->lock);
	if (rc) {
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
	}
	return rc;
}

unsigned long acme_chall_alpn_generation(struct acme_chall *cs)
{
	return atomic_load(&cs->alpn_gen);
}

static int http01_present(struct acme_solver *s, const char *domain,
			  const char *token, const char *ka, char *err,
			  size_t errlen)
{
	return acme_chall_http_put(s->ctx, token, ka);
}

static void http01_cleanup(struct acme_solver *s, const char *domain,
			   const char *token, const char *ka)
{
	acme_chall_http_del(s->ctx, token);
}

static int alpn01_present(struct acme_solver *s, const char *domain,
			  const char *token, const char *ka, char *err,
			  size_t errlen)
{
	char *cert, *key;
	int rc = acme_alpn_cert_make(domain, ka, &cert, &key);

	if (rc == 0) {
		rc = acme_chall_alpn_put(s->ctx, domain, cert, key);
		free(cert);
		secure_free(key, strlen(key));
	}
	return rc;
}

static void alpn01_cleanup(struct acme_solver *s, const char *domain,
			   const char *token, const char *ka)
{
	acme_chall_alpn_del(s->ctx, domain);
}

const struct acme_solver_ops acme_http01_ops = {
	.type = "http-01",
	.present = http01_present,
	.cleanup = http01_cleanup,
};

const struct acme_solver_ops acme_alpn01_ops = {
	.type = "tls-alpn-01",
	.present = alpn01_present,
	.cleanup = alpn01_cleanup,
};

int acme_chall_tls_hook(void *arg, const char *name, X509 **cert, EVP_PKEY **key)
{
	char *cp, *kp;
	BIO *cb, *kb;

	*cert = NULL;
	*key = NULL;
	if (!name || acme_chall_alpn_get(arg, name, &cp, &kp))
		return 0;
	cb = BIO_new_mem_buf(cp, -1);
	kb = BIO_new_mem_buf(kp, -1);
	*cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	*key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	BIO_free(cb);
	BIO_free(kb);
	free(cp);
	secure_free(kp, strlen(kp));
	if (*cert && *key)
		return 1;
	X509_free(*cert);
	EVP_PKEY_free(*key);
	*cert = NULL;
	*key = NULL;
	return 0;
}
