"""Import a OneRoster CSV bundle (1.1 or 1.2) into the org tree and the people tables.

Two phases: :mod:`plan` / :mod:`plan_people` check every row and resolve every reference without
writing; :mod:`apply_orgs` / :mod:`apply_people` then write. So ``atomic=True`` writes nothing when
any row is bad, and otherwise bad rows are reported (file, line, column, reason) and good ones kept.
Nothing is committed here: the caller commits (the CLI once, at its end).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy.orm as so
from flask import current_app, has_app_context

from foundation.oneroster.apply_accounts import apply_accounts
from foundation.oneroster.apply_orgs import apply_classes, apply_departments, apply_schools
from foundation.oneroster.apply_people import apply_people
from foundation.oneroster.apply_teaching import apply_class_details, apply_courses, apply_sessions
from foundation.oneroster.context import Context
from foundation.oneroster.csvio import BUNDLE, BundleError, Source, Table, open_bundle, read_table
from foundation.oneroster.plan import Plan, plan_orgs, school_key
from foundation.oneroster.plan_people import (
    check_existing,
    plan_demographics,
    plan_enrollments,
    plan_links,
    plan_users,
)
from foundation.oneroster.plan_school import plan_classes, plan_courses, plan_sessions
from foundation.oneroster.report import ImportReport
from foundation.oneroster.spec import DATA_FILES, REQUIRED_COLUMNS
from foundation.tenancy import is_unscoped

Progress = Callable[[str, int, int], None]
MODES = ("bulk", "delta", "absent")


def import_bundle(session: so.Session, source: Source | Path, *, school_code: str | None = None,
                  progress: Progress | None = None, atomic: bool = False,
                  secret_key: str | None = None) -> ImportReport:
    """Import ``source`` (a zip path, zip bytes, a binary file object, or a folder of CSV files).

    ``school_code``: import into that one school (bundle schools are mapped onto it; other schools of
    the bundle are skipped). ``secret_key`` encrypts guardians' phones (default: the app's SECRET_KEY;
    without either, phones are not stored). The session must be a system session: the import acts for
    the district. Flushes, never commits."""
    if not is_unscoped(session):
        raise ValueError("import_bundle needs a session that acts for the district (foundation.tenancy.unscoped(reason).mark)")
    report = ImportReport(atomic=atomic)
    try:
        files = open_bundle(source)
    except BundleError as err:
        report.error(BUNDLE, None, None, str(err))
        report.applied = False
        return report
    tables = _read(report, files)
    if secret_key is None and has_app_context():
        secret_key = current_app.config.get("SECRET_KEY")
    ctx = Context(session, report, school_code=school_code, secret_key=secret_key)
    plan = Plan(tables)
    modes = report.modes
    if not plan_orgs(ctx, plan, tables.get("orgs.csv") or Table("orgs.csv", "", 1), modes.get("orgs.csv", "")):
        report.applied = False
        _sort(report)
        return report
    for name, step in (("academicSessions.csv", plan_sessions), ("courses.csv", plan_courses),
                       ("classes.csv", plan_classes)):
        if name in tables:
            step(ctx, plan, tables[name], modes.get(name, ""))
    users = tables.get("users.csv")
    if users is not None:
        plan_users(ctx, plan, users, tables.get("roles.csv"), modes)
        if "demographics.csv" in tables:
            plan_demographics(ctx, plan, tables["demographics.csv"], modes.get("demographics.csv", ""))
    if "enrollments.csv" in tables:
        plan_enrollments(ctx, plan, tables["enrollments.csv"], modes.get("enrollments.csv", ""))
    check_existing(ctx, plan, users or Table("users.csv", "", 1))
    if users is not None:
        plan_links(ctx, plan, users)
    if atomic and report.errors:
        report.applied = False
        _sort(report)
        return report
    _apply(ctx, plan, progress)
    _sort(report)
    return report


def _sort(report: ImportReport) -> None:
    """Problems in file order (manifest, then the data files in the order they are read), then by line."""
    order = {name: i for i, name in enumerate((BUNDLE, "manifest.csv", *DATA_FILES))}
    for issues in (report.errors, report.warnings):
        issues.sort(key=lambda i: (order.get(i.file, len(order)), i.line or 0))


def _apply(ctx: Context, plan: Plan, progress: Progress | None) -> None:
    keys = set(plan.alias.values()) | {c.school for c in plan.classes.values()} | {
        c.school for c in plan.courses.values()} | {school_key(ctx, plan, d) for d in plan.departments}
    ctx.load_units({k for k in keys if isinstance(k, int)} | ({ctx.target.id} if ctx.target is not None else set()))
    apply_schools(ctx, plan)
    apply_departments(ctx, plan)
    if progress:
        n = len(plan.schools) + len(plan.departments)
        progress("orgs.csv", n, n)
    apply_sessions(ctx, plan)
    apply_courses(ctx, plan)
    apply_classes(ctx, plan, progress)
    apply_class_details(ctx, plan)
    apply_people(ctx, plan, progress)
    ctx.sess.flush()
    apply_accounts(ctx, plan)
    ctx.sess.flush()
    if progress and "enrollments.csv" in plan.tables:
        n = len(plan.tables["enrollments.csv"].rows)
        progress("enrollments.csv", n, n)


def _read(report: ImportReport, files: dict[str, tuple[str, bytes]]) -> dict[str, Table]:
    """The data files to read, as the manifest lists them; each decoded and parsed."""
    props: dict[str, tuple[str, int]] = {}
    if "manifest.csv" in files:
        manifest = read_table(report, "manifest.csv", files["manifest.csv"][1])
        for row in manifest.rows if manifest else []:
            props[row.get("propertyName").lower()] = (row.get("value"), row.line)
            if row.get("propertyName").lower().startswith("file.") and not row.get("value"):
                report.warn("manifest.csv", row.line, manifest.col("value"),
                            f"{row.get('propertyName')} has no value (expected bulk, delta or absent)")
    else:
        report.warn(BUNDLE, None, None, "no manifest.csv: every data file present is read as bulk")
    version, _ = props.get("oneroster.version", ("", 0))
    if version and version not in ("1.0", "1.1", "1.2"):
        report.warn("manifest.csv", props["oneroster.version"][1], "value", f"unknown OneRoster version {version!r}")
    tables: dict[str, Table] = {}
    for name in DATA_FILES:
        mode, line = props.get(f"file.{name[:-4].lower()}", ("", 0))
        mode, present = mode.lower(), name.lower() in files
        if mode == "absent":
            if present:
                report.warn("manifest.csv", line, "value", f"{name} is listed as absent; the file is ignored")
            continue
        if mode in ("bulk", "delta") and not present:
            report.error("manifest.csv", line, "value", f"{name} is listed as {mode} but is not in the bundle")
            continue
        if not present:
            continue
        if mode and mode not in MODES:
            report.warn("manifest.csv", line, "value", f"unknown mode {mode!r} for {name}; read as bulk")
        elif props and not line:
            report.warn("manifest.csv", None, None, f"{name} is not listed in the manifest; read as bulk")
        report.modes[name] = mode if mode in ("bulk", "delta") else "bulk"
        table = read_table(report, name, files[name.lower()][1])
        if table is None:
            continue
        missing = [c for c in REQUIRED_COLUMNS[name] if not table.has(c)]
        for col in missing:
            report.error(name, table.header_line, col, "required column is missing; the file is not imported")
        if not missing:
            tables[name] = table
    read = {n.lower() for n in DATA_FILES} | {"manifest.csv"}
    report.ignored_files = sorted(path for key, (path, _) in files.items() if key not in read)
    users = tables.get("users.csv")
    names_10 = any(i.message.startswith("OneRoster 1.0 column name") for i in report.warnings)
    report.version = version or ("1.0" if names_10 else "1.1" if users is not None and users.has("role")
                                 and "roles.csv" not in tables else "1.2")
    return tables
