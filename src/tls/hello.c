/* hello.c - the ClientHello side: SNI, ALPN and certificate selection.
 *
 * The client_hello callback is OpenSSL's earliest hook: it runs before
 * session resumption and extension processing, so switching the SSL to a
 * certificate's context there makes every later step (ticket decryption
 * against that context's session id context, ALPN, OCSP status) see the
 * chosen certificate. The SNI and ALPN extension bytes it reads are the
 * client's, unparsed: they go through the bounded parsers below (fuzzed by
 * fuzz/fuzz_tls_hello.c). */
#define LOG_SUBSYS "tls"

#include <string.h>

#include <openssl/tls1.h>

#include "core/log.h"
#include "core/str.h"
#include "tls/internal.h"

static const char acme_proto[] = "acme-tls/1";
#define ACME_PROTO_LEN (sizeof(acme_proto) - 1)

static bool hello_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_' || c == '.';
}

/* Copies a host name lower-cased into out (NUL-terminated), dropping one
 * trailing dot. Returns its length, or -1 when it is empty, too long, has
 * an empty label or a byte outside [a-z0-9_.-] (after lower-casing). */
int tls_hello_host_copy(const uint8_t *p, size_t len, char *out,
			   size_t outlen)
{
	if (len && p[len - 1] == '.')
		len--;
	if (len == 0 || len > TLS_NAME_MAX || len >= outlen)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = str_lower_ascii((char)p[i]);

		if (!hello_host_char(c))
			return -1;
		if (c == '.' && (i == 0 || out[i - 1] == '.'))
			return -1;
		out[i] = c;
	}
	if (out[len - 1] == '.')
		return -1;
	out[len] = '\0';
	return (int)len;
}

static unsigned hello_u16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Parses a server_name extension body (RFC 6066 section 3):
 *   uint16 list_len; { uint8 type; uint16 len; opaque name[len] } ...
 * Returns the length of the host_name written to `out` (lower case,
 * NUL-terminated), 0 when the list has no host_name entry, or -1 when the
 * bytes are malformed or the name is not a valid host name. */
int tls_hello_parse_sni(const uint8_t *p, size_t len, char *out, size_t outlen)
{
	size_t list, off = 2;

	if (len < 2)
		return -1;
	list = hello_u16(p);
	if (list != len - 2)
		return -1;
	while (off < len) {
		unsigned type, n;

		if (len - off < 3)
			return -1;
		type = p[off];
		n = hello_u16(p + off + 1);
		off += 3;
		if (n > len - off)
			return -1;
		if (type == TLSEXT_NAMETYPE_host_name)
			return tls_hello_host_copy(p + off, n, out, outlen);
		off += n;
	}
	return 0;
}

/* True when a protocol-name list (ALPN, without its uint16 length:
 * { uint8 len; bytes } ...) well-formed up to the match names `proto`. */
bool tls_hello_alpn_has(const uint8_t *list, size_t len, const char *proto,
			size_t plen)
{
	size_t off = 0;

	while (off < len) {
		size_t n = list[off++];

		if (n == 0 || n > len - off)
			return false;
		if (n == plen && memcmp(list + off, proto, n) == 0)
			return true;
		off += n;
	}
	return false;
}

/* Picks the first protocol of the server's list `srv` that the client's
 * list `cli` offers (server preference). Returns 1 with *out pointing into
 * `srv`, or 0 when they share none. */
int tls_hello_alpn_pick(const uint8_t *srv, size_t srv_len, const uint8_t *cli,
			size_t cli_len, const uint8_t **out, uint8_t *outlen)
{
	size_t off = 0;

	while (off < srv_len) {
		uint8_t n = srv[off++];

		if (n == 0 || n > srv_len - off)
			return 0;
		if (tls_hello_alpn_has(cli, cli_len, (const char *)srv + off,
				       n)) {
			*out = srv + off;
			*outlen = n;
			return 1;
		}
		off += n;
	}
	return 0;
}

/* Converts "h2,http/1.1" into the ALPN wire format. Empty items and spaces
 * around items are skipped; `acme-tls/1` is refused (only the challenge
 * hook may negotiate it). Returns the length, or -1. */
int tls_hello_alpn_wire(const char *list, uint8_t *out, size_t outlen)
{
	size_t len = 0;
	struct str s = str_cstr(list);

	while (s.len) {
		const char *comma = memchr(s.p, ',', s.len);
		size_t n = comma ? (size_t)(comma - s.p) : s.len;
		struct str item = str_trim_ows(str_make(s.p, n));

		s.p += comma ? n + 1 : n;
		s.len -= comma ? n + 1 : n;
		if (item.len == 0)
			continue;
		if (item.len > 255 || len + 1 + item.len > outlen ||
		    str_eq(item, STR_LIT("acme-tls/1")))
			return -1;
		out[len++] = (uint8_t)item.len;
		memcpy(out + len, item.p, item.len);
		len += item.len;
	}
	return len ? (int)len : -1;
}

