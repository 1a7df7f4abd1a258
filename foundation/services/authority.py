"""One datum, one source (一数一源): who may overwrite which element, and the conflicts otherwise.

A district admin names the authoritative source of an element (``authorities``). A write from another
source that would change that element's stored value is not applied: it becomes a pending ``Conflict``
that an admin accepts (the value is applied then) or rejects. Elements with no named authority take the
write. Nothing is silently merged.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.db import utcnow
from foundation.models import Authority, Change, Conflict, Record, Student


def authorities(sess: so.Session) -> dict[tuple[str, str], str]:
    """(library, element) → authoritative source code."""
    rows = sess.execute(sa.select(Authority.library, Authority.element, Authority.source))
    return {(lib, el): src for lib, el, src in rows}


def split_update(sess: so.Session, *, library: str, entity: str, entity_id: int, school_id: int | None,
                 current: dict[str, Any], proposed: dict[str, Any], source: str,
                 authority: dict[tuple[str, str], str] | None = None) -> dict[str, Any]:
    """The part of ``proposed`` that ``source`` may apply. Each element that differs from ``current`` and
    whose authority is another source is recorded as a pending conflict instead (once per value)."""
    authority = authorities(sess) if authority is None else authority
    allowed: dict[str, Any] = {}
    for element, value in proposed.items():
        owner = authority.get((library, element))
        if owner is None or owner == source or current.get(element) == value:
            allowed[element] = value
            continue
        exists = sess.scalar(sa.select(Conflict.id).where(
            Conflict.entity == entity, Conflict.entity_id == entity_id, Conflict.element == element,
            Conflict.source == source, Conflict.status == "pending"))
        if exists is None:
            sess.add(Conflict(library=library, entity=entity, entity_id=entity_id, element=element,
                              school_id=school_id, current_value=_jsonable(current.get(element)),
                              proposed_value=_jsonable(value), source=source, created_at=utcnow()))
    return allowed


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)


def apply_conflict(sess: so.Session, c: Conflict) -> None:
    """Apply an accepted conflict's proposed value to its record or student, with a change-feed row."""
    if c.entity == "record":
        row = sess.scalar(sa.select(Record).where(Record.id == c.entity_id))
        if row is None:
            raise LookupError("record")
        row.data = {**row.data, c.element: c.proposed_value}
        row.updated_at = utcnow()
    elif c.entity == "student":
        row = sess.scalar(sa.select(Student).where(Student.id == c.entity_id))
        if row is None or not (hasattr(row, c.element) or c.element == "id_number"):
            raise LookupError("student")
        if c.element == "id_number":
            from flask import current_app

            from foundation.security.fields import cipher_for

            cipher = cipher_for(current_app.config["SECRET_KEY"])
            clear = cipher.decrypt(c.proposed_value["enc"])
            row.id_number_enc, row.id_number_hash = cipher.encrypt(clear), cipher.blind_index(clear)
        elif c.element == "birth_date":
            from datetime import date

            row.birth_date = date.fromisoformat(c.proposed_value) if c.proposed_value else None
        else:
            setattr(row, c.element, c.proposed_value)
    else:
        raise LookupError(c.entity)
    sess.add(Change(library=c.library, entity_id=c.entity_id, op="update", school_id=c.school_id))
