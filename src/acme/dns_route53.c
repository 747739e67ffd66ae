/* dns_route53.c - Amazon Route 53 (API 2013-04-01), SigV4-signed by libcurl.
 *
 *   GET  /2013-04-01/hostedzonesbyname?dnsname=<zone>&maxitems=1
 *        -> HostedZones/HostedZone/{Id "/hostedzone/Z..", Name "zone."}
 *   POST /2013-04-01/hostedzone/<id>/rrset   ChangeResourceRecordSetsRequest
 *        (one change batch: UPSERT to add, DELETE with the same values)
 *        -> ChangeInfo/{Id "/change/C..", Status PENDING}
 *   GET  /2013-04-01/change/<id>  until ChangeInfo/Status is INSYNC
 * Errors: ErrorResponse/Error/{Code, Message}. */
#define LOG_SUBSYS "acme"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acme/dns_provider_int.h"
#include "acme/r53_xml.h"
#include "core/log.h"
#include "core/secure.h"

#define R53_NS "https://route53.amazonaws.com/doc/2013-04-01/"
#define R53_INSYNC_WAIT_S 120

/* One call, signed by libcurl (SigV4 through acme_http). `path` carries
 * its query already sorted and encoded, as SigV4 signs it. On 0 the
 * answer's fields are in `a`; API errors become messages here. */
static int r53_call(struct dns_provider *p, const char *method, const char *path,
		    const char *body, const char *what, struct r53_answer *a,
		    char *err, size_t errlen)
{
	const char *region = dns_provider_get(p, "region");
	const char *token = dns_provider_get(p, "session_token");
	char sigv4[96], *url, *tok_hdr = NULL;
	struct acme_http_resp r;
	int rc;

	if (!region)
		region = "us-east-1";
	if (!dns_id_ok(region, 32)) {
		snprintf(err, errlen, "route53: region must be a plain name");
		return -EINVAL;
	}
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:route53", region);
	if (token && asprintf(&tok_hdr, "X-Amz-Security-Token: %s", token) < 0)
		return -ENOMEM;
	if (asprintf(&url, "%s%s", p->url, path) < 0) {
		secure_free(tok_hdr, tok_hdr ? strlen(tok_hdr) + 1 : 0);
		return -ENOMEM;
	}
	const char *hdrs[] = { body ? "Content-Type: application/xml" : tok_hdr,
			       body ? tok_hdr : NULL, NULL };
	struct acme_http_req req = {
		.method = method, .url = url, .headers = hdrs, .body = body,
		.body_len = body ? strlen(body) : 0, .aws_sigv4 = sigv4,
		.aws_key_id = dns_provider_get(p, "access_key_id"),
		.aws_secret = dns_provider_get(p, "secret_access_key"),
	};
	rc = acme_http_do(p->http, &req, &r, err, errlen);
	secure_free(tok_hdr, tok_hdr ? strlen(tok_hdr) + 1 : 0);
	free(url);
	if (rc)
		return rc;
	if (r53_xml_parse((const char *)buf_head(&r.body), r.body.len, a) &&
	    r.status / 100 == 2) {
		snprintf(err, errlen, "route53: %s: answer is not the expected XML", what);
		rc = -EPROTO;
	} else if (r.status / 100 != 2) {
		char detail[400];

		snprintf(detail, sizeof(detail), "%s%s%s", a->code,
			 *a->code ? ": " : "", a->message);
		dns_fail(err, errlen, p, what, r.status, detail);
		rc = -EPROTO;
	}
	acme_http_resp_free(&r);
	return rc;
}

/* "/hostedzone/Z123" or "Z123" -> "Z123" when it is a plain id. */
static int r53_strip(const char *in, const char *prefix, char *out, size_t cap)
{
	size_t pl = strlen(prefix);

	if (!strncmp(in, prefix, pl))
		in += pl;
	if (!dns_id_ok(in, 64))
		return -EINVAL;
	snprintf(out, cap, "%s", in);
	return 0;
}

