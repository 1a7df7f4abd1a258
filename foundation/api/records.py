"""The open data API: ingest into business libraries, read records, the change feed."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import load_query, paginate, principal
from foundation.api.schemas import PageQuery
from foundation.audit import record as audit
from foundation.errors import NotFound, ValidationFailed
from foundation.i18n import t
from foundation.ingest import intake
from foundation.ingest.service import Context, UnknownLibrary, compiled, ingest
from foundation.inputs import large_body, upload_limit
from foundation.models import Change, DataSource, Record
from foundation.permissions import Forbidden, Principal


def library_or_404(library_id: str) -> dict:
    try:
        return compiled(library_id[:40]).library
    except UnknownLibrary:
        raise NotFound("library") from None


def may_read(p: Principal, lib: dict, school_id: int | None = None) -> bool:
    if not p.can(f"records.{lib['id']}.read", school_id):
        return False
    readable_by = lib.get("readable_by")
    if lib.get("sensitivity") == "highly_sensitive":
        if p.machine:
            return True  # a client holding this library's read scope was granted it by the district
        roles = {g.role for g in p.grants if school_id is None or g.school_id == school_id}
        return bool(roles & set(readable_by or []))
    return True


def _source_for(p: Principal, requested: str | None, library: str) -> str:
    sess = db.session()
    if p.client_id:
        bound = sess.scalar(sa.select(DataSource).where(DataSource.client_id == p.client_id))
        if bound is not None:
            if requested and requested != bound.code:
                raise ValidationFailed({"source": ["ingest.source_not_yours"]})
            ds = bound
        else:
            ds = None
    else:
        ds = None
    if ds is None:
        if not requested:
            raise ValidationFailed({"source": ["field.required"]})
        ds = sess.scalar(sa.select(DataSource).where(DataSource.code == requested[:40]))
        if ds is None or (ds.client_id and ds.client_id != p.client_id):
            raise ValidationFailed({"source": ["ingest.source_unknown"]})
    if ds.libraries and library not in ds.libraries:
        raise ValidationFailed({"source": ["ingest.source_library"]})
    return ds.code


def _incoming() -> tuple[list, str | None]:
    ctype = request.mimetype
    try:
        if ctype == "application/json":
            return intake.json_records(request.get_json(silent=True)), None
        if ctype in ("text/csv", "application/csv"):
            return intake.csv_records(request.get_data())
        if ctype == "multipart/form-data" and "file" in request.files:
            return intake.csv_records(request.files["file"].read())
    except intake.IntakeError as err:
        where = {"_body": [err.key if err.line is None else f"{t(err.key)} (line {err.line})"]}
        raise ValidationFailed(where) from err
    raise ValidationFailed({"_body": ["ingest.body_type"]})


@bp.post("/ingest/<library>")
@doc("Ingest a batch (JSON {records: [...]} or a CSV upload) into a business library", tags=["data"],
     body="IngestIn")
@large_body(upload_limit)
def ingest_records(library: str):
    p = principal()
    lib = library_or_404(library)
    records, encoding = _incoming()
    atomic = request.args.get("atomic", "false").lower() in ("1", "true", "yes")
    source = _source_for(p, request.args.get("source"), lib["id"])
    schools = {s for s in p.school_ids() if p.can(f"records.{lib['id']}.write", s)}
    if not schools:
        raise Forbidden(f"records.{lib['id']}.write")
    ctx = Context(school_ids=schools, default_school_id=next(iter(schools)) if len(schools) == 1 else None)
    report = ingest(db.session(), lib["id"], records, source=source, ctx=ctx, atomic=atomic)
    body = report.as_dict() | {"received": len(records), "encoding": encoding}
    for item in body["rejected"]:
        item["fields"] = {k: t(v) for k, v in item["fields"].items()}
    audit("records.ingest", "library", lib["id"], detail={k: body[k] for k in ("created", "updated", "unchanged",
                                                                               "conflicts", "received")}
          | {"rejected": len(body["rejected"]), "source": source})
    if report.atomic_failed:
        fields = {f"records.{r['index']}.{k}": v for r in body["rejected"] for k, v in r["fields"].items()}
        resp = jsonify({"error": {"code": "validation_failed", "message": t("error.validation_failed"),
                                  "fields": fields}, "report": body})
        return resp, 422
    return jsonify(body)


@bp.get("/records/<library>")
@doc("Records of a business library you may read (newest first)", tags=["data"], query=PageQuery,
     response="RecordOut", many=True)
def list_records(library: str):
    p = principal()
    lib = library_or_404(library)
    args = load_query(PageQuery(unknown="exclude"))
    schools = [s for s in p.school_ids() if may_read(p, lib, s)]
    if not schools:
        raise Forbidden(f"records.{lib['id']}.read")
    stmt = sa.select(Record).where(Record.library == lib["id"], Record.school_id.in_(schools),
                                   Record.deleted_at.is_(None)).order_by(Record.occurred_at.desc(), Record.id.desc())
    student = request.args.get("student_id", type=int)
    if student is not None:
        stmt = stmt.where(Record.subject_kind == "student", Record.subject_id == student)
    out = paginate(stmt, args, lambda rows: [_record_view(r) for r in rows])
    if lib.get("sensitivity") in ("sensitive", "highly_sensitive"):
        audit("records.read", "library", lib["id"], detail={"returned": len(out["items"]), "student_id": student})
    return jsonify(out)


def _record_view(r: Record) -> dict:
    return {"id": r.id, "library": r.library, "version": r.library_version, "source": r.source,
            "source_id": r.source_id, "school_id": r.school_id, "subject": {"kind": r.subject_kind, "id": r.subject_id},
            "occurred_at": r.occurred_at.isoformat() + "Z" if r.occurred_at else None, "data": r.data}


@bp.delete("/records/<library>/<int:record_id>")
@doc("Delete a record (it leaves a tombstone in the change feed)", tags=["data"], status=204)
def delete_record(library: str, record_id: int):
    p = principal()
    lib = library_or_404(library)
    row = db.session().scalar(sa.select(Record).where(Record.id == record_id, Record.library == lib["id"],
                                                      Record.deleted_at.is_(None))) if 0 < record_id < 2**62 else None
    if row is None:
        raise NotFound("record")
    if not p.can(f"records.{lib['id']}.write", row.school_id):
        raise Forbidden(f"records.{lib['id']}.write")
    row.deleted_at = db.utcnow()
    db.session().add(Change(library=lib["id"], entity_id=row.id, op="delete", school_id=row.school_id))
    audit("records.delete", "record", row.id, school_id=row.school_id)
    return "", 204


@bp.get("/changes")
@doc("The change feed: creations, updates and deletions (tombstones) after a cursor, in order", tags=["data"],
     response="ChangesOut")
def changes():
    p = principal()
    since = request.args.get("since", "0")
    limit = request.args.get("limit", "500")
    if not since.isdigit() or not limit.isdigit() or not 1 <= int(limit) <= 5000 or len(since) > 18:
        raise ValidationFailed({k: ["field.invalid_integer"] for k, v in (("since", since), ("limit", limit))
                                if not v.isdigit() or len(v) > 18} or {"limit": ["field.range:1-5000"]})
    wanted = request.args.get("library")
    from foundation.standards import catalog

    libs = [lid for lid in catalog().libraries if (wanted is None or lid == wanted)
            and any(may_read(p, catalog().libraries[lid], s) for s in p.school_ids())]
    if wanted and not libs:
        raise NotFound("library") if wanted not in catalog().libraries else Forbidden(f"records.{wanted}.read")
    stmt = (sa.select(Change).where(Change.seq > int(since), Change.library.in_(libs))
            .order_by(Change.seq).limit(int(limit)))
    rows = db.session().scalars(stmt).all()
    items = [{"seq": c.seq, "library": c.library, "id": c.entity_id, "op": c.op, "school_id": c.school_id,
              "at": c.at.isoformat() + "Z"} for c in rows]
    nxt = items[-1]["seq"] if items else int(since)
    return jsonify({"items": items, "next": str(nxt), "more": len(items) == int(limit)})


@bp.post("/iot/<template_id>")
@doc("Device payloads for an IoT template, mapped into its business library and ingested", tags=["data"],
     body="IotIn")
@large_body(upload_limit)
def iot_ingest(template_id: str):
    from foundation.ingest.iot import MappingError, map_payload
    from foundation.standards import catalog

    template = catalog().iot_templates.get(template_id[:40])
    if template is None:
        raise NotFound("iot_template")
    body = request.get_json(silent=True)
    payloads = body.get("payloads") if isinstance(body, dict) else body
    if not isinstance(payloads, list):
        raise ValidationFailed({"_body": ["iot.body_shape"]})
    mapped, failed = [], []
    for i, payload in enumerate(payloads):
        try:
            mapped.append(map_payload(template, payload))
        except MappingError as err:
            failed.append({"index": i, "fields": {err.field: t(err.key)}})
            mapped.append(None)
    p = principal()
    lib = library_or_404(template["library"])
    source = _source_for(p, request.args.get("source"), lib["id"])
    schools = {s for s in p.school_ids() if p.can(f"records.{lib['id']}.write", s)}
    if not schools:
        raise Forbidden(f"records.{lib['id']}.write")
    ctx = Context(school_ids=schools, default_school_id=next(iter(schools)) if len(schools) == 1 else None)
    report = ingest(db.session(), lib["id"], [m for m in mapped if m is not None], source=source, ctx=ctx)
    body = report.as_dict() | {"received": len(payloads), "template": template_id}
    index_of = [i for i, m in enumerate(mapped) if m is not None]
    for item in body["rejected"]:
        item["index"] = index_of[item["index"]]
        item["fields"] = {k: t(v) for k, v in item["fields"].items()}
    body["rejected"] = sorted(body["rejected"] + failed, key=lambda r: r["index"])
    return jsonify(body)
