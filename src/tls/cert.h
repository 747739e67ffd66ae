/* cert.h - certificates and certificate sets for the TLS server.
 *
 * A struct tls_cert is one certificate chain and its private key, loaded
 * and checked (the key matches the leaf), with the names it serves (the
 * leaf's SAN dNSNames, lower-cased; `*.example.com` wildcards allowed) and
 * the per-certificate SSL_CTX the server switches a handshake to. It is
 * immutable once loaded, except for its OCSP staple (tls/ocsp.h).
 *
 * A struct tls_certset is an immutable set of certificates indexed by
 * name, built on the control thread (tls_certset_new + tls_certset_add_*),
 * then handed to tls_server_certset_install(). Lookup: the exact name,
 * else the wildcard covering exactly one more label (`*.example.com`
 * covers `a.example.com`, not `example.com` nor `a.b.example.com`), else
 * the default (set with tls_certset_set_default, else the first added).
 * When several certificates carry one name, a CA-issued one beats a
 * self-signed one, then the one expiring later wins.
 *
 * Certificates are reference counted and may be shared by several sets
 * (tls_server_cert_upsert copies a set), which keeps their OCSP staples
 * across swaps. */
#ifndef POSTERN_TLS_CERT_H
#define POSTERN_TLS_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

struct tls_server;
struct tls_cert;
struct tls_certset;

#define TLS_NAME_MAX 253	/* a DNS name, without the trailing dot */

/* ---- sets ---- */

/* Returns an empty set for `srv` (certificates get that server's policy),
 * or NULL when out of memory. */
struct tls_certset *tls_certset_new(struct tls_server *srv);

/* Loads a certificate: `chain_pem` holds the leaf then its intermediates,
 * `key_pem` the private key (any PEM key format). Checks that the key
 * matches the leaf and that the leaf is within its validity period; a leaf
 * without a SAN dNSName is refused. The key is parsed from the caller's
 * buffer without copying it; the caller wipes it. Returns 0, or -1 with a
 * message in err that never quotes the key. */
int tls_certset_add_pem(struct tls_certset *set, const char *chain_pem,
			size_t chain_len, const char *key_pem, size_t key_len,
			char *err, size_t errlen);

/* Same, from two files (the key file's bytes are wiped after parsing). */
int tls_certset_add_files(struct tls_certset *set, const char *chain_path,
			  const char *key_path, char *err, size_t errlen);

/* Adds every NAME.crt + NAME.key pair in `dir`, in name order. A .crt
 * without its .key is an error. Returns the number added (>= 0), or -1
 * with a message in err. */
int tls_certset_add_dir(struct tls_certset *set, const char *dir, char *err,
			size_t errlen);

/* The file-based sources, in this order: every pair in `dir` (NULL =
 * none); then, when `selfsigned_name` is set and nothing in the set covers
 * it, a self-signed certificate for it (written to `dir` as
 * selfsigned-NAME.crt/.key so restarts keep it; without a directory the
 * server keeps it in memory for its lifetime); then `default_name` (NULL =
 * the first certificate) becomes the default. An empty result is an
 * error. Returns 0, or -1 with a message in err. */
int tls_certset_fill(struct tls_certset *set, const char *dir,
		     const char *selfsigned_name, const char *default_name,
		     char *err, size_t errlen);

/* Adds a reference to an already loaded certificate (which must have been
 * loaded for the same server). Returns 0 or -ENOMEM. */
int tls_certset_add_cert(struct tls_certset *set, struct tls_cert *cert);

/* Makes the certificate that serves `name` (as a lookup would find it,
 * without the default) the default. Returns 0, or -ENOENT. */
int tls_certset_set_default(struct tls_certset *set, const char *name);

/* Releases a reference; the last one frees the set (and its references to
 * certificates). NULL is fine. */
void tls_certset_put(struct tls_certset *set);
/* Takes another reference (any thread). */
struct tls_certset *tls_certset_ref(struct tls_certset *set);

/* Number of certificates and the i-th (in insertion order; borrowed). */
size_t tls_certset_count(const struct tls_certset *set);
struct tls_cert *tls_certset_at(const struct tls_certset *set, size_t i);

/* The certificate serving `name` (`len` bytes, any case, optional
 * trailing dot; NULL/0 = no SNI): exact, wildcard, then default. Sets
 * *is_default when the default was used. Returns a borrowed pointer
 * (valid while the caller holds the set), or NULL for an empty set. */
struct tls_cert *tls_certset_lookup(struct tls_certset *set, const char *name,
				    size_t len, bool *is_default);

/* ---- one certificate ---- */

/* Names the certificate serves (lower case; borrowed). */
size_t tls_cert_name_count(const struct tls_cert *cert);
const char *tls_cert_name(const struct tls_cert *cert, size_t i);
/* The leaf certificate (borrowed) and its SHA-256 fingerprint. */
X509 *tls_cert_leaf(const struct tls_cert *cert);
const uint8_t *tls_cert_sha256(const struct tls_cert *cert);
/* End of validity (seconds since the epoch). */
time_t tls_cert_not_after(const struct tls_cert *cert);
bool tls_cert_self_signed(const struct tls_cert *cert);
/* The OCSP responder URL from the leaf's AIA, or NULL. */
const char *tls_cert_ocsp_url(const struct tls_cert *cert);

/* Reference counting (any thread). */
struct tls_cert *tls_cert_ref(struct tls_cert *cert);
void tls_cert_put(struct tls_cert *cert);

/* ---- self-signed certificates ---- */

/* Generates an ECDSA P-256 key and a self-signed certificate for `names`
 * (SAN dNSNames; the first is also the subject CN), valid from an hour ago
 * for `days` days. On success returns 0 and two NUL-terminated PEM
 * buffers the caller owns: free *cert_pem with free(), and *key_pem with
 * secure_free(*key_pem, *key_len). Returns -1 with a message in err. */
int tls_selfsigned_make(const char *const *names, size_t n, unsigned days,
			char **cert_pem, size_t *cert_len, char **key_pem,
			size_t *key_len, char *err, size_t errlen);

#endif
