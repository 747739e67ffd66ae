/* acme_client_int.h - what acme_client.c shares with acme_order.c only. */
#ifndef POSTERN_ACME_ACME_CLIENT_INT_H
#define POSTERN_ACME_ACME_CLIENT_INT_H

#include "acme/acme_client.h"

/* Sends a signed POST (payload "" = POST-as-GET) with a fresh nonce,
 * retrying badNonce. `use_jwk` embeds the key instead of the account URL;
 * `accept` is an extra "Accept: ..." header or NULL. On 0 the answer is a
 * success status and the caller frees `r`. Error codes as in
 * acme_client.h. */
int acme_client_post(struct acme_client *c, const char *url, const char *payload,
		bool use_jwk, const char *accept, struct acme_http_resp *r);
/* Sleeps `secs` in small slices. Returns 0 or -ECANCELED. */
int acme_client_sleep(struct acme_client *c, uint64_t secs);

#endif
