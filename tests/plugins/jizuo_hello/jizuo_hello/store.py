"""The plugin's tables (SQLAlchemy Core, its own MetaData) and the statements on them. The core's tenancy
listener scopes ORM entities only, so every statement here names its school explicitly."""
from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from foundation import plugin_api as db

metadata = sa.MetaData()
greetings = sa.Table(
    "hello_greetings", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("school_id", sa.Integer, nullable=False),
    sa.Column("author_account_id", sa.Integer),
    sa.Column("text", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
)
late_counts = sa.Table(
    "hello_late_counts", metadata,
    sa.Column("school_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("count", sa.Integer, nullable=False),
)


def list_greetings(school_id: int, limit: int = 100) -> list[dict]:
    rows = db.session().execute(sa.select(greetings).where(greetings.c.school_id == school_id)
                                .order_by(greetings.c.id).limit(limit))
    return [dict(r._mapping) for r in rows]


def count_today(school_id: int, author_account_id: int | None) -> int:
    since = db.utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    return db.session().scalar(sa.select(sa.func.count()).select_from(greetings).where(
        greetings.c.school_id == school_id, greetings.c.author_account_id == author_account_id,
        greetings.c.created_at >= since)) or 0


def add_greeting(school_id: int, author_account_id: int | None, text: str) -> dict:
    row = {"school_id": school_id, "author_account_id": author_account_id, "text": text,
           "created_at": db.utcnow()}
    new_id = db.session().execute(sa.insert(greetings).values(row).returning(greetings.c.id)).scalar_one()
    return {"id": new_id, **row}


def add_late(payloads: list[dict]) -> None:
    """One ``attendance.late`` batch: count the records per school (an upsert, safe under concurrency)."""
    sess = db.session()
    dialect = postgresql if sess.get_bind().dialect.name == "postgresql" else sqlite
    for school_id, n in Counter(p["school_id"] for p in payloads).items():
        stmt = dialect.insert(late_counts).values(school_id=school_id, count=n)
        sess.execute(stmt.on_conflict_do_update(index_elements=["school_id"],
                                                set_={"count": late_counts.c.count + n}))


def purge(school_id: int) -> None:
    sess = db.session()
    for table in (greetings, late_counts):
        sess.execute(sa.delete(table).where(table.c.school_id == school_id))
