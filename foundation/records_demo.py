"""Demo records for a plugin's ``jizuo_demo_data``: a capability whose inputs are business records (card
transactions, canteen meals, attendance) fills a demo school with them in bulk, without the ingest path's
per-record validation (tens of thousands of rows per school must take well under a second).

Only for the platform acting for one school (the demo): every row's student must be of that school, every
element must be the library's; rows land with ``source`` ``demo`` and the library's current version. Real
records always come through the ingest API (docs/data.md)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import Record, Student
from foundation.plugin_models import bulk_insert
from foundation.records_access import RecordAccessError, _library
from foundation.tenancy import acting_for


def demo_records(sess: so.Session, library: str, rows: list[dict[str, Any]], source: str = "demo") -> int:
    """Insert ``rows`` — ``{"student_id", "occurred_at", "source_id", "data": {element: value}}`` — into the
    library, for the school the session acts for. Returns the number of rows."""
    school = acting_for(sess)
    if school is None:
        raise RecordAccessError("demo records are written only by the platform acting for one school")
    lib = _library(library)
    known = set(lib["elements"])
    ids = {r["student_id"] for r in rows}
    mine = set(sess.scalars(sa.select(Student.id).where(Student.school_id == school))) if ids else set()
    if ids - mine:
        raise RecordAccessError(f"students {sorted(ids - mine)[:5]} are not of school {school}")
    now = datetime.utcnow()
    out = []
    for r in rows:
        extra = set(r["data"]) - known
        if extra:
            raise RecordAccessError(f"library {library} has no element {sorted(extra)[0]!r}")
        when: datetime = r["occurred_at"]
        out.append({"school_id": school, "library": library, "library_version": lib["version"], "source": source,
                    "source_id": str(r["source_id"]), "subject_kind": "student", "subject_id": r["student_id"],
                    "occurred_at": when, "data": {**r["data"], "occurred_at": when.isoformat() + "Z"},
                    "created_at": now})
    return bulk_insert(sess, Record.__table__, out)
