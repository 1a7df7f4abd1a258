"""Toward Citus (docs/scale.md#citus): a distributed table's primary key and every unique constraint must
contain its distribution column. A province would distribute every school-owned table (one with a ``school_id``
column) by ``school_id``. This test reads the SQLAlchemy metadata of the core's and the plugins' models and
holds each school-owned table to that rule:

- the primary key contains ``school_id``, or it is the surrogate ``id`` alone (one integer column from a
  sequence, unique across schools): the move to Citus rewrites those mechanically to ``(school_id, id)``, with
  foreign keys between school-owned tables made composite the same way;
- every unique constraint and unique index contains ``school_id``, or is listed below: in :data:`SCOPED` when a
  column of the key already belongs to one school (adding ``school_id`` changes nothing but the DDL), in
  :data:`GLOBAL` when it is unique across schools on purpose (and what would change).

A new table or key that breaks the rule fails until it is listed with its reason; a listed key that no longer
exists fails too, so the list stays true.
"""
from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import sqlalchemy as sa

# key (table, columns in order) → the column of the key that belongs to one school
SCOPED: dict[tuple[str, tuple[str, ...]], str] = {
    ("alert_escalations", ("case_id", "epoch", "step")): "case_id",
    ("class_terms", ("class_id", "session_id")): "class_id",
    ("guardian_links", ("guardian_id", "student_id")): "student_id",
    ("memberships", ("account_id", "role", "org_unit_id")): "org_unit_id",
    ("message_deliveries", ("message_id", "account_id", "channel")): "message_id",
    ("message_inbox", ("message_id", "account_id")): "message_id",
    ("student_classes", ("student_id", "class_id")): "student_id",
    ("points_scores", ("student_id",)): "student_id",  # the primary key: one score row per student
    ("afterschool_attendance", ("session_id", "student_id")): "student_id",
    ("afterschool_busy", ("student_id", "term", "weekday", "period")): "student_id",
    ("afterschool_choices", ("window_id", "student_id", "rank")): "student_id",
    ("afterschool_choices", ("student_id", "course_id")): "student_id",
    ("afterschool_leaves", ("submission_id",)): "submission_id",
    ("afterschool_queue", ("choice_id",)): "choice_id",
    ("afterschool_ratings", ("course_id", "student_id", "rater_kind")): "student_id",
    ("afterschool_sessions", ("course_id", "day")): "course_id",
    ("learning_certificates", ("student_id", "certificate")): "student_id",
    ("learning_history", ("student_id", "code", "week")): "student_id",
    ("learning_interactions", ("student_id", "subject", "week", "kind")): "student_id",
    ("learning_mastery", ("student_id", "code")): "student_id",
    ("learning_scores", ("student_id", "subject", "test_id")): "student_id",
    ("wellbeing_responses", ("screening_id", "student_id")): "student_id",
}

# key → why it is unique across schools, and what the move to Citus would change
GLOBAL: dict[tuple[str, tuple[str, ...]], str] = {
    ("alert_cases", ("open_key",)):
        "one open case per (student, rule); the key names the student, who is in one school: becomes "
        "(school_id, open_key), the same guarantee",
    ("audit_log", ("seq",)):
        "the hash chain is one sequence for the district: the audit log stays a local table on the coordinator "
        "(append-only, written in bulk), or becomes one chain per school with (school_id, seq)",
    ("changes", ("seq",)):
        "the primary key: the change feed's one order, consumers resume from a seq; stays on the coordinator, "
        "or one feed per school with (school_id, seq) and a cursor per school",
    ("external_ids", ("system", "entity", "external_id")):
        "another system's id maps to one local row district-wide (it follows a transfer): becomes "
        "(school_id, system, entity, external_id) plus a small lookup external id → school on the coordinator",
    ("fed_binding_codes", ("code_hash",)):
        "a parent types the code without naming the school; few rows, short-lived: a local table on the "
        "coordinator",
    ("messages", ("dedupe_key",)):
        "a send is idempotent district-wide; every sender knows the school (district notices: a district "
        "pseudo-school): becomes (school_id, dedupe_key)",
    ("oidc_clients", ("client_id",)):
        "apps are registered for the district and a token request names only client_id: a reference table",
    ("org_units", ("code",)):
        "the org tree is small (≈ 6,000 units per 100 schools) and read on every request: a reference table",
    ("records", ("library", "source", "source_id")):
        "ingest's idempotency key is the source system's id; every source row names its school, so it becomes "
        "(school_id, library, source, source_id) (partitioned by month it also needs the month on PostgreSQL)",
}


