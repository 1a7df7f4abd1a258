"""Writing the audit log. Sensitive reads and every change call :func:`record`.

In a request the entries are collected on the request's database session and written at its commit, all of
them in one multi-row ``INSERT`` that also moves the hash chain's head (foundation/models/audit.py keeps the
chain: the head is locked, each row gets its place and hash, the head takes the last hash). A change's entry
is written only if the change commits; a read's entry is written whatever the answer: when the request
fails (an error answer, an exception, a savepoint rolled back), its reads are written in a transaction of
their own at the request's end (:func:`init_app`). A read is an entry of a GET/HEAD request, or one whose
action ends in ``.read``, ``.list``, ``.search``, ``.reveal``, ``.figures``, ``.export`` or ``.userinfo``.
Outside a request (CLI, jobs) an entry joins the session as an :class:`AuditEntry` and is chained at commit.
"""
from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app, g, has_app_context, has_request_context, request

from foundation import db
from foundation.models.audit import GENESIS, AuditChain, AuditEntry, row_hash

if TYPE_CHECKING:
    from foundation.models import Account

log = logging.getLogger("jizuo.audit")
_PENDING = "jizuo_audit_pending"  # session.info: this transaction's entries (dicts), in the order they came
_READS = "jizuo_audit_reads"  # session.info: reads of rolled-back work, still to be written
_MARKS = "jizuo_audit_marks"  # session.info: savepoint -> how many entries were pending when it began
READ_ENDINGS = ("read", "list", "search", "reveal", "figures", "export", "userinfo")
SAFE = ("GET", "HEAD", "OPTIONS")


def record(
    action: str,
    resource_type: str | None = None,
    resource_id: Any = None,
    *,
    school_id: int | None = None,
    detail: dict[str, Any] | None = None,
    account: Account | None = None,
) -> AuditEntry | None:
    """Audit one read or change. Outside a request, returns the session's new :class:`AuditEntry`."""
    in_request = has_request_context()
    principal = g.get("principal") if in_request else None
    rid = None if resource_id is None else str(resource_id)
    if rid is not None and len(rid) > 64:  # the column's width: a long id (from a URL) is kept whole in detail
        detail, rid = {**(detail or {}), "resource_id": rid}, rid[:63] + "…"
    values = {
        "at": db.utcnow(),
        "account_id": account.id if account else (principal.account_id if principal else None),
        "username": account.username if account else (principal.username if principal else None),
        "action": action,
        "resource_type": resource_type,
        "resource_id": rid,
        "school_id": school_id,
        "endpoint": f"{request.method} {request.path}"[:200] if in_request else "cli",
        "ip": ((request.remote_addr or "")[:64] or None) if in_request else None,
        "detail": detail,
    }
    sess = db.session()
    if not in_request:
        entry = AuditEntry(**values)
        sess.add(entry)
        return entry
    values["read"] = request.method in SAFE or action.rsplit(".", 1)[-1] in READ_ENDINGS
    sess.info.setdefault(_PENDING, []).append(values)
    return None


# ---- writing at the request boundary ---------------------------------------------------------------------
_COLUMNS = ("at", "account_id", "username", "action", "resource_type", "resource_id", "school_id", "endpoint",
            "ip", "detail")


def _split_canonical(entry: dict[str, Any]) -> tuple[str, str, str]:
    """The row's canonical JSON (as :func:`foundation.models.audit.row_hash` hashes it) cut around the two
    values only the database knows at append time: ``a + prev + b + str(seq) + c``."""
    prev, seq = secrets.token_hex(16), secrets.token_hex(16)
    doc = {c: entry[c] for c in _COLUMNS} | {"seq": seq, "prev": prev}
    doc["at"] = doc["at"].isoformat(timespec="microseconds")
    if doc["detail"] is not None:
        doc["detail"] = json.loads(json.dumps(doc["detail"]))
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    a, rest = text.split(prev)
    b, c = rest.split(f'"{seq}"')
    return a, b, c


