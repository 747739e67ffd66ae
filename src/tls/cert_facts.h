/* cert_facts.h - what a certificate says about itself, as the store's
 * certificate rows and the API show it: its DNS names, issuer, serial,
 * SHA-256 fingerprint and validity. One reader for the API's uploads and
 * the ACME manager's records (acme/acme_records.h). */
#ifndef POSTERN_TLS_CERT_FACTS_H
#define POSTERN_TLS_CERT_FACTS_H

#include <jansson.h>
#include <openssl/x509.h>

/* Sets in `row`: "names" (a JSON array as text: the SAN dNSNames, else
 * the CN), "issuer", "serial" (hex), "fingerprint" (hex SHA-256 of the
 * DER), "not_before" and "not_after" (ms since the epoch). */
void tls_cert_describe(X509 *x, json_t *row);
/* The same for the first certificate of a PEM text. Returns 0, or -1
 * (nothing set) when it holds none. */
int tls_cert_facts(const char *pem, json_t *row);

#endif
