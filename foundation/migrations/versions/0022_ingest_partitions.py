"""records partitioned by month on PostgreSQL, loaded through a COPY staging table (issue 20)

On PostgreSQL ``records`` becomes a table partitioned by range of ``occurred_at`` (months, UTC): one partition
per month that holds rows (the last five years), this month and the next three, and ``records_default`` for
the rest. The rows are copied over, ids and the id sequence kept. The origin key gains ``occurred_at`` (a
partitioned table's unique keys hold the partition key); ids stay unique through their one sequence, with an
index. The school foreign key goes, as on the change feed: the ingest service resolves schools from those
the writer may reach, and the per-row check was a quarter of a bulk load's time. On SQLite nothing changes.

Revision ID: 0022_ingest_partitions
Revises: 0021_followups
Create Date: 2026-12-06 08:30:00
"""
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision = '0022_ingest_partitions'
down_revision = '0021_followups'
branch_labels = None
depends_on = None

COLUMNS = ("id, library, library_version, source, source_id, subject_kind, subject_id, occurred_at, data, "
           "created_at, updated_at, deleted_at, school_id")
BODY = """(
    id bigint NOT NULL DEFAULT nextval('records_id_seq'),
    library varchar(40) NOT NULL,
    library_version varchar(16) NOT NULL,
    source varchar(40) NOT NULL,
    source_id varchar(128) NOT NULL,
    subject_kind varchar(16),
    subject_id integer,
    occurred_at timestamp,
    data json NOT NULL,
    created_at timestamp NOT NULL,
    updated_at timestamp,
    deleted_at timestamp,
    school_id integer)"""
AHEAD, BACK = 3, 60


def _add(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def _rename_old() -> None:
    op.execute("ALTER TABLE records RENAME TO records_old")
    op.execute("ALTER TABLE records_old RENAME CONSTRAINT pk_records TO pk_records_old")
    op.execute("ALTER TABLE records_old RENAME CONSTRAINT uq_records_origin TO uq_records_origin_old")
    op.execute("ALTER INDEX ix_records_lib_school_time RENAME TO ix_records_lib_school_time_old")
    op.execute("ALTER INDEX ix_records_subject RENAME TO ix_records_subject_old")
    op.execute("DROP INDEX IF EXISTS ix_records_school_id")
    op.execute("ALTER SEQUENCE records_id_seq OWNED BY NONE")  # dropping the old table must not drop it


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _rename_old()
    op.execute(f"CREATE TABLE records {BODY} PARTITION BY RANGE (occurred_at)")
    op.execute("ALTER SEQUENCE records_id_seq OWNED BY records.id")
    op.execute("CREATE TABLE records_default PARTITION OF records DEFAULT")
    this = datetime.now(UTC).date().replace(day=1)
    months = {_add(this, n) for n in range(AHEAD + 1)}
    months |= set(bind.scalars(sa.text(
        "SELECT DISTINCT date_trunc('month', occurred_at)::date FROM records_old "
        "WHERE occurred_at >= :lo AND occurred_at < :hi"), {"lo": _add(this, -BACK), "hi": _add(this, AHEAD + 1)}))
    for m in sorted(months):
        op.execute(f"CREATE TABLE records_p{m:%Y%m} PARTITION OF records "
                   f"FOR VALUES FROM ('{m.isoformat()}') TO ('{_add(m, 1).isoformat()}')")
    op.execute(f"INSERT INTO records ({COLUMNS}) SELECT {COLUMNS} FROM records_old")
    op.execute("DROP TABLE records_old")
    op.execute("ALTER TABLE records ADD CONSTRAINT uq_records_origin UNIQUE (library, source, source_id, occurred_at)")
    op.execute("CREATE INDEX ix_records_id ON records (id)")
    op.execute("CREATE INDEX ix_records_lib_school_time ON records (library, school_id, occurred_at)")
    op.execute("CREATE INDEX ix_records_subject ON records (subject_id, library)")
    op.execute("ANALYZE records")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE records RENAME TO records_parted")
    op.execute("ALTER TABLE records_parted RENAME CONSTRAINT uq_records_origin TO uq_records_origin_parted")
    for name in ("ix_records_id", "ix_records_lib_school_time", "ix_records_subject"):
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_parted")
    op.execute("ALTER SEQUENCE records_id_seq OWNED BY NONE")
    op.execute(f"CREATE TABLE records {BODY}")
    op.execute("ALTER SEQUENCE records_id_seq OWNED BY records.id")
    op.execute(f"INSERT INTO records ({COLUMNS}) SELECT {COLUMNS} FROM records_parted")
    op.execute("DROP TABLE records_parted")  # its partitions go with it
    op.execute("ALTER TABLE records ADD CONSTRAINT pk_records PRIMARY KEY (id)")
    op.execute("ALTER TABLE records ADD CONSTRAINT uq_records_origin UNIQUE (library, source, source_id)")
    op.execute("ALTER TABLE records ADD CONSTRAINT fk_records_school_id_org_units "
               "FOREIGN KEY (school_id) REFERENCES org_units (id)")
    op.execute("CREATE INDEX ix_records_lib_school_time ON records (library, school_id, occurred_at)")
    op.execute("CREATE INDEX ix_records_subject ON records (subject_id, library)")
