#!/usr/bin/env python3
"""Stand-ins for DNS hosting APIs, for the DNS-01 tests.

Each stand-in checks the exact request format its provider documents
(paths, methods, auth headers, JSON/XML bodies; for Route 53 the SigV4
signature, recomputed here independently of the C code), refuses anything
else with the provider's own error shape, and writes accepted TXT records
into pebble-challtestsrv (/set-txt, /clear-txt), so that pebble validates
the DNS-01 challenge for real.

    dns_standins.py PROVIDER LISTEN_ADDR PORT CHALLTESTSRV_URL ZONE SECRET LOG

SECRET is the API token (or "KEYID:SECRET" for Route 53). Every request is
appended to LOG as one JSON line {method, path, status, body, error}, so a
test can assert what the client sent. Provider docs followed:
  Cloudflare  https://developers.cloudflare.com/api/resources/dns/subresources/records/
  Hetzner     https://dns.hetzner.com/api-docs
  DigitalOcean https://docs.digitalocean.com/reference/api/api-reference/#tag/Domain-Records
  Route 53    https://docs.aws.amazon.com/Route53/latest/APIReference/API_ChangeResourceRecordSets.html
              https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetChange.html
              https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
"""
import datetime
import hashlib
import hmac
import json
import re
import secrets
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROVIDER, ADDR, PORT, CHALL, ZONE, SECRET, LOG = sys.argv[1:8]
RECORDS = {}          # id -> (fqdn, value)
CHANGES = {}          # route53 change id -> polls seen
TXT_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url(SHA-256), RFC 8555 s8.4


class Reject(Exception):
    def __init__(self, status, body, ctype="application/json"):
        super().__init__(status)
        self.status, self.body, self.ctype = status, body, ctype


def chall(path, body):
    req = urllib.request.Request(CHALL + path, data=json.dumps(body).encode(),
                                 method="POST")
    urllib.request.urlopen(req, timeout=5).read()


def in_zone(fqdn):
    return fqdn == ZONE or fqdn.endswith("." + ZONE)


def check_txt(fqdn, value):
    if not fqdn.startswith("_acme-challenge.") or not in_zone(fqdn):
        return f"bad record name {fqdn!r}"
    if not TXT_RE.match(value):
        return f"bad TXT value {value!r}"
    return None


# -- Cloudflare v4 ------------------------------------------------------------
CF_ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"


def cf_err(status, code, msg):
    return Reject(status, {"success": False, "errors": [{"code": code, "message": msg}],
                           "messages": [], "result": None})


def cf_ok(result):
    return 200, {"success": True, "errors": [], "messages": [], "result": result}


def cloudflare(h, method, path, query, body):
    if h.headers.get("Authorization") != f"Bearer {SECRET}":
        raise cf_err(403, 9109, "Invalid access token")
    base = "/client/v4/zones"
    if method == "GET" and path == base:
        name = query.get("name", [""])[0]
        res = [{"id": CF_ZONE_ID, "name": ZONE, "status": "active"}] if name == ZONE else []
        return cf_ok(res)
    m = re.fullmatch(base + r"/([0-9a-f]{32})/dns_records(?:/([0-9a-f]{32}))?", path)
    if not m or m.group(1) != CF_ZONE_ID:
        raise cf_err(404, 7003, "Could not route to " + path)
    if method == "POST" and not m.group(2):
        if h.headers.get("Content-Type") != "application/json":
            raise cf_err(400, 6003, "Invalid request headers")
        d = json.loads(body)
        if set(d) != {"type", "name", "content", "ttl"} or d["type"] != "TXT":
            raise cf_err(400, 9005, f"unexpected fields {sorted(d)}")
        if not isinstance(d["ttl"], int) or not (d["ttl"] == 1 or 60 <= d["ttl"] <= 86400):
            raise cf_err(400, 9021, "Invalid TTL")
        bad = check_txt(d["name"], d["content"])
        if bad:
            raise cf_err(400, 9000, bad)
        rid = secrets.token_hex(16)
        RECORDS[rid] = (d["name"], d["content"])
        chall("/set-txt", {"host": d["name"] + ".", "value": d["content"]})
        return cf_ok({"id": rid, "type": "TXT", "name": d["name"],
                      "content": d["content"], "ttl": d["ttl"], "proxied": False})
    if method == "DELETE" and m.group(2):
        if m.group(2) not in RECORDS:
            raise cf_err(404, 81044, "Record does not exist.")
        fqdn, _ = RECORDS.pop(m.group(2))
        chall("/clear-txt", {"host": fqdn + "."})
        return cf_ok({"id": m.group(2)})
    raise cf_err(405, 10000, "Method not allowed")