def _metadata() -> list[sa.MetaData]:
    """The core's models and every plugin's (the first-party ones and any the host discovers)."""
    import foundation.models  # noqa: F401
    from foundation.db import Base
    from foundation.plugin_models import PluginBase
    from foundation.pluginhost import discover

    modules = {f"plugins.{p.name}" for p in (Path(__file__).parents[1] / "plugins").iterdir()
               if (p / "models.py").is_file()}
    modules |= {type(loaded.obj).__module__.split(".")[0] for loaded in discover().loaded.values()}
    for name in sorted(modules):
        if importlib.util.find_spec(f"{name}.models") is not None:
            importlib.import_module(f"{name}.models")
    return [Base.metadata, PluginBase.metadata]


def _school_tables() -> list[sa.Table]:
    tables = [t for meta in _metadata() for t in meta.tables.values() if "school_id" in t.c]
    return sorted(tables, key=lambda t: t.name)


def _keys(table: sa.Table) -> list[tuple[str, tuple[str, ...]]]:
    """The table's primary key (unless it is the surrogate id) and its unique constraints and indexes."""
    pk = tuple(c.name for c in table.primary_key.columns)
    keys = [] if _surrogate(table) else [pk]
    keys += [tuple(c.name for c in u.columns) for u in table.constraints if isinstance(u, sa.UniqueConstraint)]
    keys += [tuple(c.name for c in i.columns) for i in table.indexes if i.unique]
    return [(table.name, k) for k in keys]


def _surrogate(table: sa.Table) -> bool:
    cols = list(table.primary_key.columns)
    return len(cols) == 1 and cols[0].name == "id" and isinstance(cols[0].type, sa.Integer)


def test_the_metadata_holds_the_platform_s_school_tables():
    names = {t.name for t in _school_tables()}
    # the core's and at least one table of each first-party plugin with models: the check sees them all
    assert {"students", "records", "audit_log", "message_inbox"} <= names
    for prefix in ("points_", "learning_", "afterschool_", "aid_", "wellbeing_"):
        assert any(n.startswith(prefix) for n in names), prefix


def test_every_school_owned_key_carries_school_id_or_is_listed():
    broken, listed = [], set(SCOPED) | set(GLOBAL)
    for table in _school_tables():
        for key in _keys(table):
            if "school_id" not in key[1] and key not in listed:
                broken.append(f"{key[0]} {key[1]}")
    assert not broken, (
        "school-owned keys without school_id (Citus needs the distribution column in every primary and unique "
        "key): add school_id to the key, or list it in SCOPED or GLOBAL of tests/test_citus_keys.py with why:\n  "
        + "\n  ".join(broken))


def test_the_listed_exceptions_are_still_true():
    present = {key for table in _school_tables() for key in _keys(table)}
    stale = sorted(set(SCOPED) | set(GLOBAL), key=str)
    stale = [f"{t} {cols}" for t, cols in stale if (t, cols) not in present]
    assert not stale, "listed keys that no longer exist (drop them from tests/test_citus_keys.py):\n  " + \
        "\n  ".join(stale)
    assert not set(SCOPED) & set(GLOBAL)


def test_a_scoped_key_holds_the_column_that_fixes_its_school():
    wrong = [f"{key}: {col}" for key, col in SCOPED.items() if col not in key[1]]
    assert not wrong, wrong
