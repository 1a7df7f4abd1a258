"""Checking and pruning the audit chain (the chain itself is written in foundation/models/audit.py).

:func:`verify` walks the rows in chain order from the latest signed checkpoint (or from the start) and
names the first row that was edited, inserted or deleted. :func:`prune` deletes the rows older than the
retention (never less than :data:`MIN_RETENTION_DAYS`), after verifying the whole chain, and stores a
checkpoint — the last pruned row's place and hash, signed RS256 with the server's OIDC signing key — from
which later verifications start.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from foundation.db import utcnow
from foundation.models import SigningKey
from foundation.models.audit import CONTENT, GENESIS, AuditChain, AuditCheckpoint, AuditEntry, row_hash

MIN_RETENTION_DAYS = 180  # 等保 level 3 (GB/T 22239-2019 8.1.4.3): audit records kept at least six months
Progress = Callable[[str, int, int], None]


def retention_days(value: object) -> int:
    """The retention setting as a number of days; anything below the minimum is refused."""
    try:
        days = int(str(value if value is not None else MIN_RETENTION_DAYS).strip())
    except ValueError:
        raise ValueError(f"JIZUO_AUDIT_RETENTION_DAYS={value!r}: a whole number of days is needed") from None
    if days < MIN_RETENTION_DAYS:
        raise ValueError(f"JIZUO_AUDIT_RETENTION_DAYS={days}: audit rows are kept at least {MIN_RETENTION_DAYS} "
                         "days (等保 level 3 asks six months)")
    return days


@dataclass
class Problem:
    kind: str  # edited | inserted | deleted | checkpoint
    id: int | None
    seq: int | None
    at: datetime | None
    what: str

    def __str__(self) -> str:
        place = "no seq" if self.seq is None else f"seq {self.seq}"
        when = "" if self.at is None else f", at {self.at:%Y-%m-%d %H:%M:%S} UTC"
        where = "" if self.id is None else f"row id {self.id} ({place}{when}): "
        return f"{self.kind.upper()}: {where}{self.what}"


@dataclass
class Verdict:
    rows: int  # rows checked
    head_seq: int
    head_hash: str
    checkpoint: AuditCheckpoint | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


# ---- checkpoints ---------------------------------------------------------------------------------------
def _key_of(sess: so.Session, kid: str):
    """The signing key ``kid`` (retired or not), from its private half, which only this server can decrypt:
    a public key swapped in the database cannot vouch for a forged checkpoint."""
    from joserfc.jwk import RSAKey

    from foundation.security.fields import cipher_for

    row = sess.scalar(sa.select(SigningKey).where(SigningKey.kid == kid))
    if row is None:
        return None
    pem = cipher_for(current_app.config["SECRET_KEY"]).decrypt(row.private_pem_enc)
    return RSAKey.import_key(pem, {"kid": kid, "alg": "RS256"})


def _sign(payload: dict) -> tuple[str, str]:
    from joserfc import jws

    from foundation.oidc.keys import active_key

    kid, key = active_key()
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return kid, jws.serialize_compact({"alg": "RS256", "kid": kid, "typ": "jizuo-audit-checkpoint"}, body, key,
                                      algorithms=["RS256"])


def check_checkpoint(sess: so.Session, cp: AuditCheckpoint) -> str | None:
    """What is wrong with a checkpoint (None: its signature is the server's and it says what its row says)."""
    from joserfc import jws
    from joserfc.errors import JoseError

    try:
        key = _key_of(sess, cp.kid)
    except Exception:  # noqa: BLE001 - an undecryptable key is reported, not raised
        return f"its signing key {cp.kid} cannot be read with this server's secret key"
    if key is None:
        return f"its signing key {cp.kid} is missing"
    try:
        payload = json.loads(jws.deserialize_compact(cp.signature, key, algorithms=["RS256"]).payload)
    except (JoseError, ValueError):
        return "its signature does not verify"
    if payload.get("seq") != cp.seq or payload.get("hash") != cp.hash:
        return f"it was changed: the signed checkpoint is seq {payload.get('seq')}, hash {payload.get('hash')}"
    return None


def latest_checkpoint(sess: so.Session) -> AuditCheckpoint | None:
    return sess.scalar(sa.select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc()).limit(1))


# ---- verifying -----------------------------------------------------------------------------------------
def _head(sess: so.Session) -> tuple[int, str]:
    head = sess.execute(sa.select(AuditChain.seq, AuditChain.hash).where(AuditChain.id == 1)).first()
    return (head[0], head[1]) if head else (0, GENESIS)


