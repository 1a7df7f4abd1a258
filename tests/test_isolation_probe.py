"""The isolation probe: every route under /api/v1/ and of every plugin blueprint, every method, called by
school A's people with school B's ids — and by A's class- and family-bound people with the ids of an A
student outside their class and family. School B's rows (and that student's) carry marker strings
(tests/probe_support.py plants them), so a leak shows in any answer, JSON or HTML.

What passes:

- a read naming a row out of reach answers 404 and holds no marker; a 403 only when the same call with a
  nonexistent id is 403 too (the refusal does not depend on the id: no existence oracle);
- a write naming a row out of reach answers exactly as for a nonexistent id, never 2xx, and changes no row
  of school B (nor of the out-of-family student);
- a GET without ids, asked ``?school_id=`` / ``?class_id=`` / ``?student_id=`` out of reach, shows no
  marker; where /api/v1/openapi.json documents that parameter it answers 404 (403 as above); elsewhere it
  answers as for a nonexistent id;
- a write without ids, naming B's ids in its query and body, answers as for nonexistent ids and writes
  nothing in B;
- A's own form that every family fills, read by class- and family-bound people, shows nothing of the
  out-of-family student's answer.

A route whose path parameter the probe cannot fill fails the test, naming the route and the parameter.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import SECRET, Template
from tests.probe_support import (
    INT_MAX,
    PARAM,
    QUERY_IDS,
    VOCAB,
    VOCAB_AT,
    Route,
    Twin,
    World,
    body_for,
    is_row,
    markers_in,
    plant,
    routes,
    table_for,
)

# Leaks the probe finds that are not fixed yet: (method, rule) → what leaks and where the fix goes. Each is an
# expected failure of test_known_leak (strict: once fixed, that test fails until the entry is removed here);
# test_no_route_reaches_across_schools_or_families passes over them and fails on any other.
KNOWN_LEAKS: dict[tuple[str, str], str] = {
}


def word(route: Route, name: str) -> Any:
    """The value of a parameter that names no row (None: unknown)."""
    return VOCAB_AT.get(route.endpoint, {}).get(name, VOCAB.get(name))


@dataclass
class Prober:
    world: World
    calls: int = 0
    twins: int = 0  # … of them with nonexistent ids
    statuses: Counter = field(default_factory=Counter)  # the answers to the others
    routes: list[Route] = field(default_factory=list)
    problems: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    unfillable: list[str] = field(default_factory=list)
    documented: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    callers: list[str] = field(default_factory=list)  # every role of school A's demo logins
    bound: set[str] = field(default_factory=set)  # … the out-of-family A student is out of reach of
    line: str = ""  # the summary

    def run(self, all_routes: list[Route]) -> None:
        world = self.world
        self.callers = [e["role"] for e in world.demo["logins"] if e["school_id"] == world.a]
        stranger = f"/api/v1/students/{world.ids_a['student_id']}"
        self.bound = {r for r in self.callers if world.user(r, 0).get(stranger).status_code != 200}
        assert {"parent", "student"} <= self.bound, self.bound
        spec = self.world.user("school_admin", 0).get("/api/v1/openapi.json").get_json()
        for path, item in spec["paths"].items():
            root = (item.get("servers") or spec.get("servers") or [{"url": ""}])[0]["url"].rstrip("/")
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    self.documented[(method.upper(), root + path)] = {
                        p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
        for route in all_routes:
            filled = self.fill(route)
            if filled is None:
                continue
            self.routes.append(route)
            before = self.world.fingerprint() if route.write else None
            if any(is_row(n, i) for n, i in route.params):
                self.with_ids(route, *filled)
            else:
                self.without_ids(route, filled[0])
            if before is not None and self.world.fingerprint() != before:
                self.flag(route, "rows of school B (or of the out-of-family A student) changed")

    # ---- filling paths ------------------------------------------------------------------------------
    def fill(self, route: Route) -> tuple[dict, dict | None] | None:
        """Path values naming B's rows, and the out-of-family A student's (None: no table holds theirs)."""
        b, a, stranger = {}, {}, False
        for name, is_int in route.params:
            if is_row(name, is_int):
                table = table_for(name, route.blueprint, set(self.world.tables))
                value = self.world.row_of_b(table) if table else None
                if value is None and route.blueprint in self.world.absent:
                    value = INT_MAX  # a plugin installed nowhere has no rows: every call must be a 404 anyway
                if value is None:
                    why = ("no table is named after it (add it to probe_support.ROW_TABLES)" if table is None else
                           f"no row of school B in {table} (plant one: probe_support.PLUGIN_SEEDS)")
                    self.unfillable.append(f"{route.method} {route.rule}: <{name}>: {why}")
                    return None
                theirs = self.world.row_of_a(table)
                b[name], a[name], stranger = value, theirs or value, stranger or theirs is not None
            else:
                value = word(route, name)
                if value is None:
                    self.unfillable.append(f"{route.method} {route.rule}: <{name}> is neither a row id nor a "
                                           "word of probe_support.VOCAB")
                    return None
                b[name] = a[name] = value
        return b, (a if stranger else None)

    def call(self, role: str, route: Route, values: dict, query: dict | None = None,
             body: dict | None = None) -> tuple[int, str]:
        user = self.world.user(role, 0)
        url = route.url(values) + (f"?{urlencode(query)}" if query else "")
        self.calls += 1
        resp = user.client.open(url, method=route.method, json=body if route.write else None,
                                headers={"X-CSRFToken": user.csrf or ""})
        try:  # a live stream (SSE) is never read to its end
            return resp.status_code, "" if resp.mimetype == "text/event-stream" else resp.get_data(as_text=True)
        finally:
            resp.close()

    def twin(self, role: str, route: Route, path: dict, query: dict | None, body: dict) -> int:
        self.twins += 1
        return self.call(role, route, path, query, body)[0]

    def flag(self, route: Route, what: str) -> None:
        self.problems[route.key].append(what)

    def check_body(self, route: Route, role: str, who: str, status: int, text: str) -> None:
        self.statuses[status] += 1
        if leaked := markers_in(text, family_too=role in self.bound):  # school-wide staff see A's student
            self.flag(route, f"{who}: {status} shows {', '.join(leaked)}")
        if status >= 500:
            self.flag(route, f"{who}: {status}")

    # ---- routes naming a row --------------------------------------------------------------------------
    def with_ids(self, route: Route, b: dict, a: dict | None) -> None:
        twin_path = {n: Twin()[n] if is_row(n, i) else b[n] for n, i in route.params}
        shared = self.shared(route)
        for role in self.callers:
            variants = [("B's ids", b, self.world.ids_b)]
            if a is not None and role in self.bound:
                variants.append(("the out-of-family A student's ids", a, self.world.ids_a))
            if shared is not None and role in self.bound:  # A's own form: no look at the student's answers
                status, text = self.call(role, route, shared)
                self.check_body(route, role, f"{role} of A with A's shared rows", status, text)
            for label, path, ids in variants:
                who = f"{role} of A with {label}"
                status, text = self.call(role, route, path, body=body_for(route, ids))
                self.check_body(route, role, who, status, text)
                if not route.write and status == 404:
                    continue
                twin = self.twin(role, route, twin_path, None, body_for(route, Twin()))
                if route.write and (status != twin or 200 <= status < 300):
                    self.flag(route, f"{who}: {status}; with a nonexistent id {twin} (expected the same, never 2xx)")
                elif not route.write and not status == twin == 403:
                    self.flag(route, f"{who}: {status} (expected 404, or 403 as with a nonexistent id: {twin})")

    def shared(self, route: Route) -> dict | None:
        """For a read, path values naming A's shared rows (a form every family fills), when there are."""
        tables = {n: table_for(n, route.blueprint, set(self.world.tables)) for n, i in route.params if is_row(n, i)}
        if route.write or not all(t in self.world.shared_a for t in tables.values()):
            return None
        return {n: self.world.shared_a[tables[n]] if n in tables else word(route, n) for n, _ in route.params}

    # ---- routes without ids: asked about B (and the out-of-family student) in the query and body -------
    def without_ids(self, route: Route, path: dict) -> None:
        documented = self.documented.get((route.method, PARAM.sub(r"{\1}", route.rule)),
                                         set())
        theirs = [(("student_id",), self.world.ids_a, "the out-of-family A student's")]
        for role in self.callers:
            if route.write:  # one call naming every id at once, in the query and the body
                asks = [(QUERY_IDS, self.world.ids_b, "B's")]
            else:
                asks = [((k,), self.world.ids_b, "B's") for k in QUERY_IDS]
            asks += theirs if role in self.bound else []
            for names, ids, label in asks:
                who = f"{role} of A with {label} {'/'.join(names)}"
                query = {n: ids[n] for n in names}
                status, text = self.call(role, route, path, query, body_for(route, ids))
                self.check_body(route, role, who, status, text)
                if status == 404 and not route.write:
                    continue
                twin = self.twin(role, route, path, {n: INT_MAX for n in names}, body_for(route, Twin()))
                if not route.write and set(names) & documented:
                    if not status == twin == 403:
                        self.flag(route, f"{who}: {status} (documented parameter: expected 404, or 403 as with "
                                         f"a nonexistent id: {twin})")
                elif status != twin:
                    self.flag(route, f"{who}: {status}; with a nonexistent id {twin} (expected the same)")

    def summary(self, backend: str, seconds: float, plugins: list[str]) -> str:
        ids = sum(1 for r in self.routes if any(is_row(n, i) for n, i in r.params))
        known = sum(1 for k in self.problems if k in KNOWN_LEAKS)
        return (f"isolation probe [{backend}]: {len(self.routes)} routes ({ids} naming rows, plugins: "
                f"{', '.join(plugins)}), {self.calls} calls as {len(self.callers)} roles of school A ({len(self.bound)} "
                f"class- or family-bound; answers {' '.join(f'{n}×{s}' for s, n in sorted(self.statuses.items()))}, "
                f"and {self.twins} calls with nonexistent ids); "
                f"{len(self.problems)} routes leak ({known} known); {len(self.unfillable)} unfillable; "
                f"{seconds:.1f}s")


