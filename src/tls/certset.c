/* certset.c - immutable sets of certificates indexed by name.
 *
 * The index is a sorted array with one entry per name (the best
 * certificate for it), searched twice at most per handshake: the exact
 * name, then `*.` + the name without its first label. */
#define LOG_SUBSYS "tls"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/str.h"
#include "tls/internal.h"

struct tls_certset *tls_certset_new(struct tls_server *srv)
{
	struct tls_certset *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	atomic_init(&set->refs, 1);
	set->srv = srv;
	return set;
}

struct tls_certset *tls_certset_ref(struct tls_certset *set)
{
	atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
	return set;
}

void tls_certset_put(struct tls_certset *set)
{
	if (!set || atomic_fetch_sub_explicit(&set->refs, 1,
					      memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < set->n; i++)
		tls_cert_put(set->certs[i]);
	free(set->certs);
	free(set->index);
	free(set);
}

/* Takes over the caller's reference to `cert`. */
static int certset_push(struct tls_certset *set, struct tls_cert *cert)
{
	if (set->frozen)
		return -EBUSY;
	if (array_grow((void **)&set->certs, set->n, &set->cap, sizeof(*set->certs)) < 0)
		return -ENOMEM;
	set->certs[set->n++] = cert;
	free(set->index);	/* stale: rebuilt on the next lookup */
	set->index = NULL;
	set->n_index = 0;
	return 0;
}

int tls_certset_add_cert(struct tls_certset *set, struct tls_cert *cert)
{
	int ret;

	if (cert->srv != set->srv)
		return -EINVAL;
	ret = certset_push(set, tls_cert_ref(cert));
	if (ret < 0)
		tls_cert_put(cert);
	return ret;
}

int tls_certset_add_pem(struct tls_certset *set, const char *chain_pem,
			size_t chain_len, const char *key_pem, size_t key_len,
			char *err, size_t errlen)
{
	struct tls_cert *cert;

	if (set->frozen) {
		snprintf(err, errlen, "certificate set already installed");
		return -1;
	}
	if (tls_cert_load(set->srv, chain_pem, chain_len, key_pem, key_len,
			  &cert, err, errlen) < 0)
		return -1;
	if (certset_push(set, cert) < 0) {
		tls_cert_put(cert);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Ranks two index entries for one name: CA-issued before self-signed,
 * then the later expiry, then insertion order (qsort is not stable). */
static int certset_entry_cmp(const void *a, const void *b)
{
	const struct tls_certset_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->cert->self_signed != y->cert->self_signed)
		return x->cert->self_signed ? 1 : -1;
	if (x->cert->not_after != y->cert->not_after)
		return x->cert->not_after > y->cert->not_after ? -1 : 1;
	return x->order < y->order ? -1 : (x->order > y->order);
}

static int certset_index_build(struct tls_certset *set)
{
	size_t total = 0, k = 0;
	struct tls_certset_name *v;

	if (set->index)
		return 0;
	for (size_t i = 0; i < set->n; i++)
		total += set->certs[i]->n_names;
	v = calloc(total ? total : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < set->n; i++)
		for (size_t j = 0; j < set->certs[i]->n_names; j++) {
			v[k].name = set->certs[i]->names[j];
			v[k].cert = set->certs[i];
			v[k].order = (unsigned)k;
			k++;
		}
	qsort(v, total, sizeof(*v), certset_entry_cmp);
	/* Keep the best entry per name (the first after sorting). */
	k = 0;
	for (size_t i = 0; i < total; i++)
		if (k == 0 || strcmp(v[k - 1].name, v[i].name) != 0)
			v[k++] = v[i];
	set->index = v;
	set->n_index = k;
	return 0;
}

static struct tls_cert *certset_find(const struct tls_certset *set,
				     const char *name)
{
	size_t lo = 0, hi = set->n_index;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, set->index[mid].name);

		if (c == 0)
			return set->index[mid].cert;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Exact name, then the one-label wildcard. `name` is a checked, lower-case
 * host name. */
static struct tls_cert *certset_match(const struct tls_certset *set,
				      const char *name, size_t len)
{
	struct tls_cert *c = certset_find(set, name);
	const char *dot;
	char wild[TLS_NAME_MAX + 2];

	if (c)
		return c;
	dot = memchr(name, '.', len);
	if (!dot || dot == name || !memchr(dot + 1, '.', len - (size_t)(dot + 1 - name)))
		return NULL;
	wild[0] = '*';
	memcpy(wild + 1, dot, len - (size_t)(dot - name) + 1);
	return certset_find(set, wild);
}

struct tls_cert *tls_certset_lookup(struct tls_certset *set, const char *name,
				    size_t len, bool *is_default)
{
	char buf[TLS_NAME_MAX + 1];
	struct tls_cert *c = NULL;
	int n;

	*is_default = false;
	if (set->n == 0 || certset_index_build(set) < 0)
		return set->n ? set->certs[0] : NULL;
	if (name && len) {
		n = tls_hello_host_copy((const uint8_t *)name, len, buf,
					sizeof(buf));
		if (n > 0)
			c = certset_match(set, buf, (size_t)n);
	}
	if (c)
		return c;
	*is_default = true;
	return set->def ? set->def : set->certs[0];
}

int tls_certset_set_default(struct tls_certset *set, const char *name)
{
	struct tls_cert *c;
	bool def;

	c = tls_certset_lookup(set, name, strlen(name), &def);
	if (!c || def)
		return -ENOENT;
	set->def = c;
	return 0;
}

int tls_certset_freeze(struct tls_certset *set)
{
	if (certset_index_build(set) < 0)
		return -ENOMEM;
	set->frozen = true;
	return 0;
}

size_t tls_certset_count(const struct tls_certset *set)
{
	return set->n;
}

struct tls_cert *tls_certset_at(const struct tls_certset *set, size_t i)
{
	return i < set->n ? set->certs[i] : NULL;
}
