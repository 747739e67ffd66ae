/* dns_rfc2136.c - the generic provider: DNS UPDATE (RFC 2136) over TCP to
 * the zone's primary, signed with TSIG (RFC 8945, hmac-sha256/-sha512).
 *
 *   zone section  <zone> SOA IN
 *   update        add:    <fqdn> <ttl> IN TXT "<value>"
 *                 delete: <fqdn> 0 NONE TXT "<value>"   (that value only)
 *   additional    TSIG <tsig_name> (when tsig_name is set)
 * The server's rcode decides: NOERROR is success; anything else is an
 * error naming the rcode (NOTAUTH usually means a wrong key). */
#define LOG_SUBSYS "acme"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/core_names.h>

#include "acme/dns_provider_int.h"
#include "acme/dns_query.h"
#include "core/enc.h"
#include "core/secure.h"

#define UPD_MAX 1024
#define UPD_TIMEOUT_MS 10000
#define TSIG_FUDGE 300

static const char *const rcodes[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

struct upd {
	uint8_t b[UPD_MAX];
	size_t n;
	int err;
};

static void put(struct upd *u, const void *p, size_t n)
{
	if (u->err || u->n + n > sizeof(u->b)) {
		u->err = -ENOBUFS;
		return;
	}
	memcpy(u->b + u->n, p, n);
	u->n += n;
}

static void put16(struct upd *u, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	put(u, b, 2);
}

static void put32(struct upd *u, uint32_t v)
{
	put16(u, v >> 16);
	put16(u, v & 0xffff);
}

static void put_name(struct upd *u, const char *name)
{
	int n;

	if (u->err)
		return;
	n = dns_msg_put_name(u->b + u->n, sizeof(u->b) - u->n, name);
	if (n < 0)
		u->err = n;
	else
		u->n += (size_t)n;
}

/* Header, zone section and the one update record. */
static void upd_build(struct upd *u, uint16_t id, const char *zone,
		      const struct dns_record *r, bool add, unsigned ttl)
{
	uint8_t len = (uint8_t)strlen(r->value);

	put16(u, id);
	put16(u, DNS_OP_UPDATE << 11);
	put16(u, 1);	/* ZOCOUNT */
	put16(u, 0);	/* PRCOUNT */
	put16(u, 1);	/* UPCOUNT */
	put16(u, 0);	/* ADCOUNT, bumped when TSIG is added */
	put_name(u, zone);
	put16(u, DNS_T_SOA);
	put16(u, DNS_C_IN);
	put_name(u, r->fqdn);
	put16(u, DNS_T_TXT);
	put16(u, add ? DNS_C_IN : DNS_C_NONE);
	put32(u, add ? ttl : 0);
	put16(u, 1u + len);
	put(u, &len, 1);
	put(u, r->value, len);
}

static const EVP_MD *tsig_md(const char *alg)
{
	if (!strcmp(alg, "hmac-sha256"))
		return EVP_sha256();
	if (!strcmp(alg, "hmac-sha512"))
		return EVP_sha512();
	return NULL;
}

/* Appends the TSIG record (RFC 8945 s4.2, s4.3.3). */
static int upd_sign(struct upd *u, struct dns_provider *p, uint16_t id)
{
	const char *kname = dns_provider_get(p, "tsig_name");
	const char *secret = dns_provider_get(p, "tsig_secret");
	const char *alg = dns_provider_get(p, "tsig_algorithm");
	uint8_t key[128], mac[EVP_MAX_MD_SIZE];
	unsigned maclen;
	struct upd v = { .n = 0 };
	uint64_t now = (uint64_t)time(NULL);
	long klen;

	alg = alg ? alg : "hmac-sha256";
	klen = secret ? b64_decode(key, sizeof(key), secret, strlen(secret)) : -1;
	if (klen <= 0 || !tsig_md(alg))
		return -EINVAL;
	/* The variables: name, class, TTL, algorithm, time, fudge, error, other. */
	put_name(&v, kname);
	put16(&v, DNS_C_ANY);
	put32(&v, 0);
	put_name(&v, alg);
	put16(&v, (unsigned)(now >> 32));
	put32(&v, (uint32_t)now);
	put16(&v, TSIG_FUDGE);
	put16(&v, 0);
	put16(&v, 0);
	EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string("digest",
			(char *)EVP_MD_get0_name(tsig_md(alg)), 0),
		OSSL_PARAM_construct_end(),
	};
	size_t ml = 0;
	int ok = ctx && !v.err && EVP_MAC_init(ctx, key, (size_t)klen, params) &&
		 EVP_MAC_update(ctx, u->b, u->n) && EVP_MAC_update(ctx, v.b, v.n) &&
		 EVP_MAC_final(ctx, mac, &ml, sizeof(mac));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	secure_wipe(key, sizeof(key));
	if (!ok)
		return -EINVAL;
	maclen = (unsigned)ml;
	put_name(u, kname);
	put16(u, DNS_T_TSIG);
	put16(u, DNS_C_ANY);
	put32(u, 0);
	size_t rdlen_at = u->n;
	put16(u, 0);
	put_name(u, alg);
	put16(u, (unsigned)(now >> 32));
	put32(u, (uint32_t)now);
	put16(u, TSIG_FUDGE);
	put16(u, maclen);
	put(u, mac, maclen);
	put16(u, id);
	put16(u, 0);
	put16(u, 0);
	if (u->err)
		return u->err;
	size_t rdlen = u->n - rdlen_at - 2;
	u->b[rdlen_at] = (uint8_t)(rdlen >> 8);
	u->b[rdlen_at + 1] = (uint8_t)rdlen;
	u->b[11] = 1;	/* ADCOUNT */
	return 0;
}

