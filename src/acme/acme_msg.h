/* acme_msg.h - ACME (RFC 8555) and ARI (RFC 9773) objects as parsed from
 * the CA's JSON, and the parsers for them.
 *
 * Every parser takes untrusted bytes (ptr, len) and fills a struct whose
 * strings it allocates; the caller frees the struct with the matching
 * *_free (also after an error: a failed parse leaves a freeable struct).
 * Parsers return 0, or -EINVAL when the bytes are not the object (not JSON,
 * wrong types, a required member missing, too big). Unknown members are
 * ignored, as RFC 8555 requires. */
#ifndef POSTERN_ACME_ACME_MSG_H
#define POSTERN_ACME_ACME_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACME_JSON_MAX (256u * 1024)	/* largest JSON body accepted */
#define ACME_MAX_IDENTS 100		/* names in one order */
#define ACME_MAX_CHALLENGES 16		/* challenges in one authorization */

enum acme_status {
	ACME_ST_UNKNOWN = 0,
	ACME_ST_PENDING,
	ACME_ST_READY,
	ACME_ST_PROCESSING,
	ACME_ST_VALID,
	ACME_ST_INVALID,
	ACME_ST_DEACTIVATED,
	ACME_ST_EXPIRED,
	ACME_ST_REVOKED,
	ACME_ST_MAX
};

struct acme_directory {
	char *new_nonce, *new_account, *new_order, *revoke_cert, *key_change;
	char *renewal_info;	/* RFC 9773; NULL when the CA has no ARI */
	char *terms_of_service;
	bool eab_required;	/* meta.externalAccountRequired */
};

/* A problem document (RFC 7807 as used by RFC 8555 s6.7). `type` is kept
 * whole ("urn:ietf:params:acme:error:badNonce"); `sub` summarizes the first
 * subproblem ("dns:a.example.com: ..."). */
struct acme_problem {
	char *type;
	char *detail;
	char *sub;
	int status;
};

struct acme_ident {
	char *type;	/* "dns" */
	char *value;
};

struct acme_challenge {
	char *type;	/* "http-01", "dns-01", "tls-alpn-01", ... */
	char *url;
	char *token;	/* NULL for types without one */
	enum acme_status status;
	struct acme_problem error;	/* type NULL when none */
};

struct acme_authz {
	enum acme_status status;
	struct acme_ident ident;
	bool wildcard;
	struct acme_challenge chall[ACME_MAX_CHALLENGES];
	size_t n_chall;
};

struct acme_order {
	enum acme_status status;
	struct acme_ident idents[ACME_MAX_IDENTS];
	size_t n_idents;
	char *authz[ACME_MAX_IDENTS];	/* authorization URLs */
	size_t n_authz;
	char *finalize;
	char *certificate;	/* NULL until valid */
	struct acme_problem error;
};

struct acme_account {
	enum acme_status status;
	char *orders;
};

/* RFC 9773 renewalInfo: the suggested window in Unix seconds. */
struct acme_renewal_info {
	int64_t start, end;
	char *explanation_url;
};

/* Declares the pair every message kind has: acme_<kind>_parse and
 * acme_<kind>_free over struct acme_<kind>, as described at the top. */
#define ACME_MSG_FUNCS(kind)                                                   \
	int acme_##kind##_parse(const char *p, size_t len,                     \
				struct acme_##kind *out);                      \
	void acme_##kind##_free(struct acme_##kind *m)

ACME_MSG_FUNCS(directory);
ACME_MSG_FUNCS(problem);
ACME_MSG_FUNCS(account);
ACME_MSG_FUNCS(order);
ACME_MSG_FUNCS(authz);
ACME_MSG_FUNCS(challenge);
ACME_MSG_FUNCS(renewal_info);

/* The status word as the CA spells it, and back. */
const char *acme_status_name(enum acme_status st);
enum acme_status acme_status_parse(const char *s);

/* True when the problem's type is urn:ietf:params:acme:error:<name>. */
bool acme_problem_is(const struct acme_problem *pr, const char *name);

/* Parses an RFC 3339 date-time ("2025-01-02T03:04:05Z", optional
 * fraction, "Z" or "+hh:mm") into Unix seconds. Returns 0 or -EINVAL. */
int acme_time_parse(const char *s, size_t len, int64_t *out);

#endif