# -- Hetzner DNS ----------------------------------------------------------------
HZ_ZONE_ID = "HzZ0neId1234567890abcd"


def hetzner(h, method, path, query, body):
    if h.headers.get("Auth-API-Token") != SECRET:
        raise Reject(401, {"message": "Invalid authentication credentials"})
    if method == "GET" and path == "/api/v1/zones":
        if query.get("name", [""])[0] != ZONE:
            raise Reject(404, {"zones": [], "error": {"message": "zone not found",
                                                      "code": 404}})
        return 200, {"zones": [{"id": HZ_ZONE_ID, "name": ZONE, "ttl": 86400}],
                     "meta": {"pagination": {"page": 1, "per_page": 100,
                                             "total_entries": 1}}}
    if method == "POST" and path == "/api/v1/records":
        if h.headers.get("Content-Type") != "application/json":
            raise Reject(400, {"error": {"message": "invalid content type", "code": 400}})
        d = json.loads(body)
        if set(d) - {"zone_id", "type", "name", "value", "ttl"} or \
                not {"zone_id", "type", "name", "value"} <= set(d):
            raise Reject(422, {"error": {"message": f"invalid fields {sorted(d)}",
                                         "code": 422}})
        if d["zone_id"] != HZ_ZONE_ID or d["type"] != "TXT":
            raise Reject(422, {"error": {"message": "invalid zone_id or type", "code": 422}})
        if d["name"].endswith(ZONE):  # Hetzner names are relative to the zone
            raise Reject(422, {"error": {"message": "name must be relative", "code": 422}})
        fqdn = d["name"] + "." + ZONE if d["name"] != "@" else ZONE
        bad = check_txt(fqdn, d["value"])
        if bad:
            raise Reject(422, {"error": {"message": bad, "code": 422}})
        rid = secrets.token_hex(16)
        RECORDS[rid] = (fqdn, d["value"])
        chall("/set-txt", {"host": fqdn + ".", "value": d["value"]})
        return 200, {"record": {"id": rid, "type": "TXT", "name": d["name"],
                                "value": d["value"], "zone_id": HZ_ZONE_ID,
                                "ttl": d.get("ttl", 86400)}}
    m = re.fullmatch(r"/api/v1/records/([0-9a-f]{32})", path)
    if method == "DELETE" and m:
        if m.group(1) not in RECORDS:
            raise Reject(404, {"error": {"message": "record not found", "code": 404}})
        fqdn, _ = RECORDS.pop(m.group(1))
        chall("/clear-txt", {"host": fqdn + "."})
        return 200, {}
    raise Reject(404, {"error": {"message": "not found", "code": 404}})


# -- DigitalOcean ---------------------------------------------------------------
def digitalocean(h, method, path, query, body):
    if h.headers.get("Authorization") != f"Bearer {SECRET}":
        raise Reject(401, {"id": "Unauthorized", "message": "Unable to authenticate you"})
    m = re.fullmatch(r"/v2/domains/([a-z0-9.-]+)(/records(?:/(\d+))?)?", path)
    if not m:
        raise Reject(404, {"id": "not_found", "message": "The resource you were "
                           "accessing could not be found."})
    if m.group(1) != ZONE:
        raise Reject(404, {"id": "not_found", "message": "The resource you were "
                           "accessing could not be found."})
    if method == "GET" and not m.group(2):
        return 200, {"domain": {"name": ZONE, "ttl": 1800, "zone_file": ""}}
    if method == "POST" and m.group(2) and not m.group(3):
        if h.headers.get("Content-Type") != "application/json":
            raise Reject(400, {"id": "bad_request", "message": "bad content type"})
        d = json.loads(body)
        if set(d) != {"type", "name", "data", "ttl"} or d["type"] != "TXT":
            raise Reject(422, {"id": "unprocessable_entity",
                               "message": f"unexpected fields {sorted(d)}"})
        if not isinstance(d["ttl"], int) or d["ttl"] < 30:
            raise Reject(422, {"id": "unprocessable_entity",
                               "message": "TTL must be at least 30"})
        fqdn = d["name"] + "." + ZONE
        bad = check_txt(fqdn, d["data"])
        if bad:
            raise Reject(422, {"id": "unprocessable_entity", "message": bad})
        rid = str(28448400 + len(RECORDS) + secrets.randbelow(1000))
        RECORDS[rid] = (fqdn, d["data"])
        chall("/set-txt", {"host": fqdn + ".", "value": d["data"]})
        return 201, {"domain_record": {"id": int(rid), "type": "TXT", "name": d["name"],
                                       "data": d["data"], "ttl": d["ttl"],
                                       "priority": None, "port": None, "weight": None}}
    if method == "DELETE" and m.group(3):
        if m.group(3) not in RECORDS:
            raise Reject(404, {"id": "not_found", "message": "record not found"})
        fqdn, _ = RECORDS.pop(m.group(3))
        chall("/clear-txt", {"host": fqdn + "."})
        return 204, None
    raise Reject(405, {"id": "method_not_allowed", "message": "method not allowed"})


