"""The nightly refit (job ``learning.refit``): for each knowledge point, the BKT parameters fitted by EM on
all the school's responses to it (each student's sequence oldest first, the best of three starting points),
then every student's mastery of it traced again with the new parameters. One knowledge point at a time, so
memory stays bounded by the largest point's responses, whatever the school's total."""
from __future__ import annotations

from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so

from foundation.plugin_api import utcnow
from plugins.learning import bkt
from plugins.learning.models import Mastery, Param, Response

MIN_RESPONSES = 50  # fewer, and the defaults stand


def sequences(sess: so.Session, code: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """(student ids, their sequences of 0/1) for one knowledge point."""
    rows = sess.execute(sa.select(Response.student_id, Response.correct).where(Response.code == code)
                        .order_by(Response.student_id, Response.occurred_at, Response.id)).all()
    if not rows:
        return np.array([], dtype=np.int64), []
    arr = np.array(rows, dtype=np.int64)
    cuts = np.flatnonzero(np.diff(arr[:, 0])) + 1
    return arr[np.r_[0, cuts], 0], np.split(arr[:, 1].astype(np.int8), cuts)


def refit(sess: so.Session, school_id: int, retrace: bool = True, restarts: bool = True) -> dict[str, Any]:
    codes = list(sess.scalars(sa.select(Response.code).distinct()))
    have = {p.code: p for p in sess.scalars(sa.select(Param))}
    fitted = traced = 0
    for code in codes:
        students, seqs = sequences(sess, code)
        total = int(sum(len(s) for s in seqs))
        if total < MIN_RESPONSES:
            continue
        prm = bkt.fit_restarts(seqs) if restarts else bkt.fit(seqs)[0]
        save(sess, school_id, code, prm, total, have.get(code))
        fitted += 1
        if retrace:
            after = bkt.mastery_after(seqs, prm)
            m = Mastery.__table__
            result = sess.execute(m.update().where(m.c.student_id == sa.bindparam("sid"), m.c.code == code)
                                  .values(p=sa.bindparam("p")),
                                  [{"sid": int(s), "p": float(p)} for s, p in zip(students, after, strict=True)])
            traced += result.rowcount or 0
    sess.flush()
    return {"points": fitted, "retraced": traced}


def save(sess: so.Session, school_id: int, code: str, prm: bkt.Params, total: int, row: Param | None = None) -> None:
    row = row or Param(school_id=school_id, code=code)
    row.prior, row.learn, row.guess, row.slip = prm.prior, prm.learn, prm.guess, prm.slip
    row.responses, row.fitted_at = total, utcnow()
    sess.add(row)
