"""The editor's approval-flow section: what the page needs to offer (the school's staff roles that someone
holds, its staff for the named-person picker, the words) and "试一试 / Try a sample": the path a submission
with the sample values would take, computed by the engine's own ``path`` (foundation/lowcode/flow.py)."""
from __future__ import annotations

from flask import abort, g, jsonify, request

from admin.blueprint import bp
from admin.views import _one
from foundation.i18n import current_lang, t
from foundation.lowcode.apps import _APP_VALIDATOR
from foundation.lowcode.flow import path
from foundation.lowcode.flow_check import STAFF_REACH
from foundation.models import LowcodeForm
from foundation.people_access import staff_of
from foundation.permissions import ROLES

FLOW_WORDS = ["flow_step_n", "flow_title_zh", "flow_title_en", "flow_approver", "flow_relative_homeroom",
              "flow_relative_grade_head", "flow_kind_role", "flow_kind_person", "flow_mode", "flow_mode_any",
              "flow_mode_all", "flow_mode_any_hint", "flow_mode_all_hint", "flow_when", "flow_when_on",
              "flow_when_kept", "flow_deadline", "flow_deadline_on", "flow_school_days", "flow_escalate",
              "flow_no_escalate", "flow_runs", "flow_skipped", "flow_outcome", "flow_try_failed",
              "flow_approval_in_flow", "flow_person_n", "flow_sample_yes", "flow_sample_no"]


def flow_definition(sess, form: LowcodeForm, lang: str) -> dict:
    """The editor's data for the flow section: roles to pick (staff roles held in the form's school, and any
    role the draft's flow already names), the staff to name, and the words."""
    staff = staff_of(sess, form.school_id) if form.school_id is not None else []
    held = {r["role"] for s in staff for r in s["roles"]}
    flow = (form.draft_app or {}).get("flow") or {}
    steps = [s for s in flow.get("steps") or [] if isinstance(s, dict)]
    named = set(flow.get("cc") or []) | {(s.get("approver") or {}).get("role") for s in steps} \
        | {((s.get("deadline") or {}).get("escalate_to") or {}).get("role") for s in steps}
    roles = [(k, getattr(r, lang)) for k, r in ROLES.items()
             if (k in held and r.reach in STAFF_REACH) or k in named]

    def who(s: dict) -> str:
        titles = "、" if lang == "zh" else ", "
        return f"{s['name']}（{titles.join(dict.fromkeys(getattr(ROLES[r['role']], lang) for r in s['roles']))}）"

    return {"flow_roles": roles, "flow_staff": sorted(([s["account_id"], who(s)] for s in staff), key=lambda x: x[1]),
            "flow_labels": {k: t(f"editor.{k}", lang) for k in FLOW_WORDS}}


@bp.post("/forms/<int:form_id>/edit/path")
def forms_flow_path(form_id: int):
    """The path a sample submission takes through the editor's (unsaved) flow: each step, run or skipped."""
    form = _one(LowcodeForm, form_id)
    if form.owner_account_id != g.principal.account_id:
        abort(403)
    body = request.get_json(silent=True)
    flow, data = (body.get("flow"), body.get("data")) if isinstance(body, dict) else (None, None)
    if not isinstance(data, dict) or next(_APP_VALIDATOR.iter_errors({"flow": flow}), None) is not None:
        return jsonify({"error": {"message": t("editor.flow_try_failed", current_lang())}}), 422
    return jsonify({"path": path(flow, data)})
