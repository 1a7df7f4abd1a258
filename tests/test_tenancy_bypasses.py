"""The census of places that cross schools. ``unscoped(reason)`` is the one bypass of school scoping; this
test finds every call in the product's code, prints them with their reasons, and fails when one appears
outside the allow-list below, when a reason is missing, or when an old spelling comes back. Raw
connections (which no session listener sees) are counted the same way. Plugins have no bypass at all."""
from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).parents[1]
PRODUCT = ("foundation", "admin", "plugins")

# file → how many unscoped(...) calls it may hold. A new one is a decision: add it here, with its reason in code.
ALLOWED = {
    "foundation/alerts/engine.py": 1,  # the engine acts for the case's school, whoever raised it
    "foundation/alerts/figures.py": 1,  # figures of the schools the caller was checked for
    "foundation/alerts/schedule.py": 1,  # the scheduled pass
    "foundation/alerts/rules.py": 1,  # a rule's scan or evaluation runs for one school
    "foundation/api/alerts_school.py": 1,  # the district's side-by-side figures
    "foundation/auth.py": 2,  # a principal's own grants; a district admin entering a school
    "foundation/cli/common.py": 1,  # the jizuo command acts for the district
    "foundation/cockpit/cache.py": 1,  # the cockpits' cache: read whole by the pipeline that suppresses it
    "foundation/cockpit/forecast.py": 1,  # planning figures by school (no person), for schools the caller was checked for
    "foundation/demo/generator.py": 1,  # jizuo demo writes a whole district
    "foundation/federation/linking.py": 1,  # an anonymous visitor matched by a verified claim or code
    "foundation/federation/routes.py": 1,  # signing in: the account's roles in every school
    "foundation/ingest/base.py": 1,  # ingest resolves keys in the schools it checked
    "foundation/ingest/service.py": 1,
    "foundation/jobs.py": 2,  # the job runner's own bookkeeping; a plugin's job runs for one school
    "foundation/lowcode/lineage.py": 1,  # a form's lineage through another school's form
    "foundation/lowcode/flow_deadlines.py": 1,  # the scheduled sweep of flow deadlines, school by school
    "foundation/lowcode/subjects.py": 1,  # bound fields looked up in the form's school, then held to the reach
    "foundation/lowcode/writes.py": 1,  # an app's record, in its submission's school (named in each query)
    "foundation/messaging/figures.py": 1,  # names of the schools and classes of figures
    "foundation/messaging/queue.py": 1,  # the delivery worker
    "foundation/messaging/stream.py": 1,  # one account's own inbox, live
    "foundation/oidc/server.py": 1,  # the provider: accounts and their roles, for tokens
    "foundation/plugin_runtime.py": 2,  # the plugin registry (installs); event delivery for one school
    "foundation/services/org.py": 2,  # district-wide unit codes; creating a school
    "foundation/services/people.py": 1,  # student numbers are unique in the whole school
    "foundation/services/square.py": 1,  # the app square counts reuse in every school
}
# raw connections bypass the session (and its listener): only where the platform needs the driver itself
RAW_ALLOWED = {
    "foundation/backup.py": 1,  # jizuo backup / restore read and write every school's rows (one helper, _connected)
    "foundation/demo/generator.py": 1,  # bulk writes of a fresh demo district
    "foundation/ingest/service.py": 2,  # COPY into records on PostgreSQL
    # the bulk path on PostgreSQL: COPY into a staging table, one set-wise check/store; event payloads read back
    "foundation/ingest/bulk.py": 2,
    "foundation/ingest/partitions.py": 1,  # DDL: records' monthly partitions, in a transaction of its own
    "foundation/messaging/queue.py": 4,  # the delivery queue claims rows with its own short transactions
    "foundation/migrate.py": 1,  # Alembic
    "foundation/models/audit.py": 1,  # the audit chain's head, locked and moved at each audited commit
    "foundation/audit.py": 1,  # a request's audit rows, one INSERT with the chain's head, at its commit
    "foundation/health.py": 1,  # SELECT 1
    # bulk_insert (after the scope check), and the platform's own set-wise writes (write_rows, insert_ids,
    # update_rows: COPY, ids from the sequence, a temporary table) on PostgreSQL, through one helper
    "foundation/plugin_models.py": 1,
}
OLD_SPELLINGS = ("jizuo_all_schools", "ALL_SCHOOLS", "mark_system", "system_session", "district_operation",
                 '"jizuo_system"', "jizuo_unscoped")