static int upd_send(struct dns_provider *p, const struct dns_record *r,
		    const char *zone, bool add, char *err, size_t errlen)
{
	struct upd u = { .n = 0 };
	uint8_t resp[UPD_MAX * 4];
	uint16_t id;
	int n;

	secure_random(&id, sizeof(id));
	upd_build(&u, id, zone, r, add, p->ttl);
	if (u.err || (dns_provider_get(p, "tsig_name") && upd_sign(&u, p, id))) {
		snprintf(err, errlen, "rfc2136: cannot build the update "
			 "(check tsig_secret is base64 and tsig_algorithm is "
			 "hmac-sha256 or hmac-sha512)");
		return -EINVAL;
	}
	n = dns_exchange_tcp(dns_provider_get(p, "server"), u.b, u.n,
			     UPD_TIMEOUT_MS, resp, sizeof(resp));
	if (n < 0) {
		snprintf(err, errlen, "rfc2136: %s: %s", dns_provider_get(p, "server"),
			 strerror(-n));
		return n;
	}
	if (n < 12 || resp[0] != u.b[0] || resp[1] != u.b[1] || !(resp[2] & 0x80)) {
		snprintf(err, errlen, "rfc2136: malformed answer from %s",
			 dns_provider_get(p, "server"));
		return -EPROTO;
	}
	if (resp[3] & 0x0f) {
		unsigned rc = resp[3] & 0x0f;
		snprintf(err, errlen, "rfc2136: %s %s refused: %s", add ? "adding" : "deleting",
			 r->fqdn, rc < sizeof(rcodes) / sizeof(rcodes[0]) ? rcodes[rc] : "error");
		return -EPROTO;
	}
	return 0;
}

static int u_zone_find(struct dns_provider *p, const char *cand, char *id,
		       size_t cap, char *err, size_t errlen)
{
	snprintf(id, cap, "%s", cand);
	return 0;
}

static int u_add(struct dns_provider *p, struct dns_record *r, char *err,
		 size_t errlen)
{
	int rc = upd_send(p, r, r->zone, true, err, errlen);

	if (rc == 0)
		snprintf(r->id, sizeof(r->id), "%s", r->value);
	return rc;
}

static int u_del(struct dns_provider *p, const struct dns_record *r, char *err,
		 size_t errlen)
{
	return upd_send(p, r, r->zone, false, err, errlen);
}

static const char *const u_keys[] = {
	"!server", "!zone", "tsig_name", "tsig_secret", "tsig_algorithm", NULL,
};

const struct dns_provider_ops dns_rfc2136_ops = {
	.name = "rfc2136",
	.default_url = "",
	.keys = u_keys,
	.min_ttl = 0,
	.zone_find = u_zone_find,
	.add = u_add,
	.del = u_del,
};