# -- Route 53 -------------------------------------------------------------------
R53_NS = "https://route53.amazonaws.com/doc/2013-04-01/"
R53_ZONE = "Z1D633PJN98FT9"


def r53_err(status, code, msg):
    body = (f'<?xml version="1.0"?>\n<ErrorResponse xmlns="{R53_NS}"><Error>'
            f"<Type>Sender</Type><Code>{code}</Code><Message>{msg}</Message>"
            f"</Error><RequestId>{secrets.token_hex(8)}</RequestId></ErrorResponse>")
    return Reject(status, body, "text/xml")


def sigv4_expected(h, method, path, raw_query, body, key_id, secret, amzdate, signed):
    """The SigV4 signature recomputed from the request as received."""
    pairs = sorted(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
    cq = "&".join(urllib.parse.quote(k, safe="-_.~") + "=" +
                  urllib.parse.quote(v, safe="-_.~") for k, v in pairs)
    names = signed.split(";")
    ch = "".join(f"{n}:{' '.join(h.headers.get(n, '').split())}\n" for n in names)
    creq = "\n".join([method, path, cq, ch, signed, hashlib.sha256(body).hexdigest()])
    day = amzdate[:8]
    scope = f"{day}/us-east-1/route53/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, "us-east-1", "route53", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return scope, hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()


def r53_auth(h, method, path, raw_query, body):
    key_id, secret = SECRET.split(":", 1)
    auth = h.headers.get("Authorization", "")
    m = re.fullmatch(r"AWS4-HMAC-SHA256 Credential=([^/]+)/([^,]+), "
                     r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})", auth)
    if not m:
        raise r53_err(403, "MissingAuthenticationToken", "Missing or malformed Authorization")
    amzdate = h.headers.get("X-Amz-Date", "")
    if m.group(1) != key_id:
        raise r53_err(403, "InvalidClientTokenId",
                      "The security token included in the request is invalid.")
    if "host" not in m.group(3).split(";") or "x-amz-date" not in m.group(3).split(";"):
        raise r53_err(403, "IncompleteSignature", "host and x-amz-date must be signed")
    t = datetime.datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc)
    if abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) > 300:
        raise r53_err(403, "SignatureDoesNotMatch", "Signature expired")
    scope, sig = sigv4_expected(h, method, path, raw_query, body, key_id, secret,
                                amzdate, m.group(3))
    if m.group(2) != scope or not hmac.compare_digest(sig, m.group(4)):
        raise r53_err(403, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match the "
                      "signature you provided.")


def r53_change_xml(cid, status):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<{{}} xmlns="{R53_NS}"><ChangeInfo>'
            f"<Id>/change/{cid}</Id><Status>{status}</Status>"
            f"<SubmittedAt>2026-01-01T00:00:00Z</SubmittedAt></ChangeInfo></{{}}>")


