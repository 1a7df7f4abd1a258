"""One student's profile (一生一档): the core's sections (identity, guardians, alerts:
foundation/profile_core.py) and those plugins add through ``jizuo_student_profile``, gathered for one viewer. A section shows only where its plugin is enabled in the student's school and the viewer
holds its capability there; the student was looked up through the viewer's scope, and each section's own
queries run in that scope too, so a homeroom teacher sees conduct, aid, learning and wellbeing of their
students in one place and every viewer sees only what they may. Reading a sensitive section is audited."""
from __future__ import annotations

import logging
from typing import Any

import sqlalchemy.orm as so

from foundation.i18n import current_lang
from foundation.permissions import Principal
from foundation.reach import StudentRef
from foundation.tenancy import narrowed

log = logging.getLogger("jizuo.profile")


def _providers():
    """``(plugin or None, specs)``: the core's own sections first, then each enabled plugin's."""
    from foundation.plugin_runtime import host
    from foundation.profile_core import SECTIONS

    yield None, SECTIONS
    yield from host().each("jizuo_student_profile")


def sections(sess: so.Session, student: StudentRef, p: Principal) -> list[dict[str, Any]]:
    """``[{"key", "plugin", "title", "order", "data", "template"}]`` in order, for ``p``."""
    from foundation.audit import record
    from foundation.plugin_runtime import enabled_schools

    lang, out = current_lang(), []
    for plugin, specs in _providers():
        if plugin is not None and student.school_id not in enabled_schools(plugin):
            continue
        for spec in specs or []:
            cap = spec.get("capability")
            if not cap or not p.can(cap, student.school_id):
                continue  # every section sits behind a capability: none is shown to everyone by default
            try:  # in the viewer's reach, within the student's school
                with sess.begin_nested(), narrowed(sess, student.school_id):
                    data = spec["data"](sess, student, p)
            except Exception:  # noqa: BLE001 - one broken section must not take the page down
                log.exception("profile section %s of %s failed", spec.get("key"), plugin or "core")
                data = {"error": True}
            if data is None:
                continue
            if spec.get("sensitive"):
                record("profile.section.read", "student", student.id, school_id=student.school_id,
                       detail={"section": spec["key"]})
            title = spec.get("title") or {}
            out.append({"key": spec["key"], "plugin": plugin, "title": title.get(lang) or title.get("zh"),
                        "order": spec.get("order", 50), "data": data, "template": spec.get("template")})
    return sorted(out, key=lambda s: (s["order"], s["key"]))