static int r53_zone_find(struct dns_provider *p, const char *cand, char *id,
			 size_t cap, char *err, size_t errlen)
{
	const char *zid = dns_provider_get(p, "hosted_zone_id");
	char path[400], want[300];
	struct r53_answer a;
	int rc;

	if (zid)
		return r53_strip(zid, "/hostedzone/", id, cap);
	snprintf(path, sizeof(path),
		 "/2013-04-01/hostedzonesbyname?dnsname=%s&maxitems=1", cand);
	if ((rc = r53_call(p, "GET", path, NULL, "zone lookup", &a, err, errlen)))
		return rc;
	snprintf(want, sizeof(want), "%s.", cand);
	if (!*a.zone_name || strcasecmp(a.zone_name, want) || !*a.zone_id)
		return -ENOENT;
	return r53_strip(a.zone_id, "/hostedzone/", id, cap) ? -EPROTO : 0;
}

static int r53_batch(struct dns_provider *p, const struct dns_record *r,
		     const char *action, char *change_id, size_t cap, char *err,
		     size_t errlen)
{
	char path[300], *xml = NULL;
	struct r53_answer a;
	int rc;

	if (asprintf(&xml,
		     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<ChangeResourceRecordSetsRequest xmlns=\"" R53_NS "\">"
		     "<ChangeBatch><Comment>postern acme</Comment><Changes><Change>"
		     "<Action>%s</Action><ResourceRecordSet><Name>%s.</Name>"
		     "<Type>TXT</Type><TTL>%u</TTL><ResourceRecords><ResourceRecord>"
		     "<Value>&quot;%s&quot;</Value></ResourceRecord></ResourceRecords>"
		     "</ResourceRecordSet></Change></Changes></ChangeBatch>"
		     "</ChangeResourceRecordSetsRequest>",
		     action, r->fqdn, p->ttl, r->value) < 0)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/2013-04-01/hostedzone/%s/rrset", r->zone_id);
	rc = r53_call(p, "POST", path, xml, !strcmp(action, "DELETE") ?
		      "deleting the TXT record" : "creating the TXT record",
		      &a, err, errlen);
	free(xml);
	if (rc)
		return rc;
	if (r53_strip(a.change_id, "/change/", change_id, cap)) {
		snprintf(err, errlen, "route53: answer has no ChangeInfo Id");
		return -EPROTO;
	}
	return 0;
}

/* Waits for the change to reach all Route 53 servers (GetChange INSYNC). */
static int r53_wait(struct dns_provider *p, const char *cid, char *err,
		    size_t errlen)
{
	char path[300];
	struct r53_answer a;
	struct timespec ts = { 2, 0 };
	int rc;

	snprintf(path, sizeof(path), "/2013-04-01/change/%s", cid);
	for (int i = 0; i < R53_INSYNC_WAIT_S / 2; i++) {
		if ((rc = r53_call(p, "GET", path, NULL, "GetChange", &a, err,
				   errlen)))
			return rc;
		if (!*a.status) {
			snprintf(err, errlen, "route53: GetChange answer has no Status");
			return -EPROTO;
		}
		if (!strcmp(a.status, "INSYNC"))
			return 0;
		nanosleep(&ts, NULL);
	}
	snprintf(err, errlen, "route53: change %s not INSYNC after %ds", cid,
		 R53_INSYNC_WAIT_S);
	return -ETIMEDOUT;
}

static int r53_add(struct dns_provider *p, struct dns_record *r, char *err,
		   size_t errlen)
{
	char cid[128];
	int rc = r53_batch(p, r, "UPSERT", cid, sizeof(cid), err, errlen);

	if (rc == 0)
		rc = r53_wait(p, cid, err, errlen);
	if (rc == 0)
		snprintf(r->id, sizeof(r->id), "%s", cid);
	return rc;
}

static int r53_del(struct dns_provider *p, const struct dns_record *r,
		   char *err, size_t errlen)
{
	char cid[128];

	return r53_batch(p, r, "DELETE", cid, sizeof(cid), err, errlen);
}

static const char *const r53_keys[] = {
	"!access_key_id", "!secret_access_key", "session_token",
	"hosted_zone_id", "zone", "region", NULL,
};

const struct dns_provider_ops dns_route53_ops = {
	.name = "route53",
	.default_url = "https://route53.amazonaws.com",
	.keys = r53_keys,
	.min_ttl = 1,
	.zone_find = r53_zone_find,
	.add = r53_add,
	.del = r53_del,
};