def route53_batch(body):
    ns = {"r": R53_NS}
    root = ET.fromstring(body)
    if root.tag != f"{{{R53_NS}}}ChangeResourceRecordSetsRequest":
        raise r53_err(400, "InvalidInput", "not a ChangeResourceRecordSetsRequest")
    changes = root.findall("r:ChangeBatch/r:Changes/r:Change", ns)
    if len(changes) != 1:
        raise r53_err(400, "InvalidChangeBatch", "expected one change")
    c = changes[0]
    action = c.findtext("r:Action", namespaces=ns)
    rrs = c.find("r:ResourceRecordSet", ns)
    name = rrs.findtext("r:Name", namespaces=ns) or ""
    values = [v.text for v in rrs.findall("r:ResourceRecords/r:ResourceRecord/r:Value", ns)]
    ttl = rrs.findtext("r:TTL", namespaces=ns)
    if action not in ("UPSERT", "CREATE", "DELETE") or \
            rrs.findtext("r:Type", namespaces=ns) != "TXT" or len(values) != 1 or \
            not ttl or not ttl.isdigit() or not name.endswith("."):
        raise r53_err(400, "InvalidInput", "malformed change")
    value = values[0]
    if not (value.startswith('"') and value.endswith('"')):
        raise r53_err(400, "InvalidChangeBatch", "TXT values must be quoted")
    fqdn, value = name[:-1], value[1:-1]
    bad = check_txt(fqdn, value)
    if bad:
        raise r53_err(400, "InvalidChangeBatch", bad)
    if action == "DELETE":
        if (fqdn, value) not in RECORDS.values():
            raise r53_err(400, "InvalidChangeBatch",
                          f"Tried to delete resource record set [name='{name}', "
                          f"type='TXT'] but it was not found")
        for k, v in list(RECORDS.items()):
            if v == (fqdn, value):
                RECORDS.pop(k)
        chall("/clear-txt", {"host": name})
    else:
        RECORDS[secrets.token_hex(4)] = (fqdn, value)
        chall("/set-txt", {"host": name, "value": value})
    cid = "C" + secrets.token_hex(8).upper()
    CHANGES[cid] = 0
    return 200, r53_change_xml(cid, "PENDING").format(
        "ChangeResourceRecordSetsResponse", "ChangeResourceRecordSetsResponse")


def route53(h, method, path, query, body, raw_query=""):
    r53_auth(h, method, path, raw_query, body)
    if method == "GET" and path == "/2013-04-01/hostedzonesbyname":
        if set(query) != {"dnsname", "maxitems"}:
            raise r53_err(400, "InvalidInput", "unexpected parameters")
        name = query["dnsname"][0]
        zones = ""
        if name == ZONE:
            zones = (f"<HostedZone><Id>/hostedzone/{R53_ZONE}</Id><Name>{ZONE}.</Name>"
                     f"<CallerReference>x</CallerReference><ResourceRecordSetCount>2"
                     f"</ResourceRecordSetCount></HostedZone>")
        return 200, (f'<?xml version="1.0"?>\n<ListHostedZonesByNameResponse '
                     f'xmlns="{R53_NS}"><HostedZones>{zones}</HostedZones>'
                     f"<DNSName>{name}</DNSName><IsTruncated>false</IsTruncated>"
                     f"<MaxItems>1</MaxItems></ListHostedZonesByNameResponse>")
    if method == "POST" and path == f"/2013-04-01/hostedzone/{R53_ZONE}/rrset":
        if h.headers.get("Content-Type") not in ("application/xml", "text/xml"):
            raise r53_err(400, "InvalidInput", "bad content type")
        return route53_batch(body)
    m = re.fullmatch(r"/2013-04-01/change/(C[0-9A-F]{16})", path)
    if method == "GET" and m and m.group(1) in CHANGES:
        CHANGES[m.group(1)] += 1   # PENDING once, then INSYNC
        st = "INSYNC" if CHANGES[m.group(1)] > 1 else "PENDING"
        return 200, r53_change_xml(m.group(1), st).format("GetChangeResponse",
                                                          "GetChangeResponse")
    raise r53_err(404, "NoSuchHostedZone", f"No hosted zone found at {path}")


HANDLERS = {"cloudflare": cloudflare, "hetzner": hetzner,
            "digitalocean": digitalocean, "route53": route53}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _do(self):
        url = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        entry = {"method": self.command, "path": url.path, "query": url.query,
                 "body": body.decode(errors="replace")}
        try:
            fn = HANDLERS[PROVIDER]
            args = (self, self.command, url.path, urllib.parse.parse_qs(url.query),
                    body)
            status, resp = fn(*args, raw_query=url.query) if PROVIDER == "route53" \
                else fn(*args)
            ctype = "text/xml" if isinstance(resp, str) else "application/json"
        except Reject as e:
            status, resp, ctype = e.status, e.body, e.ctype
            entry["error"] = resp if isinstance(resp, str) else json.dumps(resp)
        except Exception as e:  # noqa: BLE001 - malformed input is a 400
            status, resp, ctype = 400, {"error": str(e)}, "application/json"
            entry["error"] = str(e)
        entry["status"] = status
        with open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")
        data = b"" if resp is None else (resp.encode() if isinstance(resp, str)
                                         else json.dumps(resp).encode())
        self.send_response(status)
        if data:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _do


if __name__ == "__main__":
    ThreadingHTTPServer((ADDR, int(PORT)), Handler).serve_forever()