def probe_app(app, demo: dict, backend: str = "", install: bool = True) -> Prober:
    """Probe every route of ``app`` (on a copy of the demo district): plants school B's marked rows, then
    calls. ``install`` False probes the plugins as the app has them installed (a plugin in one school)."""
    started = time.monotonic()
    world = World(app, demo)
    plugins = plant(world, install)
    prober = Prober(world)
    prober.run(routes(app))
    prober.line = prober.summary(backend, time.monotonic() - started, plugins)
    return prober


@pytest.fixture(scope="module")
def probe(template: Template, tmp_path_factory) -> Any:
    """One app on a private copy of the demo district; the whole probe runs once per backend."""
    from foundation import create_app

    url = template.copy()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET, "PASSWORD_HASH_FAST": True,
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("probe") / "instance"), "REDIS_URL": None,
                      "MESSAGE_SSE_POLL": 0.05})
    try:
        yield probe_app(app, template.demo, template.backend)
    finally:
        for stop in app.extensions.get("jizuo.plugin_unsubscribe", []):
            stop()
        app.extensions["jizuo.engine"].dispose()
        template.drop_copy(url)


def _report(problems: dict) -> str:
    return "\n".join(f"{m} {r}:\n    " + "\n    ".join(msgs[:8]) + (f"\n    … {len(msgs) - 8} more" if len(msgs) > 8
                                                                       else "")
                     for (m, r), msgs in sorted(problems.items()))


def test_no_route_reaches_across_schools_or_families(probe, capsys):
    with capsys.disabled():
        print("\n" + probe.line)
    assert not probe.unfillable, "routes the probe cannot fill:\n" + "\n".join(probe.unfillable)
    unexpected = {k: v for k, v in probe.problems.items() if k not in KNOWN_LEAKS}
    assert not unexpected, "leaks across schools or families:\n" + _report(unexpected)


@pytest.mark.parametrize("key", [
    pytest.param(k, marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=why), id=f"{k[0]} {k[1]}")
    for k, why in KNOWN_LEAKS.items()])
def test_known_leak(probe, key):
    """Still leaking (an expected failure); a route that is gone is an error, not an expected failure."""
    if key not in {r.key for r in probe.routes}:
        raise LookupError(f"{key} is no route the probe reaches: remove it from KNOWN_LEAKS")
    assert not probe.problems.get(key), _report({key: probe.problems[key]})
