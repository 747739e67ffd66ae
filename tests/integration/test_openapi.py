"""docs/api/openapi.yaml matches the code: every routed endpoint (the API's
own table, printed by `postern api-endpoints`) is documented, every
documented one is routed, every $ref resolves, each documented path
answers on a running hub (not "no such endpoint", not 405, not 500), and
each resource's documented members are the ones the API returns and
lets a PATCH change."""
import os
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))

import netlab  # noqa: E402
from controllab import Hub  # noqa: E402

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "api", "openapi.yaml")
METHODS = ("get", "post", "put", "patch", "delete")


def documented(transport=None):
    with open(DOC) as f:
        doc = yaml.safe_load(f)
    return doc, {(m.upper(), p) for p, item in doc["paths"].items() for m in item
                 if m in METHODS and (transport is None or
                                      item.get("x-postern-transport", "admin") == transport)}


def routed():
    out = subprocess.run([netlab.postern_bin(), "api-endpoints"], capture_output=True,
                         text=True, check=True).stdout
    return {tuple(line.split()[:2]) for line in out.splitlines()}


def test_document_and_table_agree():
    doc, docs = documented()
    code = routed()
    assert doc["openapi"].startswith("3.")
    assert code - docs == set(), f"routed but not documented: {sorted(code - docs)}"
    assert docs - code == set(), f"documented but not routed: {sorted(docs - code)}"
    # Every $ref resolves inside the document.
    def refs(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    yield v
                else:
                    yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)
    for ref in refs(doc):
        assert ref.startswith("#/"), ref
        node = doc
        for part in ref[2:].split("/"):
            assert part in node, f"unresolved {ref}"
            node = node[part]


def resources(h, lab):
    """One object of each kind on the hub: {"routes": id, ...}."""
    ids = {
        "agents": h.api("POST", "/api/v1/agents", {"name": "doc"})[2]["id"],
        "users": h.api("POST", "/api/v1/users", {"name": "doc", "role": "viewer"})[2]["id"],
        "tokens": h.api("POST", "/api/v1/tokens", {"name": "doc", "scope": "read"})[2]["id"],
        "webhooks": h.api("POST", "/api/v1/webhooks", {"name": "doc",
                                                       "url": "https://hooks.test/x"})[2]["id"],
    }
    ids["routes"] = h.api("POST", "/api/v1/routes", {"host": "doc.test", "agent_id": ids["agents"],
                                                     "target": "http://127.0.0.1:9"})[2]["id"]
    ids["route-tokens"] = h.api("POST", "/api/v1/route-tokens",
                                {"name": "doc", "route_id": ids["routes"]})[2]["id"]
    ids["share-links"] = h.api("POST", "/api/v1/share-links", {
        "name": "doc", "route_id": ids["routes"], "expires_in": 600})[2]["id"]
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=doc.test", "-days", "1",
                    "-keyout", f"{lab.tmpdir}/k.pem", "-out", f"{lab.tmpdir}/c.pem"],
                   capture_output=True, check=True)
    ids["certificates"] = h.cli_json("cert", "add", "doc", "--cert", f"{lab.tmpdir}/c.pem",
                                     "--key", f"{lab.tmpdir}/k.pem")["id"]
    return ids


def test_every_documented_path_answers(lab):
    # Tunnel-only endpoints (x-postern-transport: tunnel) answer agents
    # inside WireGuard only; the agent's end-to-end tests reach them.
    _, docs = documented("admin")
    h = Hub(lab)
    h.start()
    ids = resources(h, lab)
    order = {"GET": 0, "POST": 1, "PUT": 1, "PATCH": 2, "DELETE": 3}
    for method, path in sorted(docs, key=lambda mp: (order[mp[0]], mp[1].count("/"))):
        kind = path.split("/")[3]
        concrete = path.replace("{id}", str(ids.get(kind, 1))).replace("{key}", "login.lockout")
        body = {} if method in ("POST", "PATCH", "PUT") else None
        if method == "PUT":
            body = {"value": 900}
        st, _, b = h.api(method, concrete, body, headers={"If-Match": "*"})
        msg = b.get("error", {}).get("message") if isinstance(b, dict) else None
        assert st != 405 and st < 500, (method, path, st, b)
        assert msg != "no such endpoint", (method, path)
        if method == "GET":
            assert st == 200, (method, path, st, b)


def resolve(doc, node):
    while "$ref" in node:
        cur = doc
        for part in node["$ref"][2:].split("/"):
            cur = cur[part]
        node = cur
    return node


def props(doc, node):
    node = resolve(doc, node)
    out = set(node.get("properties", {}))
    for sub in node.get("allOf", []):
        out |= props(doc, sub)
    return out


def op_schema(doc, path, method, what):
    op = doc["paths"][path][method]
    if what == "request":
        return op["requestBody"]["content"]["application/json"]["schema"]
    resp = resolve(doc, op["responses"]["200"])
    return resp["content"]["application/json"]["schema"]


def test_documented_objects_match_the_code(lab):
    """Every member an object has is documented and every documented one
    is there; a member the API lets PATCH change is documented as an
    update member, and every documented update member is known."""
    doc, _ = documented()
    h = Hub(lab)
    h.start()
    ids = resources(h, lab)
    for kind, oid in ids.items():
        path = f"/api/v1/{kind}/{{id}}"
        st, _, obj = h.api("GET", f"/api/v1/{kind}/{oid}")
        assert st == 200, obj
        members = props(doc, op_schema(doc, path, "get", "response"))
        assert set(obj) == members, (kind, set(obj) ^ members)
        if "patch" not in doc["paths"][path]:
            continue
        updatable = props(doc, op_schema(doc, path, "patch", "request"))
        for k in sorted(set(obj) | updatable):
            st, _, b = h.api("PATCH", f"/api/v1/{kind}/{oid}", {k: obj.get(k)},
                             headers={"If-Match": "*"})
            err = b.get("error", {}) if isinstance(b, dict) else {}
            if k in updatable:
                assert "unknown field" not in err.get("message", ""), (kind, k, b)
            if st == 200:
                assert k in updatable, f"{kind}: PATCH changes {k}, not documented"
            elif st == 400 and err.get("field") == k and k in updatable:
                assert "read-only" not in err["message"] and "cannot be changed" not in \
                    err["message"], (kind, k, b)
