"""a version counter per account that role changes bump, for the principal cache; the audit chain's
append in one round trip on PostgreSQL (issue 20)

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


# The audit chain's append in one round trip (foundation/audit.py): the rows' canonical JSON comes split around
# "prev" and "seq" (a || prev || b || seq || c); the function locks the head, hashes each row with the one
# before, inserts them all and moves the head. The hash is the one foundation/models/audit.py row_hash() gives.
PG_AUDIT = """
CREATE FUNCTION jizuo_audit_append(a text[], b text[], c text[], at_ timestamp[], account_ids integer[],
    usernames text[], actions text[], resource_types text[], resource_ids text[], school_ids integer[],
    endpoints text[], ips text[], details text[], reads_only_relaxed boolean DEFAULT false) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
  n integer := cardinality(a);
  first bigint;
  prev text;
  h text;
  prevs text[] := '{}';
  hashes text[] := '{}';
BEGIN
  -- opted in (AUDIT_ASYNC_READ_COMMIT) and the transaction changed nothing else: its commit need not wait for the
  -- disk (a crash of the database server may lose the last fraction of a second of read rows; never a change's)
  IF reads_only_relaxed AND txid_current_if_assigned() IS NULL THEN
    PERFORM set_config('synchronous_commit', 'off', true);
  END IF;
  UPDATE audit_chain SET seq = seq + n WHERE id = 1 RETURNING seq - n, hash INTO first, prev;
  IF NOT FOUND THEN
    INSERT INTO audit_chain (id, seq, hash) VALUES (1, n, repeat('0', 64));
    first := 0;
    prev := repeat('0', 64);
  END IF;
  FOR i IN 1..n LOOP
    prevs := prevs || prev;
    h := encode(sha256(convert_to(a[i] || prev || b[i] || (first + i)::text || c[i], 'UTF8')), 'hex');
    hashes := hashes || h;
    prev := h;
  END LOOP;
  INSERT INTO audit_log (at, account_id, username, action, resource_type, resource_id, school_id, endpoint, ip,
                         detail, seq, prev_hash, hash)
  SELECT r.at, r.account_id, r.username, r.action, r.resource_type, r.resource_id, r.school_id, r.endpoint, r.ip,
         r.detail::json, first + r.k, r.prev, r.hash
  FROM unnest(at_, account_ids, usernames, actions, resource_types, resource_ids, school_ids, endpoints, ips,
              details, prevs, hashes) WITH ORDINALITY
       AS r(at, account_id, username, action, resource_type, resource_id, school_id, endpoint, ip, detail, prev,
            hash, k);
  UPDATE audit_chain SET hash = prev WHERE id = 1;
  RETURN first + n;
END $$"""


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
        op.execute(PG_AUDIT)
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
        op.execute("DROP FUNCTION IF EXISTS jizuo_audit_append(text[], text[], text[], timestamp[], integer[], text[], "
                   "text[], text[], text[], integer[], text[], text[], text[], boolean)")
    op.drop_table('principal_versions')
