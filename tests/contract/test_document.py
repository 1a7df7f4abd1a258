"""What /api/v1/openapi.json promises, read without a fuzzer: both ways to call (session + CSRF header, or a
bearer token), /me, a request body on every write that takes one, the error statuses every operation can
answer, and audit times with their zone."""
from __future__ import annotations

import re

# writes that may take no body: a DELETE, an action on one thing (POST …/{id}/publish), and these two
ACTIONS_ON_ALL = {"/messages/inbox/read-all", "/messages/dead-letters/replay"}


def takes_no_body(method: str, path: str) -> bool:
    return method == "delete" or path in ACTIONS_ON_ALL or (
        method == "post" and path.split("/")[-2].startswith("{") and not path.endswith("}"))


def test_the_document_names_both_ways_in_and_every_body_and_error(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"] == schemes["bearer"] | {"type": "http", "scheme": "bearer"}
    assert schemes["session"]["in"] == "cookie" and schemes["csrf"]["name"] == "X-CSRFToken"
    me = spec["paths"]["/me"]["get"]
    assert me["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/MeOut"}
    assert {"csrf_token", "capabilities", "roles"} <= set(spec["components"]["schemas"]["MeOut"]["properties"])
    missing_body, missing_errors = [], []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete") or path == "/openapi.json":
                continue
            assert {"session": []} in op["security"] or {"session": [], "csrf": []} in op["security"], path
            assert {"bearer": []} in op["security"], (method, path)
            codes = set(op["responses"])
            wanted = {"401", "422"} | ({"400", "413"} if method != "get" else set())
            if "{" in path:
                wanted.add("404")
            if not wanted <= codes:
                missing_errors.append((method, path, sorted(wanted - codes)))
            if method != "get" and "requestBody" not in op and not takes_no_body(method, path) \
                    and not path.startswith("/hello/"):  # the test plugin's own API, documented by docstring
                missing_body.append((method, path))
    assert not missing_body, missing_body
    assert not missing_errors, missing_errors
    # the writes that check a capability say they can answer 403 (they did not, about 30 of them)
    forbidding = [(m, p) for p, item in spec["paths"].items() for m, op in item.items()
                  if m in ("post", "put", "patch", "delete") and "403" not in op["responses"]]
    assert not forbidding, forbidding


def test_audit_times_carry_their_zone(users):
    admin = users("school_admin", 0)
    admin.get("/api/v1/students?per_page=1")  # something to be audited
    items = admin.get("/api/v1/audit").get_json()["items"]
    assert items and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", e["at"]) for e in items), items[:2]


def test_the_fuzzers_time_check_tells_a_time_without_its_zone():
    from tests.contract.hooks import naive_times

    body = {"items": [{"at": "2026-03-01T08:00:00.5", "ok": "2026-03-01T08:00:00Z"}],
            "sent": "Sun, 01 Mar 2026 08:00:00 GMT", "day": "2026-03-01", "offset": "2026-03-01T16:00:00+08:00"}
    assert naive_times(body) == ["/items/0/at = '2026-03-01T08:00:00.5'", "/sent = 'Sun, 01 Mar 2026 08:00:00 GMT'"]
