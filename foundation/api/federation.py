"""Binding codes for parents, and federated links (list, remove) for people and admins."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from foundation import db
from foundation.api.blueprint import bp, doc
from foundation.api.common import get_or_404, principal
from foundation.audit import record
from foundation.errors import NotFound, ValidationFailed
from foundation.federation import linking
from foundation.models import FederatedIdentity, Guardian, GuardianLink, Membership, Student
from foundation.permissions import require


@bp.post("/guardians/<int:guardian_id>/binding-code")
@doc("Issue a one-time parent binding code (家长绑定码) for a guardian of a student", tags=["federation"],
     body="BindingCodeIn", response="BindingCodeOut", status=201)
def binding_code(guardian_id: int):
    gd = get_or_404(Guardian, guardian_id, "guardian")
    body = request.get_json(silent=True)
    student_id = body.get("student_id") if isinstance(body, dict) else None
    if not isinstance(student_id, int) or isinstance(student_id, bool):
        raise ValidationFailed({"student_id": ["field.required"]})
    student = get_or_404(Student, student_id, "student")
    require(principal(), "people.guardian.manage", student.school_id)
    linked = db.session().scalar(sa.select(GuardianLink.id).where(GuardianLink.guardian_id == gd.id,
                                                                  GuardianLink.student_id == student.id))
    if not linked:
        raise ValidationFailed({"student_id": ["binding.not_linked"]})
    code = linking.new_binding_code(gd.id, student.id, student.school_id, principal().account_id)
    return jsonify({"code": code, "expires_in_days": linking.CODE_DAYS}), 201


def _visible_accounts_filter():
    """Accounts an admin may manage: those holding a role in a school where the admin has accounts.manage."""
    p = principal()
    schools = [s for s in p.school_ids() if p.can("accounts.manage", s)]
    return sa.select(Membership.account_id).where(Membership.school_id.in_(schools))


def _iso(at) -> str | None:
    return at.isoformat() + "Z" if at else None  # stored as naive UTC


@bp.get("/federated-identities")
@doc("Federated sign-ins: your own, or (admins) those of an account of your school", tags=["federation"],
     response="IdentityOut", many=True)
def list_identities():
    p = principal()
    account_id = request.args.get("account_id", type=int)
    stmt = sa.select(FederatedIdentity).order_by(FederatedIdentity.id)
    if account_id is None or account_id == p.account_id:
        stmt = stmt.where(FederatedIdentity.account_id == p.account_id)
    else:
        require(p, "accounts.manage")
        stmt = stmt.where(FederatedIdentity.account_id == account_id,
                          FederatedIdentity.account_id.in_(_visible_accounts_filter()))
    rows = db.session().scalars(stmt).all()
    items = [{"id": r.id, "account_id": r.account_id, "issuer": r.issuer, "linked_by": r.linked_by,
              "created_at": _iso(r.created_at), "last_login_at": _iso(r.last_login_at)}
             for r in rows]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.delete("/federated-identities/<int:identity_id>")
@doc("Remove a federated sign-in (your own, or an admin for an account of their school)", tags=["federation"],
     status=204)
def delete_identity(identity_id: int):
    p = principal()
    row = db.session().scalar(sa.select(FederatedIdentity).where(FederatedIdentity.id == identity_id)) if 0 < identity_id < 2**31 else None
    if row is None:
        raise NotFound("federated_identity")
    if row.account_id != p.account_id:
        allowed = db.session().scalar(sa.select(sa.literal(1)).where(
            sa.literal(row.account_id).in_(_visible_accounts_filter())))
        if not p.can("accounts.manage") or not allowed:
            raise NotFound("federated_identity")
    db.session().delete(row)
    record("federation.unlink", "account", row.account_id, detail={"issuer": row.issuer, "by": p.username})
    return "", 204