def _sources():
    for top in PRODUCT:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel:
                continue
            yield rel, path.read_text("utf-8")


def _calls(tree: ast.AST, name: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            if (isinstance(fn, ast.Name) and fn.id == name) or (isinstance(fn, ast.Attribute) and fn.attr == name):
                yield node


def _raw_connections(tree: ast.AST) -> int:
    """``sess.connection()``, ``engine.connect()`` and ``engine.begin()``."""
    n = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args:
            attr, owner = node.func.attr, node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if attr == "connection" or (attr in ("connect", "begin") and "engine" in owner_name.lower()):
                n += 1
            elif attr in ("connect", "begin") and isinstance(owner, ast.Call) and \
                    getattr(owner.func, "attr", getattr(owner.func, "id", "")) == "engine":
                n += 1
    return n


def test_every_bypass_is_named_with_its_reason_and_allowed(capsys):
    found: list[tuple[str, int, str]] = []
    per_file: Counter[str] = Counter()
    raw: Counter[str] = Counter()
    problems: list[str] = []
    for rel, text in _sources():
        if rel != "foundation/tenancy.py":
            for spelling in OLD_SPELLINGS:
                if spelling in text:
                    problems.append(f"{rel}: {spelling!r} is not a bypass any more: use unscoped(reason)")
        tree = ast.parse(text)
        if rel != "foundation/tenancy.py":
            for call in _calls(tree, "unscoped"):
                arg = call.args[0] if call.args else None
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str) and len(arg.value) >= 10):
                    problems.append(f"{rel}:{call.lineno}: unscoped() without a written reason")
                    continue
                found.append((rel, call.lineno, arg.value))
                per_file[rel] += 1
        raw[rel] = _raw_connections(tree)
    for rel, n in per_file.items():
        if n > ALLOWED.get(rel, 0):
            problems.append(f"{rel}: {n} unscoped() calls, {ALLOWED.get(rel, 0)} allowed")
    for rel, n in raw.items():
        if n > RAW_ALLOWED.get(rel, 0):
            problems.append(f"{rel}: {n} raw connections, {RAW_ALLOWED.get(rel, 0)} allowed")
    for rel in set(ALLOWED) - set(per_file):
        problems.append(f"{rel}: allowed a bypass it no longer has: take it off the list")
    with capsys.disabled():
        print(f"\nschool-scoping bypasses: {len(found)} unscoped() in {len(per_file)} files, "
              f"{sum(raw.values())} raw connections")
        for rel, line, reason in found:
            print(f"  {rel}:{line}: {reason}")
    assert not problems, "\n".join(problems)


def test_plugins_reach_the_core_only_through_the_plugin_api():
    """``plugins/`` imports ``foundation.plugin_api`` and nothing else of the core (nor admin/)."""
    bad = []
    for rel, text in _sources():
        if not rel.startswith("plugins/"):
            continue
        for node in ast.walk(ast.parse(text)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                if (name.startswith("foundation") and name != "foundation.plugin_api") or name.startswith("admin"):
                    if not (isinstance(node, ast.ImportFrom) and name == "foundation"
                            and all(a.name == "plugin_api" for a in node.names)):
                        bad.append(f"{rel}:{node.lineno}: imports {name}")
    assert not bad, "\n".join(bad)
