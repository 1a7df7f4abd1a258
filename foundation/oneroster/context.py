"""State shared by the planning and applying phases of one import: the session, the report, the
OneRoster ids already known (preloaded once), the district, the target school, the authorities."""
from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.models import ExternalId, OrgUnit, Staff, Student
from foundation.oneroster.report import ImportReport
from foundation.oneroster.spec import SYSTEM
from foundation.security.fields import FieldCipher, cipher_for
from foundation.services.authority import authorities, split_update

SchoolKey = int | str  # a local school id, or the sourcedId of a school row of this bundle


class Known(NamedTuple):
    local_id: int
    school_id: int | None


class Context:
    def __init__(self, sess: so.Session, report: ImportReport, *, school_code: str | None,
                 secret_key: str | None) -> None:
        self.sess, self.report, self.school_code = sess, report, school_code
        self.ext: dict[tuple[str, str], Known] = {
            (e, x): Known(local, school) for e, x, local, school in sess.execute(
                sa.select(ExternalId.entity, ExternalId.external_id, ExternalId.local_id, ExternalId.school_id)
                .where(ExternalId.system == SYSTEM))}
        self.district: OrgUnit | None = sess.scalar(
            sa.select(OrgUnit).where(OrgUnit.kind == "district").order_by(OrgUnit.id).limit(1))
        self.target: OrgUnit | None = None
        if school_code:
            self.target = sess.scalar(sa.select(OrgUnit).where(OrgUnit.kind == "school",
                                                               OrgUnit.code == school_code))
        self.schools: dict[int, str | None] = {
            sid: code for sid, code in sess.execute(sa.select(OrgUnit.id, OrgUnit.code).where(OrgUnit.kind == "school"))}
        self.school_codes: dict[str, int] = {code: sid for sid, code in self.schools.items() if code}
        self.authority = authorities(sess)
        self.cipher: FieldCipher | None = cipher_for(secret_key) if secret_key else None
        self.school_ids: dict[SchoolKey, int] = {}  # filled as schools are matched or created

    # -- OneRoster ids ---------------------------------------------------------------------------
    def known(self, entity: str, sid: str) -> Known | None:
        known = self.ext.get((entity, sid))
        if entity == "school" and known is not None and known.local_id not in self.schools:
            return None  # the school it named is gone
        return known

    def link(self, entity: str, sid: str, local_id: int, school_id: int | None) -> bool:
        """Record sourcedId → local row; True when the mapping is new or moved."""
        have = self.ext.get((entity, sid))
        if have == Known(local_id, school_id):
            return False
        if have is None:
            self.sess.add(ExternalId(system=SYSTEM, entity=entity, external_id=sid, local_id=local_id,
                                     school_id=school_id))
        else:  # the row it named is gone (or moved school): point it at the current one
            self.sess.execute(sa.update(ExternalId).where(
                ExternalId.system == SYSTEM, ExternalId.entity == entity, ExternalId.external_id == sid)
                .values(local_id=local_id, school_id=school_id))
        self.ext[(entity, sid)] = Known(local_id, school_id)
        return True

    def school_id(self, key: SchoolKey | None) -> int | None:
        if key is None:
            return None
        return key if isinstance(key, int) else self.school_ids.get(key)

    # -- updates through the authority rules -----------------------------------------------------
    def update(self, obj: Any, proposed: dict[str, Any], *, library: str, entity: str,
               school_id: int | None, count_as: str | None = None) -> str:
        """Apply the elements of ``proposed`` that differ from ``obj`` and that the OneRoster source may
        change (others become pending conflicts). Returns updated | unchanged | conflict."""
        diff = {k: v for k, v in proposed.items() if getattr(obj, k) != v}
        if not diff:
            return "unchanged"
        current = {k: getattr(obj, k) for k in diff}
        allowed = split_update(self.sess, library=library, entity=entity, entity_id=obj.id, school_id=school_id,
                               current=current, proposed=diff, source=SYSTEM, authority=self.authority)
        for k, v in allowed.items():
            setattr(obj, k, v)
        if len(allowed) < len(diff):
            self.report.count(count_as or entity, "conflicts", len(diff) - len(allowed))
        return "updated" if allowed else "conflict"

    # -- preloading ------------------------------------------------------------------------------
    def linked(self, entity: str) -> dict[int, str]:
        """local id → sourcedId, for one entity."""
        return {k.local_id: x for (e, x), k in self.ext.items() if e == entity}

    def load_units(self, school_ids: set[int]) -> None:
        """The org units of the schools this import touches (and every code in use: codes are unique)."""
        self.codes: set[str] = set(self.sess.scalars(sa.select(OrgUnit.code).where(OrgUnit.code.is_not(None))))
        self.units: dict[int, OrgUnit] = {}
        for chunk in _chunks(sorted(school_ids)):
            for u in self.sess.scalars(sa.select(OrgUnit).where(OrgUnit.school_id.in_(chunk))):
                self.units[u.id] = u
        self.units_by_code = {u.code: u for u in self.units.values() if u.code}

    def unit(self, unit_id: int) -> OrgUnit | None:
        if unit_id not in self.units:
            u = self.sess.get(OrgUnit, unit_id)
            if u is None:
                return None
            self.units[unit_id] = u
        return self.units[unit_id]

    def add_unit(self, unit: OrgUnit) -> OrgUnit:
        self.sess.add(unit)
        if unit.code:
            self.codes.add(unit.code)
            self.units_by_code[unit.code] = unit
        return unit

    def free_code(self, code: str) -> str:
        n, out = 1, code
        while out in self.codes:
            n += 1
            out = f"{code}-{n}"
        return out

    def load_people(self, school_ids: set[int], student_ids: set[int], staff_ids: set[int]) -> None:
        """Students and staff of the schools touched, plus those the bundle's sourcedIds name."""
        self.students: dict[int, Student] = {}
        self.staff: dict[int, Staff] = {}
        for model, ids, store in ((Student, student_ids, self.students), (Staff, staff_ids, self.staff)):
            opts = [so.lazyload(Student.klass)] if model is Student else []
            for chunk in _chunks(sorted(school_ids)):
                store.update((o.id, o) for o in self.sess.scalars(
                    sa.select(model).options(*opts).where(model.school_id.in_(chunk))))
            for chunk in _chunks(sorted(ids - store.keys())):
                store.update((o.id, o) for o in self.sess.scalars(
                    sa.select(model).options(*opts).where(model.id.in_(chunk))))
        self.student_by_no = {(s.school_id, s.student_no): s.id for s in self.students.values()}
        self.staff_by_no = {(s.school_id, s.staff_no): s.id for s in self.staff.values()}


def _chunks(items: list[int], n: int = 500) -> list[list[int]]:
    return [items[i:i + n] for i in range(0, len(items), n)]
