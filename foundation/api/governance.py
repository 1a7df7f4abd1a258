"""Data governance: the standards catalogue, registered sources, authoritative sources (一数一源) and
the conflict queue where an admin accepts or rejects what a non-authoritative source proposed."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import get_or_404, principal
from foundation.audit import record as audit
from foundation.errors import NotFound, ValidationFailed
from foundation.inputs import clean_text
from foundation.models import Authority, Conflict, DataSource
from foundation.permissions import require
from foundation.services.authority import apply_conflict


def _catalog():
    from foundation.standards import catalog

    return catalog()


@bp.get("/standards")
@doc("The standards catalogue: libraries, dictionaries, IoT templates", tags=["standards"], forbidden=False)
def standards_index():
    cat = _catalog()
    return jsonify({
        "libraries": [{"id": k, "kind": v["kind"], "version": v["version"], "title": v["title"],
                       "sensitivity": v["sensitivity"], "elements": len(v["elements"]), "scope": v.get("scope")}
                      for k, v in sorted(cat.libraries.items())],
        "dictionaries": [{"id": k, "standard": v.get("standard"), "version": v.get("version"), "title": v["title"],
                          "codes": len(v["codes"])} for k, v in sorted(cat.dictionaries.items())],
        "iot_templates": [{"id": k, "library": v["library"], "version": v["version"], "title": v["title"]}
                          for k, v in sorted(cat.iot_templates.items())],
    })


@bp.get("/standards/<kind>/<item_id>")
@doc("One library, dictionary or IoT template of the standard, whole", tags=["standards"], forbidden=False,
     path={"kind": {"type": "string", "enum": ["libraries", "dictionaries", "iot"]}})
def standards_item(kind: str, item_id: str):
    cat = _catalog()
    table = {"libraries": cat.libraries, "dictionaries": cat.dictionaries, "iot": cat.iot_templates}.get(kind)
    if table is None or item_id not in table:
        raise NotFound("standard")
    return jsonify(table[item_id])


@bp.get("/sources")
@doc("Registered source systems", tags=["standards"], response="SourceOut", many=True)
def list_sources():
    require(principal(), "standards.manage")
    rows = db.session().scalars(sa.select(DataSource).order_by(DataSource.id))
    return jsonify({"items": [{"code": s.code, "name": s.name, "client_id": s.client_id, "libraries": s.libraries}
                              for s in rows]})


@bp.post("/sources")
@doc("Register a source system (district admin)", tags=["standards"], body="SourceIn", response="SourceOut", status=201)
def add_source():
    require(principal(), "standards.manage")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationFailed({"_body": ["body.not_json_object"]})
    code, name = body.get("code"), body.get("name")
    errors = {}
    if not isinstance(code, str) or not code.replace("_", "").isalnum() or not 2 <= len(code) <= 40:
        errors["code"] = ["source.code_format"]
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 120:
        errors["name"] = ["field.required"]
    libs = body.get("libraries", [])
    if not isinstance(libs, list) or any(lib not in _catalog().libraries for lib in libs):
        errors["libraries"] = ["source.library_unknown"]
    if errors:
        raise ValidationFailed(errors)
    if db.session().scalar(sa.select(DataSource.id).where(DataSource.code == code)):
        raise ValidationFailed({"code": ["source.code_taken"]})
    db.session().add(DataSource(code=code, name=name.strip(), client_id=body.get("client_id") or None, libraries=libs))
    audit("standards.source.add", "source", code)
    return jsonify({"code": code, "name": name.strip(), "client_id": body.get("client_id"), "libraries": libs}), 201


@bp.get("/authorities")
@doc("Authoritative source per element", tags=["standards"], forbidden=False,
     response="AuthorityOut", many=True)
def list_authorities():
    rows = db.session().scalars(sa.select(Authority).order_by(Authority.library, Authority.element))
    return jsonify({"items": [{"library": a.library, "element": a.element, "source": a.source} for a in rows]})


@bp.put("/authorities/<library>/<element>")
@doc("Set the authoritative source of one element (district admin)", tags=["standards"], body="AuthorityIn",
     response="AuthorityOut")
def set_authority(library: str, element: str):
    p = principal()
    require(p, "standards.manage")
    lib = _catalog().libraries.get(library)
    if lib is None or element not in lib["elements"]:
        raise NotFound("element")
    body = request.get_json(silent=True)
    source = body.get("source") if isinstance(body, dict) else None
    if not isinstance(source, str) or not db.session().scalar(
            sa.select(DataSource.id).where(DataSource.code == source)):
        raise ValidationFailed({"source": ["ingest.source_unknown"]})
    row = db.session().scalar(sa.select(Authority).where(Authority.library == library, Authority.element == element))
    if row is None:
        db.session().add(Authority(library=library, element=element, source=source, set_by=p.account_id))
    else:
        row.source, row.set_by = source, p.account_id
    audit("standards.authority.set", "element", f"{library}.{element}", detail={"source": source})
    return jsonify({"library": library, "element": element, "source": source})


@bp.get("/conflicts")
@doc("The conflict queue of your schools", tags=["standards"], response="ConflictOut", many=True)
def list_conflicts():
    p = principal()
    require(p, "conflicts.resolve")
    status = request.args.get("status", "pending")
    rows = db.session().scalars(sa.select(Conflict).where(Conflict.status == status[:10]).order_by(Conflict.id)
                                .limit(500)).all()
    return jsonify({"items": [_conflict_view(c) for c in rows], "total": len(rows)})


def _conflict_view(c: Conflict) -> dict:
    proposed = c.proposed_value
    if isinstance(proposed, dict) and "enc" in proposed:
        proposed = proposed.get("masked")  # an ID number: never shown in clear, not even here
    return {"id": c.id, "library": c.library, "entity": c.entity, "entity_id": c.entity_id, "element": c.element,
            "current": c.current_value, "proposed": proposed, "source": c.source, "status": c.status,
            "school_id": c.school_id, "created_at": c.created_at.isoformat() + "Z", "reason": c.reason}


@bp.post("/conflicts/<int:conflict_id>/<decision>")
@doc("Accept (apply the proposed value) or reject a conflict", tags=["standards"], body="OptionalReasonIn",
     response="ConflictOut", path={"decision": {"type": "string", "enum": ["accept", "reject"]}})
def decide_conflict(conflict_id: int, decision: str):
    p = principal()
    if decision not in ("accept", "reject"):
        raise NotFound("conflict")
    c = get_or_404(Conflict, conflict_id, "conflict")
    if c.status != "pending":
        raise NotFound("conflict")
    require(p, "conflicts.resolve", c.school_id)
    body = request.get_json(silent=True)
    reason = clean_text(body.get("reason") if isinstance(body, dict) else None, "reason", required=False, limit=200)
    if decision == "accept":
        try:
            apply_conflict(db.session(), c)
        except LookupError:
            raise NotFound("record") from None
    c.status = "accepted" if decision == "accept" else "rejected"
    c.decided_by, c.decided_at, c.reason = p.account_id, db.utcnow(), (reason or "")[:200] or None
    audit(f"standards.conflict.{decision}", "conflict", c.id, school_id=c.school_id,
          detail={"library": c.library, "element": c.element})
    return jsonify(_conflict_view(c))