_ARRAYS = (("a", sa.Text), ("b", sa.Text), ("c", sa.Text), ("at", sa.DateTime), ("account_id", sa.Integer),
           ("username", sa.Text), ("action", sa.Text), ("resource_type", sa.Text), ("resource_id", sa.Text),
           ("school_id", sa.Integer), ("endpoint", sa.Text), ("ip", sa.Text), ("detail", sa.Text))


def _append_pg(conn: sa.Connection, entries: list[dict[str, Any]]) -> None:
    """One round trip: ``jizuo_audit_append`` (migration 0023) locks the head, hashes and inserts the rows."""
    from sqlalchemy.dialects.postgresql import ARRAY

    cols: dict[str, list] = {name: [] for name, _ in _ARRAYS}
    for e in entries:
        for name, part in zip("abc", _split_canonical(e), strict=True):
            cols[name].append(part)
        for name in _COLUMNS:
            cols[name].append(json.dumps(e[name]) if name == "detail" and e[name] is not None else e[name])
    args = [sa.cast(sa.literal(cols[name], ARRAY(kind)), ARRAY(kind)) for name, kind in _ARRAYS]
    relaxed = bool(has_app_context() and current_app.config.get("AUDIT_ASYNC_READ_COMMIT")
                   and all(e.get("read") for e in entries))
    conn.execute(sa.select(sa.func.jizuo_audit_append(*args, sa.literal(relaxed, sa.Boolean))))


def append(conn: sa.Connection, entries: list[dict[str, Any]]) -> None:
    """Append ``entries`` to the chain through ``conn``. PostgreSQL: one statement (a function locks the head,
    hashes the rows, inserts them and moves the head). SQLite: the head locked and moved (``UPDATE …
    RETURNING``), the rows hashed here, one multi-row ``INSERT`` and the head's new hash."""
    if conn.dialect.name == "postgresql":
        _append_pg(conn, entries)
        return
    head_t, log_t = AuditChain.__table__, AuditEntry.__table__
    n = len(entries)
    head = conn.execute(sa.update(head_t).where(head_t.c.id == 1).values(seq=head_t.c.seq + n)
                        .returning(head_t.c.seq, head_t.c.hash)).first()
    if head is None:  # a schema made without the migrations: start the chain
        conn.execute(sa.insert(head_t).values(id=1, seq=n, hash=GENESIS))
        head = (n, GENESIS)
    seq, prev = head[0] - n, head[1]
    rows = []
    for e in entries:
        seq += 1
        row = {c: e[c] for c in _COLUMNS} | {"seq": seq, "prev_hash": prev}
        row["hash"] = prev = row_hash(SimpleNamespace(**row), prev)
        rows.append(row)
    conn.execute(sa.insert(log_t).values(rows))
    conn.execute(sa.update(head_t).where(head_t.c.id == 1).values(hash=prev))


@sa.event.listens_for(so.Session, "before_commit")
def _write_pending(sess: so.Session) -> None:
    if sess.in_nested_transaction():
        return
    entries = sess.info.get(_READS, []) + sess.info.get(_PENDING, [])
    if not entries:
        return
    sess.flush()  # the transaction's other writes first: while it holds the chain's head it waits for nothing
    append(sess.connection(), entries)
    sess.info[_PENDING], sess.info[_READS] = [], []


@sa.event.listens_for(so.Session, "after_transaction_create")
def _mark(sess: so.Session, trans: so.SessionTransaction) -> None:
    if trans.nested:
        sess.info.setdefault(_MARKS, {})[trans] = len(sess.info.get(_PENDING, ()))


@sa.event.listens_for(so.Session, "after_soft_rollback")
def _keep_reads(sess: so.Session, previous: so.SessionTransaction) -> None:
    """Work rolled back: its changes' entries go with it, its reads' entries stay to be written."""
    pending = sess.info.get(_PENDING)
    if not pending:
        return
    start = sess.info.get(_MARKS, {}).pop(previous, None) if previous.nested else 0
    if start is None:
        return
    dropped, sess.info[_PENDING] = pending[start:], pending[:start]
    sess.info.setdefault(_READS, []).extend(e for e in dropped if e["read"])


