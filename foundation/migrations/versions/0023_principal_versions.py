"""a version counter per account that role changes bump, for the principal cache (issue 20)

``principal_versions`` (account id → version; row 0 for everyone) and the triggers that bump it on every
write that changes what an account may do: the account's own row, its memberships, a guardian's links, the
classes under a unit where a role is held, the plugins enabled in a school. PostgreSQL bumps once per
statement (transition tables: a bulk load of 150,000 guardian links is one join); SQLite once per row.

Revision ID: 0023_principal_versions
Revises: 0022_ingest_partitions
Create Date: 2026-12-06 08:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0023_principal_versions'
down_revision = '0022_ingest_partitions'
branch_labels = None
depends_on = None

# table -> (SQL selecting the account ids a changed row touches, from a relation "r"; columns that matter
# on UPDATE). {r} is the transition table (PostgreSQL) or a one-row SELECT of NEW/OLD (SQLite).
GUARDIANS = "SELECT a.id FROM accounts a WHERE a.person_kind = 'guardian' AND a.person_id IN (SELECT guardian_id FROM {r})"
HOLDERS = ("SELECT m.account_id FROM memberships m WHERE m.org_unit_id IN "
           "(SELECT id FROM {r} UNION SELECT parent_id FROM {r})")
WATCH = {
    "accounts": ("SELECT id FROM {r}", ("active", "username", "display_name", "person_kind", "person_id")),
    "memberships": ("SELECT account_id FROM {r}", ("account_id", "role", "org_unit_id", "school_id")),
    "guardian_links": (GUARDIANS, ("guardian_id", "student_id")),
    "org_units": (HOLDERS, ("parent_id", "kind", "school_id")),
    "plugin_installs": ("SELECT 0", ("plugin", "school_id", "enabled")),
}
PG_BUMP = """
CREATE FUNCTION jizuo_bump_principals(ids bigint[]) RETURNS void LANGUAGE sql AS $$
  INSERT INTO principal_versions (account_id, version)
  SELECT DISTINCT x, 1 FROM unnest(ids) AS x WHERE x IS NOT NULL ORDER BY x
  ON CONFLICT (account_id) DO UPDATE SET version = principal_versions.version + 1
$$"""


def _pg(table: str, select: str, columns: tuple[str, ...]) -> list[str]:
    changed = " OR ".join(f"n.{c} IS DISTINCT FROM o.{c}" for c in columns)
    key = "id"
    fn = f"jizuo_pv_{table}"
    body = f"""
CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM jizuo_bump_principals(ARRAY({select.format(r='new_rows')})::bigint[]);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM jizuo_bump_principals(ARRAY({select.format(r='old_rows')})::bigint[]);
  ELSE
    PERFORM jizuo_bump_principals(ARRAY(
      {select.format(r=f'(SELECT n.* FROM new_rows n JOIN old_rows o ON o.{key} = n.{key} WHERE {changed}) c')}
      UNION {select.format(r=f'(SELECT o.* FROM new_rows n JOIN old_rows o ON o.{key} = n.{key} WHERE {changed}) c')})::bigint[]);
  END IF;
  RETURN NULL;
END $$"""
    out = [body]
    for op_, ref in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                     ("UPDATE", "NEW TABLE AS new_rows OLD TABLE AS old_rows")):
        out.append(f"CREATE TRIGGER {fn}_{op_.lower()} AFTER {op_} ON {table} REFERENCING {ref} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()")
    return out


def _sqlite(table: str, select: str, columns: tuple[str, ...]) -> list[str]:
    cols = ", ".join(columns)

    def row(alias: str) -> str:  # the changed row as a one-row relation, for the shared SELECTs
        names = ["id"] + [c for c in columns if c != "id"]
        return "(SELECT " + ", ".join(f"{alias}.{c} AS {c}" for c in names) + ")"

    def bump(alias: str) -> str:
        ids = select.format(r=row(alias))
        return (f"INSERT OR IGNORE INTO principal_versions (account_id, version) SELECT t.*, 0 FROM ({ids}) AS t; "
                f"UPDATE principal_versions SET version = version + 1 "
                f"WHERE account_id IN ({ids});")

    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in columns)
    name = f"jizuo_pv_{table}"
    return [
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {bump('NEW')} END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {bump('OLD')} END",
        f"CREATE TRIGGER {name}_update AFTER UPDATE OF {cols} ON {table} WHEN {changed} "
        f"BEGIN {bump('NEW')} {bump('OLD')} END",
    ]


def upgrade() -> None:
    op.create_table(
        'principal_versions',
        sa.Column('account_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.PrimaryKeyConstraint('account_id', name=op.f('pk_principal_versions')),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_BUMP)
    for table, (select, columns) in WATCH.items():
        for sql in (_pg if dialect == "postgresql" else _sqlite)(table, select, columns):
            op.execute(sql)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in WATCH:
        if dialect == "postgresql":
            for op_ in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS jizuo_pv_{table}_{op_} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS jizuo_pv_{table}()")
        else:
            for op_ in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS jizuo_pv_{table}_{op_}")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS jizuo_bump_principals(bigint[])")
    op.drop_table('principal_versions')