/* The client's ALPN list from the raw extension body, or false. */
static bool hello_alpn_ext(SSL *ssl, const uint8_t **list, size_t *len)
{
	const unsigned char *p;
	size_t n;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &p, &n) ||
	    n < 2 || hello_u16(p) != n - 2)
		return false;
	*list = p + 2;
	*len = n - 2;
	return true;
}

/* Serves the TLS-ALPN-01 certificate the hook has for `name`, or refuses
 * the handshake (there is no challenge to answer). */
static int hello_challenge(struct tls_server *srv, SSL *ssl, const char *name,
			   int *al)
{
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	int ok;

	if (srv->challenge_fn(srv->challenge_arg, name, &cert, &key) != 1 ||
	    !cert || !key) {
		X509_free(cert);
		EVP_PKEY_free(key);
		log_debug("acme-tls/1 for %s: no pending challenge", name);
		*al = SSL_AD_NO_APPLICATION_PROTOCOL;
		return SSL_CLIENT_HELLO_ERROR;
	}
	/* The challenge certificate is set on the SSL itself (these
	 * connections are rare) and the SSL stays on the base context. */
	ok = SSL_set_SSL_CTX(ssl, srv->base) != NULL &&
	     SSL_use_cert_and_key(ssl, cert, key, NULL, 1) == 1 &&
	     SSL_set_ex_data(ssl, tls_exdata_acme(), srv);
	X509_free(cert);
	EVP_PKEY_free(key);
	if (!ok) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	atomic_fetch_add_explicit(&srv->st_acme, 1, memory_order_relaxed);
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* Switches the SSL to the context of the certificate serving `name`. */
static int hello_select(struct tls_server *srv, SSL *ssl, const char *name,
			size_t len, int *al)
{
	struct tls_certset *set = tls_server_certset_get(srv);
	struct tls_cert *cert = NULL;
	bool def = false;
	int ret = SSL_CLIENT_HELLO_SUCCESS;

	if (set)
		cert = tls_certset_lookup(set, name, len, &def);
	if (!cert) {
		*al = SSL_AD_UNRECOGNIZED_NAME;
		ret = SSL_CLIENT_HELLO_ERROR;
	} else if (SSL_set_SSL_CTX(ssl, cert->ctx) != cert->ctx) {
		*al = SSL_AD_INTERNAL_ERROR;
		ret = SSL_CLIENT_HELLO_ERROR;
	} else if (def) {
		atomic_fetch_add_explicit(&srv->st_sni_default, 1,
					  memory_order_relaxed);
	}
	tls_certset_put(set);
	return ret;
}

int tls_hello_client_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct tls_server *srv = arg;
	char name[TLS_NAME_MAX + 1];
	const unsigned char *p;
	size_t len;
	int n = 0;

	/* A malformed or invalid name is treated as no name here (default
	 * certificate); OpenSSL rejects a malformed extension itself. */
	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len))
		n = tls_hello_parse_sni(p, len, name, sizeof(name));
	if (n < 0)
		n = 0;
	if (n > 0 && srv->challenge_fn) {
		const uint8_t *list;
		size_t list_len;

		if (hello_alpn_ext(ssl, &list, &list_len) &&
		    tls_hello_alpn_has(list, list_len, acme_proto,
				       ACME_PROTO_LEN))
			return hello_challenge(srv, ssl, name, al);
	}
	return hello_select(srv, ssl, n ? name : NULL, (size_t)n, al);
}

/* Acknowledges the client's SNI: the certificate was chosen already, and
 * an acknowledged name is stored in the session (tickets then resume only
 * for the same name, as RFC 6066 asks). */
int tls_hello_servername_cb(SSL *ssl, int *al, void *arg)
{
	return SSL_TLSEXT_ERR_OK;
}

int tls_hello_alpn_select_cb(SSL *ssl, const unsigned char **out,
			     unsigned char *outlen, const unsigned char *in,
			     unsigned int inlen, void *arg)
{
	struct tls_server *srv = arg;

	if (SSL_get_ex_data(ssl, tls_exdata_acme())) {
		if (!tls_hello_alpn_has(in, inlen, acme_proto, ACME_PROTO_LEN))
			return SSL_TLSEXT_ERR_ALERT_FATAL;
		*out = (const unsigned char *)acme_proto;
		*outlen = ACME_PROTO_LEN;
		return SSL_TLSEXT_ERR_OK;
	}
	if (tls_hello_alpn_pick(srv->alpn, srv->alpn_len, in, inlen, out,
				outlen))
		return SSL_TLSEXT_ERR_OK;
	/* No common protocol: carry on without ALPN (HTTP/1.1), as browsers
	 * and curl expect, rather than failing the handshake. */
	return SSL_TLSEXT_ERR_NOACK;
}
