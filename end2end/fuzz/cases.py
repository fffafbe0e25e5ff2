"""Hand-made bad inputs for a running Escalator (issue 16): NUL and control characters,
ids beyond 64 bits, unknown and misspelt fields, over-long paths and bodies, repeated
query parameters, wrong methods and routes. Every answer must be a 4xx with the JSON
error body (naming the field where there is one), never a 5xx or a dropped connection,
and a refused request must change nothing.

    python3 cases.py http://127.0.0.1:3000 TOKEN
"""

import json
import sys
import urllib.error
import urllib.request

BASE, TOKEN = sys.argv[1].rstrip("/"), sys.argv[2]
API = BASE + "/api/v1"
failures = []
checked = 0


def call(method, path, body=None, raw=None, token=TOKEN, content_type="application/json"):
    """Sends one request; (status, parsed JSON or None, headers)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(API + path if path.startswith("/") else path, data=data, method=method)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text, headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, text, headers = error.code, error.read(), error.headers
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return status, parsed, headers


def expect(name, response, status, field=None, code=None):
    """Checks a refusal: the status, a JSON error body, its field and code."""
    global checked
    checked += 1
    got, body, _ = response
    error = (body or {}).get("error") if isinstance(body, dict) else None
    problems = []
    if got != status:
        problems.append(f"status {got}, expected {status}")
    if not error or not error.get("message"):
        problems.append(f"no JSON error body: {body!r}")
    elif field is not None and error.get("field") != field:
        problems.append(f"field {error.get('field')!r}, expected {field!r}")
    elif code is not None and error.get("code") != code:
        problems.append(f"code {error.get('code')!r}, expected {code!r}")
    if problems:
        failures.append(f"{name}: " + "; ".join(problems))


def snapshot():
    """What the refused requests must not change."""
    lists = {}
    for path in ["/workflows?limit=500", "/sla-policies", "/calendars", "/users", "/departments",
                 "/escalation-chains", "/webhooks", "/audit-log?limit=500"]:
        status, body, _ = call("GET", path)
        assert status == 200, (path, status, body)
        if path.startswith("/workflows"):
            # A workflow's `sla` is its clock read now (elapsed, remaining tick every
            # second); what a request could change is the stored row, whose `version` and
            # `updated_at` move with every write.
            for item in body["items"]:
                item.pop("sla", None)
        lists[path] = body
    return lists


def main():
    before = snapshot()
    status, workflows, _ = call("GET", "/workflows?limit=1")
    wid = workflows["items"][0]["id"]
    policy = before["/sla-policies"][0]["id"]
    chain = before["/escalation-chains"][0]["id"]
    good = {"external_id": "FUZZ-1", "workflow_type": "purchase", "title": "Chair", "stage": "Approval",
            "department": "finance", "initiator": "ivan@acme.example", "assignee": "alice@acme.example",
            "policy_id": policy, "chain_id": chain}

    # NUL and other control characters, in bodies, queries and paths: 422 naming the field.
    for field in ["title", "external_id", "stage", "workflow_type"]:
        for bad in ["a\u0000b", "\u0007", "x\u001b[31m", "\u0085"]:
            expect(f"POST /workflows {field}={bad!r}", call("POST", "/workflows", {**good, field: bad}), 422, field)
    expect("PUT /departments name NUL", call("PUT", "/departments/finance", {"name": "Fi\u0000nance"}), 422, "name")
    expect("hold reason NUL", call("POST", f"/workflows/{wid}/hold", {"reason": "\u0000"}), 422, "reason")
    expect("audit filter NUL", call("GET", "/audit-log?action=es%00calate"), 422, "action")
    expect("workflow filter NUL", call("GET", "/workflows?department=fi%00nance"), 422, "department")
    expect("path NUL", call("GET", "/departments/fin%00ance"), 422, "path")
    expect("path NUL in e-mail", call("GET", "/users/a%00b@acme.example"), 422, "path")
    expect("nested NUL", call("PUT", "/users/alice@acme.example/preferences", {"time_zone": "Europe/\u0000Berlin"}),
           422, "time_zone")

    # Numbers: ids beyond 64 bits are malformed paths, the largest ids are nobody's.
    expect("largest notification id", call("POST", "/notifications/9223372036854775807/read"), 404)
    expect("id beyond i64", call("POST", "/workflows/9223372036854775808/complete", {}), 400, "path")
    expect("negative id", call("GET", "/workflows/-1"), 404)
    expect("id beyond i64 in query", call("GET", "/workflows?before_id=99999999999999999999"), 400, "before_id")
    expect("limit 0", call("GET", "/workflows?limit=0"), 422, "limit")
    expect("limit 501", call("GET", "/audit-log?limit=501"), 422, "limit")
    expect("target beyond a year", call("POST", "/sla-policies", {"name": "x", "target_seconds": 2 ** 62,
           "warning": {"kind": "before_deadline", "seconds": 1}}), 422, "target_seconds")
    expect("percent beyond u8", call("POST", "/sla-policies", {"name": "x", "target_seconds": 60,
           "warning": {"kind": "elapsed_percent", "percent": 300}}), 400, "warning")
    expect("time limit beyond i64", call("POST", "/escalation-chains", raw=b'{"name": "x", "levels": [{"target": '
           b'{"kind": "department_head"}, "time_limit_seconds": 99999999999999999999}]}'), 400)

    # Unknown and misspelt fields: refused, naming them; nothing is created.
    expect("startedAt", call("POST", "/workflows", {**good, "startedAt": "2026-01-01T00:00:00Z"}), 400, "startedAt")
    expect("calendarId", call("POST", "/sla-policies", {"name": "24/7?", "target_seconds": 3600, "calendarId": 1,
           "warning": {"kind": "before_deadline", "seconds": 60}}), 400, "calendarId")
    expect("holiday", call("POST", "/calendars", {"name": "Berlin", "time_zone": "Europe/Berlin",
           "windows": {"monday": [{"start": "09:00", "end": "17:00"}]}, "holiday": []}), 400, "holiday")
    expect("departmnet", call("PUT", "/users/nobody@acme.example", {"name": "N", "role": "viewer",
           "departmnet": "finance"}), 400, "departmnet")
    expect("nested unknown", call("POST", "/escalation-chains", {"name": "x", "levels": [
           {"target": {"kind": "department_head", "email": "a@b.c"}, "time_limit_seconds": 60}]}), 400)
    expect("unknown weekday", call("POST", "/calendars", {"name": "x", "time_zone": "UTC",
           "windows": {"mondy": []}}), 400)
    expect("unknown query parameter", call("GET", "/workflows?limt=5"), 400, "limt")
    expect("repeated query parameter", call("GET", "/workflows?limit=1&limit=2"), 400, "limit")

    # Bodies and targets too large, wrong types, wrong media type, no body.
    expect("body over 2 MB", call("POST", "/workflows", raw=b" " * 3_000_000), 413, code="payload_too_large")
    expect("path over 8 KiB", call("GET", "/departments/" + "a" * 9000), 414, code="uri_too_long")
    expect("query over 8 KiB", call("GET", "/workflows?department=" + "a" * 9000), 414, code="uri_too_long")
    expect("deep nesting", call("POST", "/workflows", raw=b"[" * 10000 + b"]" * 10000), 400)
    expect("not JSON", call("POST", "/workflows", raw=b"{\"title\": "), 400)
    expect("wrong type", call("POST", "/workflows", {**good, "policy_id": "one"}), 400, "policy_id")
    expect("form body", call("POST", "/workflows", raw=b"a=b", content_type="application/x-www-form-urlencoded"),
           415)
    expect("no body", call("PUT", "/users/alice@acme.example/preferences"), 400)

    # Routes and methods that do not exist, and tokens that are not.
    expect("unknown route", call("GET", "/nowhere"), 404, code="not_found")
    status, body, headers = call("DELETE", "/workflows")
    expect("wrong method", (status, body, headers), 405, code="method_not_allowed")
    if status == 405 and not headers.get("Allow"):
        failures.append("405 without an Allow header")
    expect("garbage token", call("GET", "/workflows", token="esc_garbage"), 401)
    expect("no token", call("GET", "/workflows", token=None), 401)
    expect("webhook to a host not allowed", call("POST", "/webhooks", {"url": "http://169.254.169.254/latest"}),
           422, "url")

    after = snapshot()
    # The refused requests above touched nothing (the audit log included).
    for path in before:
        if before[path] != after[path]:
            failures.append(f"{path} changed although every request was refused")

    print(f"hand-made cases: {checked} requests checked, {len(failures)} failures")
    for failure in failures:
        print("  FAIL", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