def write_left_reads(sess: so.Session) -> int:
    """Write what :func:`_keep_reads` kept (after the request's work was rolled back) in a transaction of its
    own. Returns how many entries were written."""
    reads = sess.info.get(_READS)
    if not reads:
        return 0
    sess.info[_PENDING] = []
    n = len(reads)
    sess.commit()  # _write_pending takes them
    return n


def init_app(app: Flask) -> None:
    @app.teardown_request
    def _reads_of_failed_requests(exc: BaseException | None) -> None:
        sess = g.get("db_session")
        if sess is None or not (sess.info.get(_PENDING) or sess.info.get(_READS)):
            return
        try:
            if exc is not None or sess.info.get(_PENDING):  # not committed: an exception, or never reached commit
                sess.rollback()  # (a session that never began a transaction rolls back without an event)
                left = sess.info.pop(_PENDING, [])
                sess.info.setdefault(_READS, []).extend(e for e in left if e["read"])
            write_left_reads(sess)
        except Exception:  # noqa: BLE001 - the answer is gone; say so loudly, never hide the failure
            log.exception("audit: the reads of a failed request could not be written")
            sess.rollback()


LOCAL = ZoneInfo("Asia/Shanghai")  # stored times are UTC; people read them in the district's time


def local_time(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (naive UTC) time as the district reads it."""
    return "" if at is None else at.replace(tzinfo=UTC).astimezone(LOCAL).strftime(fmt)


# ---- the log in words ------------------------------------------------------------------------------------
# What each action is called: ``audit.do.<action>`` in the message catalogues (foundation/locales/*/audit.json;
# a plugin adds its own actions' words to its catalogue under the same keys), ``audit.area.<first part>`` for
# the kind of action, ``audit.type.<resource type>`` for what it was done to. An unknown code reads as itself.

# the kinds of action of the core (the first part of an action code); a plugin's actions start with its name
AREAS = ("people", "profile", "records", "account", "accounts", "district", "alerts", "lowcode", "messages", "org",
         "standards", "plugins", "square", "federation", "oidc", "audit")


def _said(key: str, lang: str, fallback: str, **kw: Any) -> str:
    from foundation.i18n import t

    text = t(key, lang, **kw)
    return fallback if text == key else text


def action_words(action: str, lang: str) -> str:
    return _said(f"audit.do.{action}", lang, action)


def area_of(action: str) -> str:
    return action.split(".", 1)[0]


def area_words(area: str, lang: str) -> str:
    return _said(f"audit.area.{area}", lang, area)


def _ints(ids: set[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit() and 0 < int(i) < 2**31]


def _unit_names(sess: Any, ids: list[int], lang: str) -> dict[int, str]:
    from foundation.models import OrgUnit

    rows = sess.execute(sa.select(OrgUnit.id, OrgUnit.name, OrgUnit.name_en).where(OrgUnit.id.in_(ids))) if ids else []
    return {r.id: (r.name_en or r.name) if lang == "en" else r.name for r in rows}


def _students(sess: Any, ids: list[int], lang: str) -> dict[int, str]:
    """Masked names with their class, for the students the reader reaches (others stay a number)."""
    from foundation.models import Student
    from foundation.security.fields import mask_name

    rows = sess.execute(sa.select(Student.id, Student.name, Student.class_id).where(Student.id.in_(ids))).all() \
        if ids else []
    classes = _unit_names(sess, sorted({r.class_id for r in rows if r.class_id}), lang)
    out = {}
    for r in rows:
        klass = classes.get(r.class_id)
        out[r.id] = mask_name(r.name) + ("" if not klass else f"（{klass}）" if lang == "zh" else f" ({klass})")
    return out


def _simple(model_name: str, column: str, masked: bool = False):
    def resolve(sess: Any, ids: list[int], lang: str) -> dict[int, str]:
        import foundation.models as m
        from foundation.security.fields import mask_name

        model = getattr(m, model_name)
        col = getattr(model, column)
        rows = sess.execute(sa.select(model.id, col).where(model.id.in_(ids))) if ids else []
        out = {}
        for rid, value in rows:
            if isinstance(value, dict):  # a title in both languages
                value = value.get(lang) or value.get("zh") or next(iter(value.values()), None)
            if value:
                out[rid] = mask_name(value) if masked else value
        return out
    return resolve


def _cases(sess: Any, ids: list[int], lang: str) -> dict[int, str]:
    from foundation.models import AlertCase

    rows = sess.execute(sa.select(AlertCase.id, AlertCase.student_id, AlertCase.rule_title)
                        .where(AlertCase.id.in_(ids))).all() if ids else []
    kids = _students(sess, sorted({r.student_id for r in rows}), lang)
    return {r.id: " · ".join(x for x in ((r.rule_title or {}).get(lang) or (r.rule_title or {}).get("zh"),
                                          kids.get(r.student_id)) if x) for r in rows}


RESOLVERS = {
    "student": _students,
    "class": _unit_names, "org_unit": _unit_names, "school": _unit_names, "grade": _unit_names,
    "guardian": _simple("Guardian", "name", masked=True),
    "staff": _simple("Staff", "name"),
    "account": _simple("Account", "display_name"),
    "listing": _simple("AppListing", "title"),
    "form": _simple("LowcodeForm", "title"),
    "provider": _simple("UpstreamProvider", "name"),
    "alert_case": _cases,
}


def _plugin_titles(names: set[str], lang: str) -> dict[str, str]:
    from foundation.plugin_runtime import host

    loaded = host().loaded
    return {n: loaded[n].manifest["title"].get(lang) or n for n in names if n in loaded}


def describe(entries: list[AuditEntry], lang: str) -> list[dict[str, Any]]:
    """The entries as people read them, in ``lang``: when (local time), who (their name), what (the action in
    words, its kind), to what (the student's masked name and class, the class's or plugin's name…), where (the
    school) and why (a reason given). Names are looked up through the reader's scoped session, so what they do
    not reach (another school's students, for district staff outside a school) stays a number."""
    from foundation.models import Account

    sess = db.session()
    wanted: dict[str, set[str]] = {}
    for e in entries:
        if e.resource_type and e.resource_id:
            wanted.setdefault(e.resource_type, set()).update(e.resource_id.split(","))
    names: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        if kind == "plugin":
            found = _plugin_titles(ids, lang)
        elif kind in RESOLVERS:
            found = {str(k): v for k, v in RESOLVERS[kind](sess, _ints(ids), lang).items()}
        else:
            continue
        names.update({(kind, k): v for k, v in found.items()})
    schools = _unit_names(sess, sorted({e.school_id for e in entries if e.school_id}), lang)
    account_ids = {e.account_id for e in entries if e.account_id}
    accounts = {r.id: r.display_name for r in sess.execute(
        sa.select(Account.id, Account.display_name).where(Account.id.in_(account_ids)))} if account_ids else {}
    out = []
    for e in entries:
        area = area_of(e.action)
        out.append({
            "id": e.id, "at": e.at, "at_local": local_time(e.at, "%Y-%m-%d %H:%M:%S"),
            "who": accounts.get(e.account_id) or e.username or _said("audit.system", lang, "—"),
            "username": e.username, "action": e.action, "action_text": action_words(e.action, lang),
            "area": area, "area_text": area_words(area, lang),
            "resource_type": e.resource_type, "resource_id": e.resource_id,
            "resource_text": _resource_words(e, names, lang), "school_id": e.school_id,
            "school_text": schools.get(e.school_id) if e.school_id else None,
            "reason": (e.detail or {}).get("reason") if isinstance(e.detail, dict) else None,
            "endpoint": e.endpoint,
        })
    return out


def _resource_words(e: AuditEntry, names: dict[tuple[str, str], str], lang: str) -> str | None:
    if not e.resource_type:
        return None
    ids = [i for i in (e.resource_id or "").split(",") if i]
    kind = _said(f"audit.type.{e.resource_type}", lang, e.resource_type)
    if not ids:
        return kind
    if len(ids) > 1:
        return _said("audit.many", lang, f"{kind} ×{len(ids)}", kind=kind, n=len(ids))
    name = names.get((e.resource_type, ids[0]))
    if name:
        return name if e.resource_type in ("student", "guardian", "class", "school", "grade", "org_unit") \
            else f"{kind}：{name}" if lang == "zh" else f"{kind}: {name}"
    return f"{kind} #{ids[0]}"
