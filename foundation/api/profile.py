"""One student's profile (一生一档) as data: the sections plugins add, each shown only to viewers who hold
its capability where the plugin is enabled (foundation/profile.py)."""
from __future__ import annotations

from flask import jsonify

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import principal
from foundation.audit import record
from foundation.permissions import require
from foundation.profile import sections
from foundation.reach import student_or_404


@bp.get("/students/<int:student_id>/profile")
@doc("A student's profile: the sections plugins add (conduct, aid, learning, wellbeing…) that you may see",
     tags=["people"])
def student_profile(student_id: int):
    p = principal()
    student = student_or_404(student_id)
    require(p, "people.student.read", student.school_id)
    record("people.student.read", "student", student.id, school_id=student.school_id, detail={"view": "profile"})
    found = sections(db.session(), student, p)
    return jsonify({"student": {"id": student.id, "name": student.name, "student_no": student.student_no,
                                "class_id": student.class_id, "school_id": student.school_id},
                    "sections": [{k: s[k] for k in ("key", "plugin", "title", "order", "data")} for s in found]})
