"""integrity: the ledger append-only in the database; one vocabulary of entry kinds; the name on a certificate

- ledger_entries: a check constraint on `kind` (the kinds of storage.models.LedgerKind), and triggers that refuse
  every UPDATE and DELETE of a row (and, on PostgreSQL, a TRUNCATE of the table).
- certificates.volunteer_name: the name the certificate was issued to (filled for existing certificates with the
  volunteer's name of today, the best there is).

On SQLite, a later migration that rebuilds ledger_entries (batch_alter_table with a table copy) drops the table's
triggers with the old table: it must create them again (the statements are below).

Revision ID: 0005_integrity
Revises: 0004_ledger
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_integrity"
down_revision = "0004_ledger"
branch_labels = None
depends_on = None

KINDS = ("service", "reversal", "correction", "redeem", "refund")  # storage.models.LedgerKind, as of this revision
MESSAGE = "ledger is append-only"

SQLITE_UP = [
    f"CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger_entries BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS ledger_no_delete", "DROP TRIGGER IF EXISTS ledger_no_update"]

POSTGRESQL_UP = [
    # restrict_violation (23001): drivers report it as an integrity error, as SQLite's RAISE(ABORT) is.
    f"""CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
END
$$""",
    (
        "CREATE TRIGGER ledger_no_update_or_delete BEFORE UPDATE OR DELETE ON ledger_entries "
        "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()"
    ),
    (
        "CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger_entries "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()"
    ),
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS ledger_no_truncate ON ledger_entries",
    "DROP TRIGGER IF EXISTS ledger_no_update_or_delete ON ledger_entries",
    "DROP FUNCTION IF EXISTS ledger_append_only()",
]


def upgrade() -> None:
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("volunteer_name", sa.String(length=32), server_default="", nullable=False))
    op.execute(
        "UPDATE certificates SET volunteer_name = COALESCE("
        "(SELECT volunteers.name FROM volunteers WHERE volunteers.user_id = certificates.volunteer_id), '')"
    )
    # Before the triggers: on SQLite adding a check constraint copies the table.
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_check_constraint("ck_ledger_kind", "kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")")
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == "sqlite" else POSTGRESQL_UP if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRESQL_DOWN if dialect == "postgresql" else []:
        op.execute(statement)
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint("ck_ledger_kind", type_="check")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_column("volunteer_name")
