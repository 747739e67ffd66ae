/* ocsp.h - OCSP stapling: responses fetched off the request path.
 *
 * A certificate whose leaf names an OCSP responder (AIA) gets a response
 * fetched over HTTP (libcurl, POST, bounded size and time), verified
 * against the certificate's issuer (the next certificate of its chain; a
 * delegated responder must be issued by it and carry OCSPSigning), checked
 * for freshness, and cached in the certificate. Handshakes that ask for
 * status get the cached response copied in by OpenSSL's status callback;
 * a handshake never waits for a fetch, and a missing or expired response
 * is simply not stapled. The cache lives in the certificate, so it
 * survives set swaps that keep the certificate. */
#ifndef POSTERN_TLS_OCSP_H
#define POSTERN_TLS_OCSP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct tls_server;
struct tls_cert;

#define TLS_OCSP_RESP_MAX (64u * 1024)	/* bigger responses are refused */
#define TLS_OCSP_TIMEOUT_S 10		/* per fetch, connect included */
#define TLS_OCSP_RETRY_S 300		/* after a failure */
#define TLS_OCSP_DEFAULT_S 3600		/* responses without nextUpdate */

/* Fetches a response for every certificate of the live set that names a
 * responder and whose cached response is missing or past half its
 * validity. Blocking (each fetch at most TLS_OCSP_TIMEOUT_S): control
 * thread only. Sets *next_s to the seconds until the next fetch is due
 * (>= 1). Returns the number of certificates that have a responder but no
 * valid staple after this pass (0 = all good). */
int tls_ocsp_refresh(struct tls_server *srv, uint64_t *next_s);

/* Verifies a DER OCSPResponse for `cert` at time `now` and, when it is a
 * successful, correctly signed, current response about this certificate,
 * caches a copy as the staple. Returns 0, or -1 with a message in err
 * (the old staple, if any, is kept). The bytes are untrusted. */
int tls_ocsp_staple_set(struct tls_cert *cert, const uint8_t *der,
			size_t len, time_t now, char *err, size_t errlen);

/* Copies the current staple (if fresh at `now`) into an OPENSSL_malloc'd
 * buffer for SSL_set_tlsext_status_ocsp_resp. Returns its length, or 0
 * when there is none. */
size_t tls_ocsp_staple_dup(struct tls_cert *cert, time_t now,
			   unsigned char **out);

#endif