def verify(sess: so.Session, progress: Progress | None = None) -> Verdict:
    """Walk the chain up to its head as it is when the walk starts (rows appended meanwhile are checked the
    next time) and return the first problem found."""
    head_seq, head_hash = _head(sess)
    cp = latest_checkpoint(sess)
    seq, prev = (cp.seq, cp.hash) if cp else (0, GENESIS)
    total, done = max(head_seq - seq, 0), 0

    def verdict(problem: Problem | None) -> Verdict:
        if progress:
            progress("verify", total, total)
        return Verdict(done, head_seq, head_hash, cp, problem)

    if cp is not None:
        wrong = check_checkpoint(sess, cp)
        if wrong:
            return verdict(Problem("checkpoint", None, cp.seq, None, f"the checkpoint at seq {cp.seq}: {wrong}"))
    cols = (AuditEntry.id, *(getattr(AuditEntry, n) for n in CONTENT), AuditEntry.prev_hash, AuditEntry.hash)
    rows = sess.execute(sa.select(*cols).where(AuditEntry.seq.is_not(None), AuditEntry.seq <= head_seq)
                        .order_by(AuditEntry.seq), execution_options={"yield_per": 2000})
    before = {prev: seq}  # hash → seq of the rows just walked (to tell an inserted row from a deleted one)
    prev_id = prev_at = None
    for row in rows:
        if row.seq <= seq:
            return verdict(Problem("inserted", row.id, row.seq, row.at,
                                   f"it lies before the signed checkpoint at seq {seq}, where nothing is left"))
        if row.seq > seq + 1:
            missing = f"seq {seq + 1}" if row.seq == seq + 2 else f"seq {seq + 1}–{row.seq - 1}"
            return verdict(Problem("deleted", row.id, row.seq, row.at, f"the row(s) before it are missing ({missing})"))
        if row.prev_hash != prev:
            if before.get(row.prev_hash) == seq - 1:
                return verdict(Problem("inserted", prev_id, seq, prev_at,
                                       f"the row after it (id {row.id}) links past it, to seq {seq - 1}"))
            if row_hash(row, row.prev_hash or "") == row.hash:
                return verdict(Problem("deleted", row.id, row.seq, row.at, "a row before it is missing: it links "
                                       "to a hash no row has (rows after a deletion were renumbered)"))
            return verdict(Problem("edited", row.id, row.seq, row.at, "its link to the previous row was changed"))
        if row_hash(row, prev) != row.hash:
            return verdict(Problem("edited", row.id, row.seq, row.at, "its content no longer matches its hash"))
        before[row.hash] = row.seq
        if len(before) > 4:
            before.pop(next(iter(before)))
        seq, prev, prev_id, prev_at, done = row.seq, row.hash, row.id, row.at, done + 1
        if progress and done % 5000 == 0:
            progress("verify", done, total)
    if seq < head_seq:
        missing = f"seq {seq + 1}" if seq + 1 == head_seq else f"seq {seq + 1}–{head_seq}"
        return verdict(Problem("deleted", None, None, None, f"the last row(s) of the chain are missing ({missing}): "
                               f"the head says {head_seq}"))
    if prev != head_hash:
        return verdict(Problem("edited", prev_id, seq, None, f"the last row's hash is not the head's ({head_hash})"))
    # rows outside the chain: a place beyond the head (read after them: a commit moves both), or none at all
    beyond = sess.execute(sa.select(AuditEntry.id, AuditEntry.seq, AuditEntry.at).where(
        sa.or_(AuditEntry.seq.is_(None), AuditEntry.seq > head_seq)).order_by(AuditEntry.id)).all()
    now_seq = _head(sess)[0]
    for row in beyond:
        if row.seq is None or row.seq > now_seq:
            return verdict(Problem("inserted", row.id, row.seq, row.at, "it has no place in the chain" if row.seq is None
                                   else f"its place is beyond the chain's head ({now_seq})"))
    return verdict(None)


# ---- pruning -------------------------------------------------------------------------------------------
@dataclass
class Pruned:
    rows: int
    checkpoint: AuditCheckpoint | None
    cutoff: datetime


def prune(sess: so.Session, days: int, progress: Progress | None = None, now: datetime | None = None) -> Pruned:
    """Delete the rows older than ``days`` (at least the minimum) that come before every newer row, after
    verifying the chain; leave a signed checkpoint at the last one. The caller commits."""
    days = retention_days(days)
    cutoff = (now or utcnow()) - timedelta(days=days)
    verdict = verify(sess, progress)
    if not verdict.ok:
        raise ChainBroken(verdict.problem)
    start = verdict.checkpoint.seq if verdict.checkpoint else 0
    first_kept = sess.scalar(sa.select(sa.func.min(AuditEntry.seq)).where(AuditEntry.at >= cutoff))
    last = sess.scalar(sa.select(sa.func.max(AuditEntry.seq)).where(
        AuditEntry.at < cutoff, AuditEntry.seq <= verdict.head_seq,
        *(() if first_kept is None else (AuditEntry.seq < first_kept,))))
    if last is None or last <= start:
        return Pruned(0, None, cutoff)
    last_hash = sess.scalar(sa.select(AuditEntry.hash).where(AuditEntry.seq == last))
    gone = sess.execute(sa.delete(AuditEntry).where(AuditEntry.seq <= last),
                        execution_options={"synchronize_session": False}).rowcount
    made = utcnow()
    kid, signature = _sign({"seq": last, "hash": last_hash, "pruned": gone,
                            "before": cutoff.isoformat(timespec="seconds") + "Z",
                            "at": made.isoformat(timespec="seconds") + "Z"})
    cp = AuditCheckpoint(seq=last, hash=last_hash, pruned=gone, created_at=made, kid=kid, signature=signature)
    sess.add(cp)
    from foundation.audit import record  # the prune itself: the first row after the checkpoint's

    record("audit.prune", "audit_log", None, detail={"rows": gone, "checkpoint_seq": last, "keep_days": days})
    sess.flush()
    return Pruned(gone, cp, cutoff)


class ChainBroken(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem
