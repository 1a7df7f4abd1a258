"""The plugin's two alert rules on the platform's engine:

- ``wellbeing.screening``: raised by a response at a level (red: item 9 above 0 or a severe total; yellow:
  from the school's cutoff). Assigned to the homeroom teacher and the school's psychology teachers; red means
  contact within the hour and a plan within 24 hours, escalating along the rule's own chain (the wellbeing
  lead, then the principal). Recovery is judged at the next screening of the same scale.
- ``wellbeing.signals``: the daily behaviour signals, each against a per-school threshold, combined into one
  yellow case with reason codes when enough of them meet (``signals.py``).

Case details carry the scale and reason codes, never answers or a diagnosis."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from plugins.wellbeing.models import Response

CHAIN = ["homeroom_teacher", "wellbeing_lead", "principal"]  # the first is already assigned


def recovered_at_rescreening(sess: so.Session, case: Any) -> bool | None:
    """The first response of the student after the case opened: recovered when it is below every level."""
    later = sess.scalar(sa.select(Response).where(Response.student_id == case.student_id,
                                                  Response.submitted_at > case.opened_at)
                        .order_by(Response.submitted_at).limit(1))
    return None if later is None else later.level is None


def on_case_closed(_event: str, payloads: list[dict[str, Any]]) -> None:
    """The engine closed screening cases (or the red case that took them in): the workbench stops listing them."""
    from foundation.plugin_api import session, utcnow
    from plugins.wellbeing.models import responses

    ids = [p["case_id"] for p in payloads if str(p.get("rule", "")).startswith("wellbeing.")]
    if ids:
        session().execute(sa.update(responses).where(responses.c.case_id.in_(ids), responses.c.case_closed_at.is_(None))
                          .values(case_closed_at=utcnow()))


SUBSCRIPTIONS = {"alert.case.closed": on_case_closed}


def rules() -> list[dict[str, Any]]:
    from plugins.wellbeing.signals import scan

    return [{"key": "wellbeing.screening", "title": {"zh": "心理筛查：需要关注", "en": "Screening: needs follow-up"},
             "level": "red", "category": "psychology", "assign": ["psychology_teacher"], "sensitive": True,
             "evaluation_days": 30, "evaluate": recovered_at_rescreening, "chain": CHAIN},
            {"key": "wellbeing.signals", "title": {"zh": "行为信号：需要关注", "en": "Behaviour signals: needs follow-up"},
             "level": "yellow", "category": "psychology", "assign": ["psychology_teacher"], "sensitive": True,
             "evaluation_days": 30, "scan": scan, "chain": CHAIN}]
